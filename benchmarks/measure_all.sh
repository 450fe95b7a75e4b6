#!/bin/bash
# Every benchmark at the scale benchmarks/README.md quotes, one after another, at one commit,
# with nothing else running (about 36 minutes on the project's 2-core machine, plus the
# first-time simulation of the 1M client folder and the 100M-order DuckDB file). Each
# script's output goes to $LOG/<name>.log; $LOG/campaign.txt has the commit, the times and
# the load average before and after each. The peers and baselines it compares with:
#   REPORT_BASE   git worktree of a608464 (HEAD when issue 18 was filed)
#   FUNNEL_BASE   git worktree of 5c01d26 (before the funnel package, issue 17)
#   LIFETIMES_PY  python of a venv with lifetimes 0.11.3 (see results/clv.md)
#   PYMC_PY       python of a venv with pymc-marketing (see results/clv.md)
#   WORK          folder for the simulated data (about 5 GB)
set -u
WORK=${WORK:-/var/tmp/llb}
REPORT_BASE=${REPORT_BASE:-$WORK/base-a608464}
FUNNEL_BASE=${FUNNEL_BASE:-$WORK/wt_funnel}
LIFETIMES_PY=${LIFETIMES_PY:-/tmp/lifetimes-venv/bin/python}
PYMC_PY=${PYMC_PY:-/tmp/pymc-venv/bin/python}
cd "$(dirname "$0")/.."
PY=.venv/bin/python
export MPLBACKEND=Agg
LOG=${LOG:-/tmp/loyaltylab-bench-logs}
mkdir -p $LOG
echo "commit $(git rev-parse --short HEAD) $(date -u +%FT%TZ) status: $(git status --short | wc -l) changed files" > $LOG/campaign.txt
run() {
  name=$1; shift
  echo "== $name start $(date -u +%T) load $(cut -d' ' -f1-3 /proc/loadavg)" >> $LOG/campaign.txt
  s=$(date +%s)
  "$@" > $LOG/$name.log 2>&1
  rc=$?
  echo "== $name end $(date -u +%T) rc $rc $(( $(date +%s) - s )) s load $(cut -d' ' -f1-3 /proc/loadavg)" >> $LOG/campaign.txt
}
run load10m $PY -u benchmarks/bench_load.py --rows 10000000 --repeats 3
run load2m $PY -u benchmarks/bench_load.py --rows 2000000 --repeats 3
run make_crm $PY -u benchmarks/bench_make_crm.py --customers 1000000 --repeats 3
run metrics $PY -u benchmarks/bench_metrics.py --customers 1000000 --orders 10000000 --contacts 20000000 --repeats 3
run metrics_new $PY -u benchmarks/bench_metrics.py --customers 1000000 --orders 10000000 --contacts 20000000 --only new
run funnel $PY -u benchmarks/bench_funnel.py --customers 1000000 --events 20000000 --repeats 3
run funnel_split $PY -u benchmarks/bench_funnel.py --baseline "$FUNNEL_BASE" --repeats 3
run churn $PY -u benchmarks/bench_churn.py --customers 1000000 --repeats 5
run clv $PY -u benchmarks/bench_clv.py --transactions 1000000 10000000 --customers 1000000 --repeats 3 --lifetimes-python "$LIFETIMES_PY"
run clv_cov $PY -u benchmarks/bench_clv_covariates.py --customers 1000000 --repeats 3 --continuous
run clv_pymc $PY -u benchmarks/bench_clv_pymc.py --pymc-python "$PYMC_PY" --customers 100000 1000000
run exports $PY -u benchmarks/bench_exports.py --n 100 --repeats 3
run report_export $PY -u benchmarks/bench_report_export.py --charts 20 --repeats 3
run warehouse $PY -u benchmarks/bench_warehouse.py --orders 5000000 --customers 500000 --repeats 3
run report $PY -u benchmarks/bench_report.py --folder "$WORK/report1m" --repeats 2 --baseline "$REPORT_BASE"
run warehouse_report nice -n 10 $PY -u benchmarks/bench_warehouse_report.py --orders 100000000 --chunk 500000 --memory-limit 8GB --folder "$WORK"
run warehouse_report_parquet nice -n 10 $PY -u benchmarks/bench_warehouse_report.py --orders 100000000 --chunk 500000 --memory-limit 8GB --folder "$WORK" --parquet
echo "done $(date -u +%T)" >> $LOG/campaign.txt
