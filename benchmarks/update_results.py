"""Put the output of a measure_all.sh sequence at the top of each benchmarks/results file.

Usage: .venv/bin/python benchmarks/update_results.py [LOG_FOLDER]

LOG_FOLDER is measure_all.sh's $LOG (default /tmp/loyaltylab-bench-logs). A section written
by an earlier run of this script is replaced; the older history stays below it.
Then edit benchmarks/README.md by hand from the same logs.
"""
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
LOG = Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/loyaltylab-bench-logs")
RES = HERE / "results"
camp = (LOG / "campaign.txt").read_text().splitlines()
commit = camp[0].split()[1]
cmds = {}
defaults = {"PY": ".venv/bin/python"}  # measure_all.sh's VAR=${VAR:-default} lines
for line in (HERE / "measure_all.sh").read_text().splitlines():
    m = re.fullmatch(r"(\w+)=\$\{\w+:-(.*)\}", line)
    if m:
        defaults[m[1]] = re.sub(r"\$(\w+)", lambda v: defaults[v[1]], m[2])
    if line.startswith("run "):
        name, *rest = line.split()[1:]
        cmd = re.sub(r"\$(\w+)", lambda v: defaults[v[1]], " ".join(rest))
        cmds[name] = cmd.replace("\"", "")  # no value holds a space
names_run = {row.split()[1] for row in camp if row.startswith("== ")}


def times(name):
    """When the script ran, its exit code and the load before and after."""
    s = next(row for row in camp if row.startswith(f"== {name} start")).split()
    e = next(row for row in camp if row.startswith(f"== {name} end")).split()
    return (f"{s[3]}-{e[3]} UTC, exit {e[5]}, {e[6]} s; load average (1, 5, 15 min) "
            f"{' '.join(s[5:8])} before, {' '.join(e[9:12])} after")


FILES = {"load.md": ["load10m", "load2m"], "datasets.md": ["make_crm"],
         "metrics.md": ["metrics", "metrics_new"], "funnel.md": ["funnel", "funnel_split"],
         "churn.md": ["churn"], "clv.md": ["clv", "clv_pymc"], "clv_covariates.md": ["clv_cov"],
         "exports.md": ["exports"], "report_export.md": ["report_export"],
         "warehouse.md": ["warehouse"], "report.md": ["report"],
         "warehouse_report.md": ["warehouse_report", "warehouse_report_parquet"]}
notes = {"funnel_split": "Baseline: commit 5c01d26 (before the funnel package, issue 17), "
                         "a git worktree at /var/tmp/llb/wt_funnel.",
         "report": "Baseline: commit a608464 (HEAD when issue 18 was filed), a git worktree at "
                   "/var/tmp/llb/base-a608464; the client folder /var/tmp/llb/report1m "
                   "(1M customers, 10,698,962 orders, 38.4M rows) was simulated earlier the "
                   "same day by the same write_sample call the script makes (14 s).",
         "clv": "lifetimes 0.11.3 in a throwaway venv (/tmp/lifetimes-venv, as below).",
         "clv_pymc": "PyMC-Marketing 0.19.2 in a throwaway venv (/tmp/pymc-venv).",
         "warehouse_report": "The DuckDB file (103,083,114 orders of 15.5M customers, no "
                             "contacts) was built earlier the same day by the same script "
                             "and reused."}
for fname, names in FILES.items():
    p = RES / fname
    text = p.read_text()
    title, rest = text.split("\n", 1)
    if "<!-- final-campaign -->" in rest:  # replace a previous insertion
        rest = rest.split("<!-- /final-campaign -->\n", 1)[1].lstrip("\n")
        if rest.startswith("## Earlier measurements\n"):
            rest = rest[len("## Earlier measurements\n"):]
    sec = ["<!-- final-campaign -->", "",
           f"## {camp[0].split()[2][:10]}, commit {commit}: every figure re-measured", "",
           "All benchmark scripts were run one after another at this commit on the "
           "project's 2-core machine (23 GB), with nothing else running; the load average "
           "before and after each is given. `benchmarks/README.md` quotes these figures.", ""]
    for n in [n for n in names if n in names_run]:
        sec += [f"`{cmds[n]}`", "", f"{times(n)}." + (" " + notes[n] if n in notes else ""),
                "", "```text", (LOG / f"{n}.log").read_text().rstrip(), "```", ""]
    sec += ["The sections below are earlier measurements (other days, commits and machine "
            "loads), kept as history; they are not current figures.", "",
            "<!-- /final-campaign -->", "", "## Earlier measurements", "", ""]
    p.write_text(title + "\n\n" + "\n".join(sec) + rest.lstrip("\n"))
    print("updated", fname)
