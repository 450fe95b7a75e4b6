"""Charts for loyaltylab.clv results: holdout check, tracking, P(alive) and expected-purchase
matrices, sBG projections, the CLV distribution, period transactions, one customer's
P(alive) history and the expected repeat purchases curve. Each draws a result frame and computes
nothing."""

from __future__ import annotations

from typing import Any
from collections.abc import Sequence

import numpy as np
import polars as pl
from matplotlib.axes import Axes

from loyaltylab.plots._style import PALETTE, SEQUENTIAL, add_footnote, get_ax, literal_text

__all__ = ["plot_calibration_holdout", "plot_tracking", "plot_alive_matrix",
           "plot_expected_purchases_matrix", "plot_retention_projection",
           "plot_clv_distribution", "plot_period_transactions", "plot_alive_history",
           "plot_expected_repeat_purchases"]


def _need(frame: Any, cols: Sequence[str], what: str, source: str) -> pl.DataFrame:
    if not isinstance(frame, pl.DataFrame):
        raise TypeError(f"{what}: expected a polars DataFrame from {source}, got "
                        f"{type(frame).__name__}")
    missing = [c for c in cols if c not in frame.columns]
    if missing:
        raise ValueError(f"{what}: the frame lacks columns {missing}; pass the result of "
                         f"{source}")
    return frame


def plot_calibration_holdout(comparison: pl.DataFrame, *, ax: Axes | None = None,
                             title: str | None = None, model_name: str = "model") -> Axes:
    """Mean holdout purchases by calibration frequency, actual against the model.

    Parameters
    ----------
    comparison : pl.DataFrame
        :func:`loyaltylab.clv.holdout_comparison` (label, n_customers, actual, expected).
    model_name : str
        Legend label of the model line.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import loyaltylab as ll
    >>> cd = ll.datasets.load_cdnow(sample=True)
    >>> rfm = ll.clv.rfm_summary(cd, calibration_end="1997-09-30",
    ...                          observation_end="1998-06-30")
    >>> bg = ll.clv.BetaGeo().fit(rfm)
    >>> ax = plot_calibration_holdout(ll.clv.holdout_comparison(rfm, model=bg))
    >>> ax.get_title()
    'Holdout purchases by calibration frequency, 2,357 customers'
    """
    c = _need(comparison, ["label", "n_customers", "actual", "expected"], "comparison",
              "ll.clv.holdout_comparison")
    ax = get_ax(ax)
    x = np.arange(c.height)
    ax.plot(x, c["actual"].to_numpy(), marker="o", color=PALETTE[0], label="actual")
    ax.plot(x, c["expected"].to_numpy(), marker="s", ls="--", color=PALETTE[1],
            label=model_name)
    ax.set_xticks(x, c["label"].to_list())
    ax.set_xlabel("Repeat purchases in the calibration period")
    ax.set_ylabel("Mean purchases in the holdout period")
    n = int(c["n_customers"].sum())
    ax.set_title(title or f"Holdout purchases by calibration frequency, {n:,} customers")
    ax.legend()
    add_footnote(ax, "Expected: conditional expectation of the model fitted on the calibration "
                     "period, averaged within each group; the last group pools the heaviest "
                     "buyers.")
    return literal_text(ax)


def plot_tracking(tracking: pl.DataFrame, *, cumulative: bool = True, ax: Axes | None = None,
                  title: str | None = None, unit: str = "week",
                  model_name: str = "model") -> Axes:
    """Repeat purchases per period (or cumulative), actual against the model.

    Parameters
    ----------
    tracking : pl.DataFrame
        :func:`loyaltylab.clv.repeat_tracking`.
    cumulative : bool, default True
        Plot running totals instead of per-period counts.
    unit : str
        Name of the period for the axis label.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import loyaltylab as ll
    >>> cd = ll.datasets.load_cdnow(sample=True)
    >>> bg = ll.clv.BetaGeo().fit(ll.clv.rfm_summary(cd, observation_end="1997-09-30"))
    >>> tr = ll.clv.repeat_tracking(cd, model=bg, calibration_end="1997-09-30")
    >>> plot_tracking(tr).get_ylabel()
    'Cumulative repeat purchases'
    """
    t = _need(tracking, ["period", "actual", "expected", "cumulative_actual",
                         "cumulative_expected", "holdout"], "tracking",
              "ll.clv.repeat_tracking")
    ax = get_ax(ax)
    a, e = (("cumulative_actual", "cumulative_expected") if cumulative
            else ("actual", "expected"))
    x = t["period"].to_numpy()
    ax.plot(x, t[a].to_numpy(), color=PALETTE[0], label="actual")
    ax.plot(x, t[e].to_numpy(), color=PALETTE[1], ls="--", label=model_name)
    hold = t.filter(pl.col("holdout"))
    if hold.height:
        start = float(hold["period"].min()) - 0.5
        ax.axvline(start, color="#777777", lw=1, ls=":")
        ax.text(start, ax.get_ylim()[1], " holdout", va="top", ha="left", fontsize=8,
                color="#555555")
    ax.set_xlabel(f"{unit.capitalize()} since the cohort's first purchase")
    ax.set_ylabel(("Cumulative r" if cumulative else "R") + f"epeat purchases per {unit}"
                  if not cumulative else "Cumulative repeat purchases")
    kind = "Cumulative" if cumulative else f"{unit.capitalize()}ly"
    ax.set_title(title or f"{kind} repeat purchases, actual and forecast")
    ax.legend()
    add_footnote(ax, "Forecast: sum over customers of the model's expected repeat purchases "
                     "since each customer's first purchase (unconditional).")
    return literal_text(ax)


def _matrix(frame: pl.DataFrame, value: str, ax: Axes | None, title: str, label: str,
            vmax: float | None) -> Axes:
    ax = get_ax(ax, figsize=(7, 5.5))
    f = np.sort(frame["frequency"].unique().to_numpy())
    r = np.sort(frame["recency"].unique().to_numpy())
    grid = (frame.sort("frequency", "recency")[value].fill_null(np.nan).to_numpy()
            .reshape(f.size, r.size))
    im = ax.imshow(grid, origin="lower", aspect="auto", cmap=SEQUENTIAL, vmin=0, vmax=vmax,
                   extent=(r[0] - 0.5, r[-1] + 0.5, f[0] - 0.5, f[-1] + 0.5),
                   interpolation="nearest")
    ax.figure.colorbar(im, ax=ax, label=label)
    ax.set_xlabel("Recency (time of the last purchase)")
    ax.set_ylabel("Frequency (repeat purchases)")
    ax.grid(False)
    ax.set_title(title)
    return literal_text(ax)


def plot_alive_matrix(matrix: pl.DataFrame, *, ax: Axes | None = None,
                      title: str | None = None) -> Axes:
    """Heat map of P(alive) by frequency and recency.

    Parameters
    ----------
    matrix : pl.DataFrame
        :func:`loyaltylab.clv.probability_alive_matrix`.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import polars as pl
    >>> import loyaltylab as ll
    >>> bg = ll.clv.BetaGeo().fit(pl.read_csv("data/cdnow/cdnow_customers_summary.csv"))
    >>> ax = plot_alive_matrix(ll.clv.probability_alive_matrix(bg, max_frequency=10))
    >>> ax.images[0].get_array().shape
    (11, 39)
    """
    m = _need(matrix, ["frequency", "recency", "T", "p_alive"], "matrix",
              "ll.clv.probability_alive_matrix")
    T = float(m["T"][0])
    ax = _matrix(m, "p_alive", ax, title or f"Probability a customer is still active "
                 f"(observed for {T:.1f} periods)", "chance still active", 1.0)
    add_footnote(ax, "Customers who bought often but not recently (top left) are probably "
                     "gone; blank cells are impossible histories.")
    return literal_text(ax)


def plot_expected_purchases_matrix(matrix: pl.DataFrame, *, ax: Axes | None = None,
                                   title: str | None = None) -> Axes:
    """Heat map of expected purchases in the next ``t`` periods by frequency and recency.

    Parameters
    ----------
    matrix : pl.DataFrame
        :func:`loyaltylab.clv.expected_purchases_matrix`.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import polars as pl
    >>> import loyaltylab as ll
    >>> bg = ll.clv.BetaGeo().fit(pl.read_csv("data/cdnow/cdnow_customers_summary.csv"))
    >>> m = ll.clv.expected_purchases_matrix(bg, t=39, max_frequency=10)
    >>> plot_expected_purchases_matrix(m).get_title()
    'Expected purchases in the next 39 periods'
    """
    m = _need(matrix, ["frequency", "recency", "T", "t", "expected_purchases"], "matrix",
              "ll.clv.expected_purchases_matrix")
    t = float(m["t"][0])
    ax = _matrix(m, "expected_purchases", ax, title or f"Expected purchases in the next "
                 f"{t:g} periods", "Expected purchases", None)
    add_footnote(ax, f"Conditional expectation for a customer observed for "
                     f"{float(m['T'][0]):.1f} periods; blank cells are impossible histories.")
    return literal_text(ax)


def plot_retention_projection(projection: pl.DataFrame, *, what: str = "survival",
                              ax: Axes | None = None, title: str | None = None,
                              label: str | None = None) -> Axes:
    """sBG survival (or retention-rate) projection against the observed cohort.

    Parameters
    ----------
    projection : pl.DataFrame
        :meth:`loyaltylab.clv.ShiftedBetaGeo.projection`.
    what : {"survival", "retention"}
        Share of the cohort still active, or period-to-period retention rate.
    label : str, optional
        Name of the cohort in the legend (several cohorts can share one Axes).

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import loyaltylab as ll
    >>> m = ll.clv.ShiftedBetaGeo().fit([1000, 631, 468, 382, 326, 289, 262, 241])
    >>> ax = plot_retention_projection(m.projection(12), label="regular")
    >>> len(ax.get_lines())
    4
    """
    p = _need(projection, ["period", "survival", "retention_rate", "expected_active",
                           "observed_active", "observed_retention", "in_fit"], "projection",
              "ShiftedBetaGeo.projection")
    if what not in ("survival", "retention"):
        raise ValueError(f"what: expected 'survival' or 'retention', got {what!r}")
    ax = get_ax(ax)
    n_lines = len(ax.get_lines())
    col = PALETTE[(n_lines // 2) % len(PALETTE)]
    name = f"{label}: " if label else ""
    x = p["period"].to_numpy()
    if what == "survival":
        n0 = float(p["expected_active"][0])
        model = p["survival"].to_numpy()
        obs = p["observed_active"].fill_null(np.nan).to_numpy() / n0
        ax.set_ylabel("Share of the cohort still active")
    else:
        model = p["retention_rate"].fill_null(np.nan).to_numpy()
        obs = p["observed_retention"].fill_null(np.nan).to_numpy()
        ax.set_ylabel("Retention rate (share of last period's actives)")
    fit = p["in_fit"].to_numpy()
    ax.plot(x, model, color=col, ls="--", label=f"{name}sBG model")
    ax.plot(x[fit], obs[fit], "o", color=col, label=f"{name}observed (fitted)")
    ax.plot(x[~fit], obs[~fit], "o", mfc="white", color=col, label=f"{name}observed (held out)")
    last = int(x[fit].max())
    ax.axvline(last + 0.5, color="#777777", lw=1, ls=":")
    ax.set_xlabel("Period since acquisition")
    ax.set_title(title or ("Survival: sBG projection and data" if what == "survival"
                           else "Retention rate: sBG projection and data"))
    ax.legend(fontsize=8)
    add_footnote(ax, "Shifted-beta-geometric model (Fader & Hardie 2007) fitted on the filled "
                     "points; hollow points were not used in the fit.")
    return literal_text(ax)


def plot_clv_distribution(clv: pl.DataFrame, *, column: str = "clv", bins: int = 40,
                          ax: Axes | None = None, title: str | None = None,
                          currency: str = "") -> Axes:
    """Histogram of customer lifetime values, with the share of total value held by the top
    fifth and the customers flagged as costing more than they bring.

    Parameters
    ----------
    clv : pl.DataFrame
        :func:`loyaltylab.clv.customer_lifetime_value`.
    column : str, default "clv"
        Column to draw ("clv" or "net_value").
    currency : str
        Prefix for the axis label, e.g. "$".

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import polars as pl
    >>> import loyaltylab as ll
    >>> s = pl.read_csv("data/cdnow/cdnow_customers_summary_with_transactions.csv")
    >>> rfm = s.select(frequency="x", recency="t_x", T="T", monetary_value="zbar")
    >>> bg = ll.clv.BetaGeo().fit(rfm)
    >>> gg = ll.clv.GammaGamma().fit(rfm.filter(pl.col("frequency") > 0))
    >>> out = ll.clv.customer_lifetime_value(rfm, purchase_model=bg, spend_model=gg,
    ...                                      interval=None)
    >>> plot_clv_distribution(out).get_title()
    'Customer lifetime value, 2,357 customers'
    """
    c = _need(clv, [column, "cost_exceeds_value"], "clv",
              "ll.clv.customer_lifetime_value")
    ax = get_ax(ax)
    v = c[column].to_numpy()
    ax.hist(v, bins=bins, color=PALETTE[0], alpha=0.85)
    ax.set_yscale("log")
    ax.set_xlabel(f"{'Net value' if column == 'net_value' else 'Lifetime value'}"
                  f"{f' ({currency})' if currency else ''}")
    ax.set_ylabel("Customers (log scale)")
    from loyaltylab.plots._style import number_axis  # money and counts: never 1e6
    number_axis(ax.xaxis)  # the currency is in the axis label
    number_axis(ax.yaxis)
    top = np.sort(v)[::-1][: max(1, v.size // 5)]
    share = top.sum() / v.sum() if v.sum() > 0 else np.nan
    flagged = int(c["cost_exceeds_value"].sum())
    ax.set_title(title or f"Customer lifetime value, {v.size:,} customers")
    method = (str(c["interval_method"][0]).split(",")[0]
              if "interval_method" in c.columns else "none")
    add_footnote(ax, f"Top 20 % of customers hold {share:.0%} of the value; {flagged:,} "
                     f"customers cost more to serve and retain than they bring.\n"
                     f"Intervals per customer: {method}.")
    return literal_text(ax)


def plot_period_transactions(transactions: pl.DataFrame, *, ax: Axes | None = None,
                             title: str | None = None, model_name: str = "model") -> Axes:
    """Customers by number of repeat purchases in the calibration period, actual against
    the model: the standard check of a repeat-buying model (lifetimes'
    ``plot_period_transactions``).

    Parameters
    ----------
    transactions : pl.DataFrame
        :func:`loyaltylab.clv.period_transactions` (frequency, label, actual, expected).
    model_name : str
        Legend label of the model's bars.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import polars as pl
    >>> import loyaltylab as ll
    >>> rfm = pl.read_csv("data/cdnow/cdnow_customers_summary.csv")
    >>> bg = ll.clv.BetaGeo().fit(rfm)
    >>> ax = plot_period_transactions(ll.clv.period_transactions(rfm, model=bg))
    >>> ax.get_title()
    'Customers by number of repeat purchases, 2,357 customers'
    """
    c = _need(transactions, ["label", "actual", "expected"], "transactions",
              "ll.clv.period_transactions")
    ax = get_ax(ax)
    x = np.arange(c.height)
    ax.bar(x - 0.2, c["actual"].to_numpy(), width=0.4, color=PALETTE[0], label="actual")
    ax.bar(x + 0.2, c["expected"].to_numpy(), width=0.4, color=PALETTE[1], label=model_name)
    ax.set_xticks(x, c["label"].to_list())
    ax.set_xlabel("Repeat purchases in the calibration period")
    ax.set_ylabel("Customers")
    n = float(c["actual"].sum())
    ax.set_title(title or f"Customers by number of repeat purchases, {n:,.0f} customers")
    ax.legend()
    add_footnote(ax, "Model: customers expected with that many repeat purchases, given how "
                     "long each customer was observed; the last group pools the heaviest "
                     "buyers.")
    return literal_text(ax)


def plot_alive_history(history: pl.DataFrame, *, ax: Axes | None = None,
                       title: str | None = None, unit: str = "week",
                       label: str | None = None) -> Axes:
    """Probability that one customer is still active, from the first purchase on: it falls
    while the customer is silent and jumps back at each purchase (lifetimes'
    ``plot_history_alive``).

    Parameters
    ----------
    history : pl.DataFrame
        :func:`loyaltylab.clv.probability_alive_history` (t, purchase, p_alive).
    unit : str
        Name of the time unit for the axis label.
    label : str, optional
        Legend label of the line (several customers can share one Axes).

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import polars as pl
    >>> import loyaltylab as ll
    >>> bg = ll.clv.BetaGeo().fit(pl.read_csv("data/cdnow/cdnow_customers_summary.csv"))
    >>> cd = ll.datasets.load_cdnow(sample=True)
    >>> h = ll.clv.probability_alive_history(cd, model=bg, customer_id=cd.orders[
    ...     ll.data.schema.CUSTOMER_ID][0], observation_end="1998-06-30")
    >>> ax = plot_alive_history(h)
    >>> ax.get_ylabel()
    'Probability still active'
    """
    h = _need(history, ["t", "purchase", "p_alive"], "history",
              "ll.clv.probability_alive_history")
    ax = get_ax(ax)
    n_lines = len([ln for ln in ax.get_lines() if not ln.get_label().startswith("_")])
    col = PALETTE[n_lines % len(PALETTE)]
    t = h["t"].to_numpy()
    ax.plot(t, h["p_alive"].to_numpy(), color=col, label=label or "P(alive)")
    buys = h.filter(pl.col("purchase"))
    ax.plot(buys["t"].to_numpy(), buys["p_alive"].to_numpy(), "o", color=col,
            label="_purchases")
    ax.set_ylim(0, 1.05)
    ax.set_xlabel(f"{unit.capitalize()}s since the first purchase")
    ax.set_ylabel("Probability still active")
    n = int(h["purchase"].sum())
    ax.set_title(title or f"Probability the customer is still active, {n:,} repeat "
                          f"purchase{'s' if n != 1 else ''}")
    if label:
        ax.legend()
    add_footnote(ax, "Dots: repeat purchases. The probability falls while the customer is "
                     "silent and recovers at each purchase; computed from the customer's "
                     "history up to each point in time.")
    return literal_text(ax)


def plot_expected_repeat_purchases(curve: pl.DataFrame, *, ax: Axes | None = None,
                                   title: str | None = None, unit: str = "week",
                                   model_name: str = "model") -> Axes:
    """Expected repeat purchases of a new customer by time since the first purchase: solid
    within the observation length the model was fitted on, dashed beyond it (lifetimes'
    ``plot_expected_repeat_purchases``).

    Parameters
    ----------
    curve : pl.DataFrame
        :func:`loyaltylab.clv.expected_repeat_purchases` (t, expected_purchases,
        extrapolated).
    unit : str
        Name of the time unit for the axis label.
    model_name : str
        Legend label of the curve.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import polars as pl
    >>> import loyaltylab as ll
    >>> bg = ll.clv.BetaGeo().fit(pl.read_csv("data/cdnow/cdnow_customers_summary.csv"))
    >>> ax = plot_expected_repeat_purchases(ll.clv.expected_repeat_purchases(bg))
    >>> [ln.get_linestyle() for ln in ax.get_lines()]
    ['-', '--']
    """
    c = _need(curve, ["t", "expected_purchases", "extrapolated"], "curve",
              "ll.clv.expected_repeat_purchases")
    ax = get_ax(ax)
    n_lines = len([ln for ln in ax.get_lines() if not ln.get_label().startswith("_")])
    col = PALETTE[n_lines % len(PALETTE)]
    t = c["t"].to_numpy()
    e = c["expected_purchases"].to_numpy()
    ext = c["extrapolated"].to_numpy()
    fit = ~ext
    ax.plot(t[fit], e[fit], color=col, label=model_name)
    if ext.any():
        # start the dashed part at the last fitted point so the curve is unbroken
        k = np.flatnonzero(ext)
        k = np.concatenate([[k[0] - 1], k]) if k[0] > 0 else k
        ax.plot(t[k], e[k], color=col, ls="--", label="_extrapolated")
    ax.set_xlabel(f"{unit.capitalize()}s since the first purchase")
    ax.set_ylabel("Expected repeat purchases")
    ax.set_title(title or "Expected repeat purchases of a new customer")
    ax.legend()
    add_footnote(ax, "Model expectation for a customer who has just made a first purchase; "
                     "dashed beyond the longest observation the model was fitted on.")
    return literal_text(ax)


def __dir__() -> list[str]:  # tab completion offers the public names, not np, pl, helpers
    return sorted(__all__)
