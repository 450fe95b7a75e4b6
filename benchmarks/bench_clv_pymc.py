"""Benchmark loyaltylab's BG/NBD fit against PyMC-Marketing's ``BetaGeoModel`` fitted by MAP.

Usage::

    .venv/bin/python benchmarks/bench_clv_pymc.py --pymc-python /tmp/pymc-venv/bin/python
        [--customers 100000 1000000] [--skip-cdnow] [--continuous]

PyMC-Marketing is not a project dependency. It runs in a throwaway virtual environment
(``python3.11 -m venv /tmp/pymc-venv && /tmp/pymc-venv/bin/pip install pymc-marketing
polars``) called in a subprocess; the frequency/recency/T data are shared as a CSV file.

For each data set it prints, side by side, loyaltylab ``BetaGeo().fit`` (maximum
likelihood) and PyMC-Marketing ``BetaGeoModel(...).fit(data=..., method="map")`` twice:

- ``default priors``: the package's own ``default_model_config`` (in 0.19.2: r ~
  Weibull(2, 1), alpha ~ Weibull(2, 10), a = phi * kappa, b = (1 - phi) * kappa with
  phi ~ Uniform(0, 1), kappa ~ Pareto(1, 1)), so the MAP is a penalised estimate;
- ``flat priors``: r, alpha, a, b all ``HalfFlat``. ``pm.find_MAP`` maximises the log
  density without the log-transform Jacobian, so this MAP is the maximum-likelihood
  estimate and should agree with loyaltylab and lifetimes.

PyMC-Marketing's time is the whole ``fit`` call (building the PyMC model, compiling the
PyTensor log density and gradient, L-BFGS-B); the compile part is also timed on its own.
loyaltylab's time includes its Hessian for standard errors.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import polars as pl

from loyaltylab.clv import BetaGeo
from loyaltylab.clv._simulate import simulate_bgnbd

PUBLISHED = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
CDNOW = Path(__file__).resolve().parents[1] / "data" / "cdnow" / "cdnow_customers_summary.csv"

PYMC_FIT = r"""
import json, sys, time, warnings
warnings.filterwarnings("ignore")
import numpy as np, pandas as pd
import pymc_marketing
from pymc_extras.prior import Prior
from pymc_marketing.clv import BetaGeoModel
d = pd.read_csv(sys.argv[1])
data = pd.DataFrame({"customer_id": np.arange(len(d)), "frequency": d["frequency"],
                     "recency": d["recency"], "T": d["T"]})
out = {"version": pymc_marketing.__version__}
configs = {"default priors": None,
           "flat priors": {"r": Prior("HalfFlat"), "alpha": Prior("HalfFlat"),
                           "a": Prior("HalfFlat"), "b": Prior("HalfFlat")}}
for name, cfg in configs.items():
    m = BetaGeoModel(model_config=cfg)
    t0 = time.perf_counter()
    m.build_model(data=data)
    t1 = time.perf_counter()
    m.model.compile_logp(jacobian=False); m.model.compile_dlogp(jacobian=False)
    t2 = time.perf_counter()
    m2 = BetaGeoModel(model_config=cfg)
    t3 = time.perf_counter()
    m2.fit(data=data, method="map", progressbar=False)
    t4 = time.perf_counter()
    post = m2.idata.posterior
    out[name] = {"fit_s": t4 - t3, "build_s": t1 - t0, "compile_s": t2 - t1,
                 "params": {k: float(post[k].values.ravel()[0]) for k in ("r", "alpha", "a", "b")}}
print(json.dumps(out))
"""


def run_pymc(python: str, csv: Path) -> dict:
    p = subprocess.run([python, "-c", PYMC_FIT, str(csv)], capture_output=True, text=True,
                       timeout=3600)
    try:
        return json.loads(p.stdout.strip().splitlines()[-1])
    except Exception:  # noqa: BLE001 - show what went wrong
        raise RuntimeError(f"PyMC-Marketing run failed (rc {p.returncode}):\n"
                           f"{p.stderr[-2000:]}") from None


def fmt(params: dict) -> str:
    return ", ".join(f"{k} {params[k]:.4f}" for k in ("r", "alpha", "a", "b"))


def compare(label: str, rfm: pl.DataFrame, python: str, folder: Path) -> None:
    csv = folder / "rfm.csv"
    rfm.select("frequency", "recency", "T").write_csv(csv)
    t = time.perf_counter()
    m = BetaGeo().fit(rfm)
    t_ll = time.perf_counter() - t
    pm_out = run_pymc(python, csv)
    print(f"\n== {label}: {rfm.height:,} customers (PyMC-Marketing {pm_out['version']})")
    print(f"{'fit':<32}{'time':>9}   parameters")
    print(f"{'published (Fader et al. 2005)':<32}{'':>9}   {fmt(PUBLISHED)}")
    print(f"{'loyaltylab BetaGeo (MLE)':<32}{t_ll:>8.2f}s   {fmt(m.params_)}")
    for name in ("default priors", "flat priors"):
        o = pm_out[name]
        print(f"{'PyMC-Mkt MAP, ' + name:<32}{o['fit_s']:>8.2f}s   {fmt(o['params'])}"
              f"   (build {o['build_s']:.2f}s, compile logp+dlogp {o['compile_s']:.2f}s)")
    print(json.dumps({"data": label, "customers": rfm.height, "loyaltylab_s": t_ll,
                      "loyaltylab": m.params_, "pymc": pm_out}), flush=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pymc-python", required=True)
    ap.add_argument("--customers", type=int, nargs="*", default=[100_000])
    ap.add_argument("--skip-cdnow", action="store_true")
    ap.add_argument("--continuous", action="store_true",
                    help="simulate continuous times (no identical customers to compress) "
                         "instead of times rounded to days")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        if not args.skip_cdnow:
            compare("CDNOW summary", pl.read_csv(CDNOW), args.pymc_python, folder)
        for n in args.customers:
            d = simulate_bgnbd(n, seed=3, resolution=None if args.continuous else 1 / 7,
                               **PUBLISHED)
            times = "continuous" if args.continuous else "day-rounded weeks"
            compare(f"simulated (seed 3, {times}), true = published", d,
                    args.pymc_python, folder)


if __name__ == "__main__":
    sys.exit(main())
