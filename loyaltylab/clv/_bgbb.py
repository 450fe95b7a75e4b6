"""The beta-geometric/beta-binomial model of discrete-time repeat buying
(:class:`BetaGeoBetaBinom`)."""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl
from scipy.special import betaln, gammaln

from loyaltylab.clv._base import BaseFitter, _arr, check_rfm
from loyaltylab.clv._rfm import FREQUENCY, PERIODS, RECENCY, WEIGHTS

__all__ = ["BetaGeoBetaBinom"]


class BetaGeoBetaBinom(BaseFitter):
    """BG/BB model for discrete repeat-purchase opportunities (Fader, Hardie & Shang 2010).

    At each opportunity an active customer buys with probability p ~ Beta(alpha, beta) and
    then becomes inactive with probability theta ~ Beta(gamma, delta).

    Fitted on ``frequency`` (repeat transactions), ``recency`` (opportunity of the last one,
    0 if none), ``periods`` (opportunities observed) and optional ``weights``.
    Attributes follow :class:`BetaGeo`; ``params_`` holds ``alpha``, ``beta``, ``gamma``,
    ``delta``.

    Parameters
    ----------
    max_iter : int, default 1000
        Iterations allowed to the optimiser.
    level : float, default 0.95
        Confidence level of ``confidence_intervals_``.
    initial_params : dict, optional
        Starting values by parameter name.
    penalizer : float, default 0
        Ridge penalty on the parameters, as in :class:`BetaGeo` (0: plain maximum
        likelihood).

    Notes
    -----
    L = B(alpha+x, beta+n-x)/B(alpha, beta) B(gamma, delta+n)/B(gamma, delta)
    + sum_{i=0}^{n-t_x-1} B(alpha+x, beta+t_x-x+i)/B(alpha, beta)
    B(gamma+1, delta+t_x+i)/B(gamma, delta), summed with ``logaddexp``.

    References
    ----------
    Fader, P. S., Hardie, B. G. S. & Shang, J. (2010). Customer-base analysis in a
    discrete-time noncontractual setting. Marketing Science 29(6), 1086-1108.

    Examples
    --------
    >>> import polars as pl
    >>> don = pl.read_csv("data/donations/donations.csv")
    >>> m = BetaGeoBetaBinom().fit(don)
    >>> {k: round(v, 3) for k, v in m.params_.items()}
    {'alpha': 1.204, 'beta': 0.75, 'gamma': 0.657, 'delta': 2.783}
    """

    _param_names = ("alpha", "beta", "gamma", "delta")
    _model_name = "BetaGeoBetaBinom"

    def fit(self, rfm: Any, *, weights: str | None = WEIGHTS) -> BetaGeoBetaBinom:
        """Fit on ``frequency``, ``recency``, ``periods`` (and ``weights`` when present).

        Returns
        -------
        BetaGeoBetaBinom
            ``self``, fitted.
        """
        from loyaltylab._util import as_polars

        df = as_polars(rfm, name="rfm")
        use_w = weights if weights and weights in df.columns else None
        cols = [FREQUENCY, RECENCY, PERIODS] + ([use_w] if use_w else [])
        df, a, _ = check_rfm(df, cols, integer=cols, order=[(FREQUENCY, RECENCY),
                                                           (RECENCY, PERIODS)])
        x, tx, n = a[FREQUENCY], a[RECENCY], a[PERIODS]
        w = a[use_w] if use_w else np.ones(x.size)
        small = (pl.DataFrame({"x": x, "tx": tx, "n": n, "w": w})
                 .group_by("x", "tx", "n").agg(pl.col("w").sum()))
        d = {k: small.get_column(k).to_numpy().astype(float) for k in ("x", "tx", "n")}
        d["_w"] = small.get_column("w").to_numpy().astype(float)
        self.n_customers_ = int(round(w.sum()))
        self._fitted_on = f"{self.n_customers_:,} customers"
        self._optimise(d, np.log([1.0, 1.0, 1.0, 1.0]))
        return self

    def _loglik(self, p: np.ndarray, d: dict[str, np.ndarray]) -> np.ndarray:
        al, be, ga, de = p
        x, tx, n = d["x"], d["tx"], d["n"]
        bab, bgd = betaln(al, be), betaln(ga, de)
        out = betaln(al + x, be + n - x) - bab + betaln(ga, de + n) - bgd
        m = int((n - tx).max())
        for i in range(m):
            term = (betaln(al + x, be + tx - x + i) - bab + betaln(ga + 1, de + tx + i) - bgd)
            out = np.where(i <= n - tx - 1, np.logaddexp(out, term), out)
        return out

    def _cols(self, frequency: Any, recency: Any, periods: Any) -> tuple[np.ndarray, ...]:
        return np.broadcast_arrays(_arr(frequency), _arr(recency), _arr(periods))

    def _ll_data(self, data: Any) -> dict[str, np.ndarray]:
        cols = [FREQUENCY, RECENCY, PERIODS]
        _, a, _ = check_rfm(data, cols, integer=cols, order=[(FREQUENCY, RECENCY),
                                                             (RECENCY, PERIODS)])
        return {"x": a[FREQUENCY], "tx": a[RECENCY], "n": a[PERIODS]}

    def _ll_rows(self, p: np.ndarray, x: np.ndarray, tx: np.ndarray, n: np.ndarray) -> np.ndarray:
        return self._loglik(p, {"x": x.ravel(), "tx": tx.ravel(), "n": n.ravel()}).reshape(x.shape)

    def probability_alive(self, frequency: Any, recency: Any, periods: Any, *,
                          future: Any = 1, params: Any = None) -> np.ndarray:
        """P(active at opportunity n + ``future`` | x, t_x, n).

        ``future=1`` (the default) is the next opportunity; larger values look further
        ahead (lifetimes' ``conditional_probability_alive(m_periods_in_future, ...)``).

        Notes
        -----
        B(alpha+x, beta+n-x)/B(alpha, beta) B(gamma, delta+n+m)/B(gamma, delta) / L(x, t_x,
        n) (Fader, Hardie & Shang 2010, eq. A10).
        """
        al, be, ga, de = p = self._p(params)
        x, tx, n = self._cols(frequency, recency, periods)
        m = _arr(future)
        if (m < 0).any():
            raise ValueError(f"future: expected opportunities ahead >= 0, got {future!r}")
        num = (betaln(al + x, be + n - x) - betaln(al, be) + betaln(ga, de + n + m)
               - betaln(ga, de))
        return np.exp(num - self._ll_rows(p, x, tx, n))

    def probability_of_purchases(self, x: Any, n: int, *, params: Any = None) -> np.ndarray:
        """P(X(n) = x): probability that a new customer makes exactly ``x`` transactions in
        the first ``n`` opportunities (Fader, Hardie & Shang 2010, eq. 7).

        Notes
        -----
        P(X(n)=x) = C(n, x) B(alpha+x, beta+n-x)/B(alpha, beta) B(gamma, delta+n)/B(gamma,
        delta) + sum_{i=x}^{n-1} C(i, x) B(alpha+x, beta+i-x)/B(alpha, beta)
        B(gamma+1, delta+i)/B(gamma, delta).
        """
        from scipy.special import gammaln as _gl

        al, be, ga, de = self._p(params)
        x = _arr(x)
        n = int(n)
        if (x < 0).any() or (x > n).any() or (x != np.round(x)).any():
            raise ValueError(f"x: expected whole numbers between 0 and n={n}")

        def lchoose(a: Any, b: Any) -> Any:
            return _gl(a + 1) - _gl(b + 1) - _gl(a - b + 1)

        out = np.exp(lchoose(n, x) + betaln(al + x, be + n - x) - betaln(al, be)
                     + betaln(ga, de + n) - betaln(ga, de))
        for i in range(n):
            term = np.exp(lchoose(i, np.minimum(x, i)) + betaln(al + x, be + np.maximum(
                i - x, 0)) - betaln(al, be) + betaln(ga + 1, de + i) - betaln(ga, de))
            out = out + np.where(x <= i, term, 0.0)
        return out

    def purchase_count_distribution(self, n: int, *, observed: Any = None) -> pl.DataFrame:
        """Customers expected to make 0, 1, ..., ``n`` transactions in the first ``n``
        opportunities, next to the observed counts: the in-sample fit check of Fader,
        Hardie & Shang (2010, Figure 3); lifetimes'
        ``expected_number_of_transactions_in_first_n_periods``.

        Parameters
        ----------
        n : int
            Opportunities.
        observed : frame, optional
            ``frequency`` (and ``weights``) of customers observed for ``n`` opportunities
            (default: none; the observed column is then null).

        Returns
        -------
        polars.DataFrame
            - ``frequency``: 0 .. n.
            - ``probability``: P(X(n) = frequency).
            - ``expected_customers``: probability x the customers fitted on.
            - ``observed_customers``: customers with that frequency in ``observed``.
        """
        self._check_fitted()
        x = np.arange(int(n) + 1, dtype=float)
        pr = self.probability_of_purchases(x, n)
        obs = np.full(x.size, np.nan)
        if observed is not None:
            from loyaltylab._util import as_polars

            df = as_polars(observed, name="observed")
            w = df.get_column(WEIGHTS) if WEIGHTS in df.columns else pl.Series(
                np.ones(df.height))
            counts = (pl.DataFrame({"f": df.get_column(FREQUENCY).cast(pl.Int64), "w": w})
                      .group_by("f").agg(pl.col("w").sum()))
            obs = np.zeros(x.size)
            for f, c in counts.iter_rows():
                if 0 <= f <= n:
                    obs[f] = c
        return pl.DataFrame({FREQUENCY: x.astype(np.int64), "probability": pr,
                             "expected_customers": pr * self.n_customers_,
                             "observed_customers": obs}).with_columns(
            pl.col("observed_customers").fill_nan(None))

    def expected_purchases(self, n: Any, *, params: np.ndarray | None = None) -> np.ndarray:
        """E[X(n)]: expected transactions in the first ``n`` opportunities of a new customer."""
        al, be, ga, de = self._p(params)
        n = _arr(n)
        lr = gammaln(ga + de) - gammaln(ga + de + n) + gammaln(1 + de + n) - gammaln(1 + de)
        return al / (al + be) * de / (ga - 1) * (-np.expm1(lr))

    def conditional_expected_purchases(self, future: Any, frequency: Any, recency: Any,
                                       periods: Any, *,
                                       params: np.ndarray | None = None) -> np.ndarray:
        """E[X(n, n + n*) | x, t_x, n]: expected transactions in the next ``future``
        opportunities (FHS 2010, eq. 13)."""
        al, be, ga, de = p = self._p(params)
        x, tx, n = self._cols(frequency, recency, periods)
        ns = _arr(future)
        u1 = gammaln(1 + de + n) - gammaln(ga + de + n)
        u2 = gammaln(1 + de + n + ns) - gammaln(ga + de + n + ns)
        lead = (betaln(al + x + 1, be + n - x) - betaln(al, be) + gammaln(ga + de)
                - gammaln(1 + de) - self._ll_rows(p, x, tx, n))
        # delta/(gamma-1) (e^u1 - e^u2) = delta e^u1 (1 - e^(u2-u1)) / (gamma - 1)
        return np.exp(lead + u1) * de * (-np.expm1(u2 - u1)) / (ga - 1)

    def predict(self, rfm: Any, *, future: int) -> pl.DataFrame:
        """P(alive) and expected transactions in the next ``future`` opportunities.

        Returns
        -------
        polars.DataFrame
            The input columns plus ``p_alive`` and ``expected_purchases``.
        """
        self._check_fitted()
        df, a, _ = check_rfm(rfm, [FREQUENCY, RECENCY, PERIODS], integer=[FREQUENCY, RECENCY,
                                                                          PERIODS])
        return df.with_columns(
            pl.Series("p_alive", self.probability_alive(a[FREQUENCY], a[RECENCY], a[PERIODS])),
            pl.Series("expected_purchases", self.conditional_expected_purchases(
                future, a[FREQUENCY], a[RECENCY], a[PERIODS])))
