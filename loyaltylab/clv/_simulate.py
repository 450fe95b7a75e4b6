"""Draw frequency/recency/T data from the BG/NBD and Pareto/NBD models, and renewal histories
from the sBG model (tests, benchmarks). Scale and shape arguments may be per-customer arrays
of length n (customers with covariates)."""

from __future__ import annotations

import numpy as np
import polars as pl

from loyaltylab.clv._rfm import FREQUENCY, RECENCY, T

__all__ = ["simulate_bgnbd", "simulate_pareto_nbd", "simulate_sbg"]


def _T(n: int, rng: np.random.Generator, T_max: float, acquisition: float,
       resolution: float | None) -> np.ndarray:
    tt = T_max - rng.uniform(0.0, acquisition, n)
    return np.floor(tt / resolution) * resolution if resolution else tt


def _frame(x: np.ndarray, tx: np.ndarray, tt: np.ndarray,
           resolution: float | None) -> pl.DataFrame:
    if resolution:
        tx = np.minimum(np.floor(tx / resolution) * resolution, tt)
    return pl.DataFrame({"customer_id": np.arange(x.size).astype(str),
                         FREQUENCY: x.astype(np.int64),
                         RECENCY: np.where(x > 0, tx, 0.0), T: tt})


def simulate_bgnbd(n: int, *, r: float, alpha: float, a: float, b: float, T_max: float = 39.0,
                   acquisition: float = 12.0, resolution: float | None = None,
                   seed: int = 0) -> pl.DataFrame:
    """Customers drawn from the BG/NBD model; T uniform on [T_max - acquisition, T_max],
    times optionally rounded down to ``resolution`` (e.g. 1/7: days in weeks)."""
    rng = np.random.default_rng(seed)
    lam = rng.gamma(r, 1.0 / alpha, n)
    p = rng.beta(a, b, n)
    tt = _T(n, rng, T_max, acquisition, resolution)
    x = np.zeros(n)
    tx = np.zeros(n)
    t = np.zeros(n)
    active = np.flatnonzero(lam > 0)
    while active.size:
        t_next = t[active] + rng.exponential(1.0, active.size) / lam[active]
        ok = t_next <= tt[active]
        idx = active[ok]
        x[idx] += 1
        tx[idx] = t_next[ok]
        t[idx] = t_next[ok]
        alive = rng.uniform(size=idx.size) >= p[idx]
        active = idx[alive]
    return _frame(x, tx, tt, resolution)


def simulate_pareto_nbd(n: int, *, r: float, alpha: float, s: float, beta: float,
                        T_max: float = 39.0, acquisition: float = 12.0,
                        resolution: float | None = None, seed: int = 0) -> pl.DataFrame:
    """Customers drawn from the Pareto/NBD model (see :func:`simulate_bgnbd`)."""
    rng = np.random.default_rng(seed)
    lam = rng.gamma(r, 1.0 / alpha, n)
    mu = rng.gamma(s, 1.0 / beta, n)
    tt = _T(n, rng, T_max, acquisition, resolution)
    life = np.minimum(rng.exponential(1.0, n) / mu, tt)
    x = rng.poisson(lam * life).astype(float)
    with np.errstate(divide="ignore"):
        tx = np.where(x > 0, life * rng.uniform(size=n) ** (1.0 / np.maximum(x, 1)), 0.0)
    return _frame(x, tx, tt, resolution)


def simulate_sbg(n: int, *, alpha: float | np.ndarray, beta: float | np.ndarray,
                 periods: int = 8, seed: int = 0) -> pl.DataFrame:
    """Customers drawn from the sBG model, observed for ``periods`` periods: churn
    probability theta ~ Beta(alpha, beta), churn period ~ Geometric(theta). Columns
    ``periods`` (period of churn, or ``periods`` for those still active) and ``churned``."""
    rng = np.random.default_rng(seed)
    theta = rng.beta(alpha, beta, n)
    t = rng.geometric(np.clip(theta, 1e-12, 1.0))
    churned = t <= periods
    return pl.DataFrame({"customer_id": np.arange(n).astype(str),
                         "periods": np.where(churned, t, periods).astype(np.int64),
                         "churned": churned})
