"""Charts for :mod:`loyaltylab.metrics` results. Each draws a result frame and computes no
statistics: intervals, bands and cumulative shares all come from the frame."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import polars as pl
from matplotlib.axes import Axes

from loyaltylab.plots._style import (
    MIN_FONT_PT, PALETTE, SEQUENTIAL, add_footnote, error_lengths, forest, get_ax,
    infer_period, legend_above, legend_outside, literal_text, period_axis, period_label)

__all__ = ["plot_contact_frequency", "plot_rate_bars", "plot_conversion",
           "plot_cohort_heatmap", "plot_defection", "plot_whale_curve",
           "plot_resolution_retention", "plot_dose_response", "plot_scorecard",
           "plot_departure_reasons"]

_RATE_COLS = {"numerator", "denominator", "value", "ci_low", "ci_high", "definition"}


def _need(frame: pl.DataFrame, cols: Sequence[str], fn: str) -> None:
    missing = [c for c in cols if c not in frame.columns]
    if missing:
        raise ValueError(f"{fn}: the result frame lacks columns {missing} (has "
                         f"{frame.columns}); pass the output of the matching "
                         f"loyaltylab.metrics function")


def _err(frame: pl.DataFrame) -> np.ndarray:
    v = frame["value"].cast(pl.Float64).fill_null(np.nan).to_numpy()
    lo = frame["ci_low"].cast(pl.Float64).fill_null(np.nan).to_numpy()
    hi = frame["ci_high"].cast(pl.Float64).fill_null(np.nan).to_numpy()
    return error_lengths(v, lo, hi)


def _footnote(ax: Axes, frame: pl.DataFrame, method: str) -> None:
    d = frame["definition"][0] if "definition" in frame.columns and frame.height else ""
    add_footnote(ax, f"{d}. Bars: {method}." if d else f"Bars: {method}.")


def plot_contact_frequency(result: pl.DataFrame, *, ax: Axes | None = None,
                           title: str | None = None) -> Axes:
    """Contacts per customer per month by channel, one bar per direction, with exact
    Poisson intervals; from :func:`loyaltylab.metrics.contact_frequency`.

    Parameters
    ----------
    result : pl.DataFrame
        :func:`loyaltylab.metrics.contact_frequency`.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; a new 16:9 figure when omitted.
    title : str, optional
        Chart title; a default that says what and how many when omitted.

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn on.

    Examples
    --------
    >>> import loyaltylab as ll
    >>> d = ll.datasets.load_sample()
    >>> ax = plot_contact_frequency(ll.metrics.contact_frequency(d))
    """
    _need(result, ["channel", "direction", "value", "ci_low", "ci_high"],
          "plot_contact_frequency")
    ax = get_ax(ax)
    channels = sorted(set(result["channel"].to_list()))
    directions = sorted(set(result["direction"].to_list()))
    width = 0.8 / max(len(directions), 1)
    y = np.arange(len(channels))
    for j, dname in enumerate(directions):
        sub = (pl.DataFrame({"channel": channels})
               .join(result.filter(pl.col("direction") == dname), on="channel", how="left"))
        ax.barh(y + j * width, sub["value"].fill_null(0).to_list(), height=width,
                xerr=_err(sub), color=PALETTE[j % len(PALETTE)], label=dname, capsize=2)
    ax.set_yticks(y + width * (len(directions) - 1) / 2, channels)
    ax.set_xlabel("contacts per customer per month")
    legend_outside(ax)
    n = int(result["contacts"].sum()) if "contacts" in result.columns else None
    ax.set_title(title or "Contact frequency by channel" + (f", {n:,} contacts" if n else ""))
    _footnote(ax, result, "95 % exact Poisson intervals")
    return literal_text(ax)


def plot_rate_bars(result: pl.DataFrame, *, label: str | Sequence[str] | None = None,
                   ax: Axes | None = None, title: str | None = None,
                   xlabel: str = "rate", percent: bool = True) -> Axes:
    """Horizontal bars of any rate frame (value with ci_low/ci_high), one per row.

    Parameters
    ----------
    result : pl.DataFrame
        Any rate frame of :mod:`loyaltylab.metrics`.
    label : str or list of str, optional
        Columns naming each bar; by default the columns before ``numerator``.

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn on.

    Examples
    --------
    >>> import loyaltylab as ll
    >>> d = ll.datasets.load_sample()
    >>> ax = plot_rate_bars(ll.metrics.early_life_churn(d), xlabel="early-life churn")
    """
    _need(result, ["value", "ci_low", "ci_high"], "plot_rate_bars")
    ax = get_ax(ax)
    if label is None:
        cols = result.columns
        stop = cols.index("numerator") if "numerator" in cols else len(cols)
        label = [c for c in cols[:stop] if c not in _RATE_COLS and c != "band_order"]
    labels = [str(label)] if isinstance(label, str) else list(label)
    names = (result.select(pl.concat_str([pl.col(c).cast(pl.String).fill_null("(missing)")
                                          for c in labels], separator=" / "))
             .to_series().to_list() if labels else [f"row {i}" for i in range(result.height)])
    scale = 100.0 if percent else 1.0
    y = np.arange(result.height)[::-1]
    vals = result["value"].cast(pl.Float64).fill_null(0).to_numpy() * scale
    ax.barh(y, vals, xerr=_err(result) * scale, color=PALETTE[0], capsize=3)
    ax.set_yticks(y, names)
    ax.set_xlabel(xlabel + (" (%)" if percent else ""))
    if "denominator" in result.columns:
        tops = vals + _err(result)[1] * scale
        for yi, v, n in zip(y, tops, result["denominator"].to_list()):
            ax.text(v, yi, f"  n = {n:,}", va="center", fontsize=7, color="#444444")
    n = int(result["denominator"].sum()) if "denominator" in result.columns else result.height
    ax.set_title(title or f"{xlabel.capitalize()}, {n:,} in all")
    _footnote(ax, result, "95 % Wilson intervals")
    return literal_text(ax)


def plot_conversion(result: pl.DataFrame, *, ax: Axes | None = None,
                    title: str | None = None) -> Axes:
    """Contact-to-sale conversion bars with Wilson intervals, from
    :func:`loyaltylab.metrics.contact_conversion`.

    Parameters
    ----------
    result : pl.DataFrame
        :func:`loyaltylab.metrics.contact_conversion`.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; a new 16:9 figure when omitted.
    title : str, optional
        Chart title; a default that says what and how many when omitted.

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn on.

    Examples
    --------
    >>> import loyaltylab as ll
    >>> d = ll.datasets.load_sample()
    >>> ax = plot_conversion(ll.metrics.contact_conversion(d))
    """
    _need(result, ["numerator", "denominator", "value", "ci_low", "ci_high"],
          "plot_conversion")
    days = result["window_days"][0] if "window_days" in result.columns and result.height \
        else None
    word = f"within {days} days" if days else ""
    n = int(result["denominator"].sum())
    return plot_rate_bars(result, ax=ax, xlabel=f"contacts followed by an order {word}".strip(),
                          title=title or f"Contact-to-sale conversion {word}, {n:,} contacts")


def plot_cohort_heatmap(result: pl.DataFrame, *, ax: Axes | None = None,
                        max_periods: int | None = None, annotate: bool | None = None,
                        title: str | None = None) -> Axes:
    """Cohort retention heatmap (cohorts down, periods since first order across), from
    :func:`loyaltylab.metrics.cohort_retention`.

    Parameters
    ----------
    result : pl.DataFrame
        :func:`loyaltylab.metrics.cohort_retention`.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; a new 16:9 figure when omitted.
    max_periods : int, optional
        Show at most this many periods since the first order.
    annotate : bool, optional
        Write the share in each cell (default: when the grid is small enough to read).
    title : str, optional
        Chart title; a default that says what and how many when omitted.

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn on.

    Examples
    --------
    >>> import loyaltylab as ll
    >>> d = ll.datasets.load_sample()
    >>> ax = plot_cohort_heatmap(ll.metrics.cohort_retention(d, period="quarter"))
    """
    _need(result, ["cohort", "period", "cohort_size", "rate"], "plot_cohort_heatmap")
    ax = get_ax(ax, figsize=(9, 5.5))
    frame = result if max_periods is None else result.filter(pl.col("period") <= max_periods)
    cohorts = sorted(set(frame["cohort"].to_list()))
    n_per = int(frame["period"].max()) + 1 if frame.height else 1
    grid = np.full((len(cohorts), n_per), np.nan)
    pos = {c: i for i, c in enumerate(cohorts)}
    for c, p, r in zip(frame["cohort"], frame["period"], frame["rate"]):
        grid[pos[c], int(p)] = np.nan if r is None else r
    # period 0 is 100 % by definition; leave it out of the colour scale
    shown = grid.copy()
    shown[:, 0] = np.nan
    im = ax.imshow(shown * 100, aspect="auto", cmap=SEQUENTIAL, vmin=0,
                   vmax=np.nanmax(shown * 100) if np.isfinite(shown).any() else 100)
    ax.figure.colorbar(im, ax=ax, label="active in the period (% of cohort)")
    period = infer_period(cohorts) or "day"
    step = max(1, len(cohorts) // 15)
    ax.set_yticks(range(0, len(cohorts), step),
                  [period_label(cohorts[i], period) for i in range(0, len(cohorts), step)])
    ax.set_xlabel("periods since the first order")
    ax.set_ylabel("cohort (period of first order)")
    ax.grid(False)
    if annotate is None:  # numbers in the cells only while they fit at 11 pt on a slide
        annotate = grid.shape[0] <= 16 and grid.shape[1] <= 16
    if annotate:
        for i in range(grid.shape[0]):
            for j in range(1, grid.shape[1]):
                if np.isfinite(grid[i, j]):
                    ax.text(j, i, f"{grid[i, j] * 100:.0f}", ha="center", va="center",
                            fontsize=6, color="white" if grid[i, j] < np.nanmax(shown) / 2
                            else "black")
    sizes = result.select("cohort", "cohort_size").unique()
    n = int(sizes["cohort_size"].sum())
    ax.set_title(title or f"Cohort retention, {len(cohorts)} cohorts, {n:,} customers")
    add_footnote(ax, "A customer counts in period N if they ordered in period N (N-period "
                     "retention, as in Mixpanel/Amplitude); period 0 is 100 % and not "
                     "coloured. The last period may be incomplete.")
    return literal_text(ax)


def plot_defection(result: pl.DataFrame, *, ax: Axes | None = None,
                   title: str | None = None) -> Axes:
    """Defection rate per period with Wilson intervals against the 20-40 % band, from
    :func:`loyaltylab.metrics.defection_rate` (annualised rates for months/quarters).

    Parameters
    ----------
    result : pl.DataFrame
        :func:`loyaltylab.metrics.defection_rate`.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; a new 16:9 figure when omitted.
    title : str, optional
        Chart title; a default that says what and how many when omitted.

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn on.

    Examples
    --------
    >>> import loyaltylab as ll
    >>> d = ll.datasets.load_sample()
    >>> ax = plot_defection(ll.metrics.defection_rate(d))
    """
    _need(result, ["period_start", "value", "ci_low", "ci_high", "annualized", "band_low",
                   "band_high"], "plot_defection")
    ax = get_ax(ax)
    frame = result.sort("period_start")
    keys = [c for c in frame.columns[2:frame.columns.index("numerator")]]
    lo, hi = (frame["band_low"][0], frame["band_high"][0]) if frame.height else (0.2, 0.4)
    ax.axhspan(lo * 100, hi * 100, color=PALETTE[1], alpha=0.15,
               label=f"typical {lo:.0%}-{hi:.0%} a year")
    annual = bool((frame["annualized"] - frame["value"]).abs().max() or 0)
    groups = frame.partition_by(keys, maintain_order=True) if keys else [frame]
    periods = frame.select("period_start", "period_end").unique().sort("period_start")
    starts = periods["period_start"].to_list()
    mids = dict(zip(starts, period_axis(ax, starts, infer_period(
        starts, periods["period_end"].to_list()) or "day",
        ends=periods["period_end"].to_list())))
    for i, g in enumerate(groups):
        x = [mids[d] for d in g["period_start"].to_list()]
        col = "annualized" if annual else "value"
        v = g[col].cast(pl.Float64).to_numpy() * 100
        name = " / ".join(str(g[k][0]) for k in keys) if keys else "defection rate"
        if annual:
            ax.plot(x, v, marker="o", color=PALETTE[i % 8], label=f"{name} (annualised)")
        else:
            ax.errorbar(x, v, yerr=_err(g) * 100, marker="o", capsize=3,
                        color=PALETTE[i % 8], label=name)
    ax.set_ylabel("customers lost in the year (%)" if not annual else
                  "annualised defection (%)")
    ax.set_ylim(bottom=0)
    pad = legend_above(ax, ncol=2)
    n = int(frame["denominator"].sum())
    ax.set_title(title or f"Defection rate against the typical band, {n:,} customer-periods",
                 pad=pad)
    _footnote(ax, frame, "95 % Wilson intervals")
    return literal_text(ax)


def plot_whale_curve(result: pl.DataFrame, *, ax: Axes | None = None,
                     title: str | None = None) -> Axes:
    """The whale curve: cumulative share of total profit against the share of customers,
    most profitable first; from :func:`loyaltylab.metrics.whale_curve`.

    Parameters
    ----------
    result : pl.DataFrame
        :func:`loyaltylab.metrics.whale_curve`.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; a new 16:9 figure when omitted.
    title : str, optional
        Chart title; a default that says what and how many when omitted.

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn on.

    Examples
    --------
    >>> import loyaltylab as ll
    >>> d = ll.datasets.load_sample()
    >>> ax = plot_whale_curve(ll.metrics.whale_curve(d, margin=0.4))
    """
    _need(result, ["customer_share", "cumulative_share", "profit"], "plot_whale_curve")
    ax = get_ax(ax)
    x = np.concatenate([[0.0], result["customer_share"].to_numpy() * 100])
    y = np.concatenate([[0.0], result["cumulative_share"].to_numpy() * 100])
    ax.plot(x, y, color=PALETTE[0], lw=2)
    ax.axhline(100, color="#444444", lw=1, ls="--", label="total profit")
    if result.height:
        peak = int(np.argmax(y))
        ax.annotate(f"peak {y[peak]:.0f} % of profit\nfrom the top {x[peak]:.0f} % "
                    f"of customers", (x[peak], y[peak]), xytext=(10, -40),
                    textcoords="offset points", fontsize=8,
                    arrowprops={"arrowstyle": "->", "color": "#444444"})
    losers = int((result["profit"] <= 0).sum())
    ax.set_xlabel("customers, most profitable first (%)")
    ax.set_ylabel("cumulative profit (% of total)")
    ax.legend(loc="lower right")
    ax.set_title(title or f"Whale curve of customer profit, {result.height:,} customers, "
                          f"{losers:,} unprofitable")
    add_footnote(ax, "Profit = margin x revenue - cost to serve - acquisition cost "
                     "(loyaltylab.metrics.customer_profitability).")
    return literal_text(ax)


def plot_resolution_retention(result: pl.DataFrame, *, ax: Axes | None = None,
                              title: str | None = None) -> Axes:
    """Retention after a complaint by resolution-speed band, with Wilson intervals; from
    :func:`loyaltylab.metrics.retention_by_resolution`.

    Parameters
    ----------
    result : pl.DataFrame
        :func:`loyaltylab.metrics.retention_by_resolution`.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; a new 16:9 figure when omitted.
    title : str, optional
        Chart title; a default that says what and how many when omitted.

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn on.

    Examples
    --------
    >>> import loyaltylab as ll
    >>> d = ll.datasets.load_sample()
    >>> ax = plot_resolution_retention(ll.metrics.retention_by_resolution(d))
    """
    _need(result, ["band", "value", "ci_low", "ci_high", "denominator"],
          "plot_resolution_retention")
    ax = get_ax(ax)
    keys = [c for c in result.columns[:result.columns.index("band")]]
    groups = result.partition_by(keys, maintain_order=True) if keys else [result]
    width = 0.8 / len(groups)
    for i, g in enumerate(groups):
        x = np.arange(g.height) + i * width
        ax.bar(x, g["value"].fill_null(0).to_numpy() * 100, width=width,
               yerr=_err(g) * 100, capsize=3, color=PALETTE[i % 8],
               label=" / ".join(str(g[k][0]) for k in keys) if keys else None)
        for xi, _v, n in zip(x, g["value"].fill_null(0).to_numpy(), g["denominator"]):
            ax.text(xi, 2, f"n = {n:,}", ha="center", fontsize=7, color="white")
    ax.set_xticks(np.arange(groups[0].height) + width * (len(groups) - 1) / 2,
                  groups[0]["band"].to_list())
    ax.set_xlabel("time to resolve the first complaint")
    ax.set_ylabel("still buying a year later (%)")
    ax.set_ylim(0, 100)
    if keys:
        ax.legend()
    p = result["p_value"][0] if "p_value" in result.columns else None
    ptxt = "" if p is None else ("; fastest against slowest: p < 0.001" if p < 0.001 else
                                 f"; fastest against slowest: p = {p:.3f}")
    n = int(result["denominator"].sum())
    ax.set_title(title or f"Retention by complaint resolution speed, {n:,} customers")
    _footnote(ax, result, "95 % Wilson intervals" + ptxt)
    return literal_text(ax)


def plot_dose_response(result: pl.DataFrame, *, ax: Axes | None = None,
                       title: str | None = None) -> Axes:
    """Churn by e-mails per month with Wilson intervals, from
    :func:`loyaltylab.metrics.email_dose_response`.

    Parameters
    ----------
    result : pl.DataFrame
        :func:`loyaltylab.metrics.email_dose_response`.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; a new 16:9 figure when omitted.
    title : str, optional
        Chart title; a default that says what and how many when omitted.

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn on.

    Examples
    --------
    >>> import loyaltylab as ll
    >>> d = ll.datasets.load_sample()
    >>> ax = plot_dose_response(ll.metrics.email_dose_response(d, threshold=4))
    """
    _need(result, ["band", "value", "ci_low", "ci_high", "denominator"],
          "plot_dose_response")
    ax = get_ax(ax)
    x = np.arange(result.height)
    ax.errorbar(x, result["value"].cast(pl.Float64).fill_null(np.nan).to_numpy() * 100,
                yerr=_err(result) * 100, marker="o", capsize=3, color=PALETTE[3])
    ax.set_xticks(x, [f"{b}\nn = {n:,}" for b, n in zip(result["band"], result["denominator"])])
    ax.set_xlabel("outbound e-mails per month")
    ax.set_ylabel("customers lost afterwards (%)")
    ax.set_ylim(bottom=0)
    orr = result["odds_ratio_per_email"][0] if "odds_ratio_per_email" in result.columns \
        else None
    extra = f" (odds ratio per e-mail {orr:.2f})" if orr is not None else ""
    ax.set_title(title or f"Churn by e-mail frequency{extra}")
    _footnote(ax, result, "95 % Wilson intervals")
    return literal_text(ax)


def plot_scorecard(result: pl.DataFrame, *, ax: Axes | None = None,
                   title: str | None = None, digits: int = 3) -> Axes:
    """The scorecard as a table figure: previous, current, change and its interval; from
    :func:`loyaltylab.metrics.scorecard`.

    Parameters
    ----------
    result : pl.DataFrame
        :func:`loyaltylab.metrics.scorecard`.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; a new 16:9 figure when omitted.
    title : str, optional
        Chart title; a default that says what and how many when omitted.
    digits : int, default 3
        Significant digits of the values and changes shown.

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn on.

    Examples
    --------
    >>> import loyaltylab as ll
    >>> d = ll.datasets.load_sample()
    >>> ax = plot_scorecard(ll.metrics.scorecard(d))
    """
    _need(result, ["metric", "unit", "previous", "current", "change", "change_ci_low",
                   "change_ci_high", "p_value"], "plot_scorecard")
    created = ax is None
    ax = get_ax(ax, figsize=(10, 0.32 * result.height + 0.8))
    ax.axis("off")
    if created:  # a table needs the figure's whole width at readable type
        ax.figure.subplots_adjust(left=0.02, right=0.98)

    def fmt(v, unit):
        if v is None:
            return "-"
        if unit == "share":
            return f"{v * 100:.1f} %"
        if unit == "count":
            return f"{v:,.0f}"
        if unit == "currency":
            return f"{v:,.2f}" if abs(v) < 1e4 else f"{v:,.0f}"
        return _plain(v, digits)

    def fmt_change(r):
        c = r["change"]
        if c is None:
            return "-"
        if r["unit"] == "share":
            s = f"{c * 100:+.1f} pts"
            if r["change_ci_low"] is not None:
                s += f" [{r['change_ci_low'] * 100:+.1f}, {r['change_ci_high'] * 100:+.1f}]"
            return s
        s = _plain(c, digits, sign=True) if r["unit"] not in ("count", "currency") else \
            f"{c:+,.0f}" if abs(c) >= 100 else f"{c:+,.2f}"
        if r["change_ci_low"] is not None:
            s += (f" [{_plain(r['change_ci_low'], digits, sign=True)}, "
                  f"{_plain(r['change_ci_high'], digits, sign=True)}]")
        return s

    rows = []
    for r in result.iter_rows(named=True):
        p = r["p_value"]
        rows.append([r["metric"], fmt(r["previous"], r["unit"]), fmt(r["current"], r["unit"]),
                     fmt_change(r), "-" if p is None else ("<0.001" if p < 0.001 else
                                                           f"{p:.3f}")])
    if result.height:
        prev = result["previous_period"][0]
        cur = result["current_period"][0]
        heads = ["Figure", f"{prev:%Y-%m-%d} on", f"{cur:%Y-%m-%d} on",
                 "Change [95 % CI]", "p"]
    else:
        heads = ["Figure", "previous", "current", "change", "p"]
    table = ax.table(cellText=rows, colLabels=heads, cellLoc="right", colLoc="right",
                     colWidths=[0.33, 0.15, 0.15, 0.29, 0.08], bbox=[0, 0, 1, 1])
    table.auto_set_font_size(False)
    table.set_fontsize(MIN_FONT_PT["text"])
    for (i, j), cell in table.get_celld().items():
        cell.PAD = 0.03  # of the cell's width, each side (matplotlib: 0.1)
        cell.set_edgecolor("#DDDDDD")
        if i == 0:
            cell.set_text_props(weight="bold")
        if j == 0:
            cell.set_text_props(ha="left")
            cell._loc = "left"
    ax.set_title(title or f"Loyalty scorecard, {result.height} figures")
    add_footnote(ax, "Intervals: Wilson for shares, Newcombe hybrid score for changes in "
                     "shares, Student-t / normal for means, exact Poisson for contact rates. "
                     "p: two-proportion or z-test of the change.")
    return literal_text(ax)


def _plain(v: float, digits: int = 3, *, sign: bool = False) -> str:
    """``v`` to ``digits`` significant digits, never in scientific notation.

    Examples
    --------
    >>> _plain(1093225.4), _plain(0.00904, sign=True), _plain(-127.3), _plain(0.0)
    ('1,093,225', '+0.00904', '-127', '0')
    """
    import math

    plus = "+" if sign else ""
    if v == 0 or not math.isfinite(v):
        return f"{v:{plus}g}"
    decimals = max(0, digits - 1 - math.floor(math.log10(abs(v))))
    return f"{v:{plus},.{decimals}f}"


def plot_departure_reasons(result: pl.DataFrame, *, ax: Axes | None = None,
                           title: str | None = None) -> Axes:
    """Forest plot of :func:`loyaltylab.metrics.departure_reasons`: how much more often
    customers left after each event (risk ratio, log scale, with its interval).

    Rows whose ratio is undefined (a zero count) are left out and named in the footnote.

    Parameters
    ----------
    result : pl.DataFrame
        :func:`loyaltylab.metrics.departure_reasons`.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; a new 16:9 figure when omitted.
    title : str, optional
        Chart title; a default that says what and how many when omitted.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import polars as pl
    >>> from loyaltylab.plots import plot_departure_reasons
    >>> r = pl.DataFrame({"reason": ["account manager left", "complained"],
    ...                   "customers": [60, 170], "risk_ratio": [1.6, 1.0],
    ...                   "rr_ci_low": [1.0, 0.7], "rr_ci_high": [2.4, 1.4]})
    >>> [t.get_text() for t in plot_departure_reasons(r).get_yticklabels()]
    ['complained', 'account manager left']
    """
    _need(result, ["reason", "customers", "risk_ratio", "rr_ci_low", "rr_ci_high"],
          "plot_departure_reasons")
    shown = result.filter(pl.col("rr_ci_low").is_not_null())
    ax = get_ax(ax, figsize=(8, max(2.5, 0.45 * shown.height + 1)))
    if shown.height:
        forest(ax, shown["reason"].to_list(), shown["risk_ratio"].to_numpy(),
               shown["rr_ci_low"].to_numpy(), shown["rr_ci_high"].to_numpy())
        for y, (n, hi) in enumerate(zip(shown["customers"].to_list()[::-1],
                                        shown["rr_ci_high"].to_list()[::-1])):
            ax.annotate(f"n = {n:,}", (hi, y), xytext=(4, 0), textcoords="offset points",
                        va="center", fontsize=8, color="#555555")
    ax.set_xlabel("customers who left, with the event / without it (log scale)")
    ax.set_title(title or "What happened before customers left")
    missing = result.filter(pl.col("rr_ci_low").is_null())["reason"].to_list()
    note = "Associations, not causes: each row compares customers with and without the event."
    if missing:
        note += f" Not shown (a zero count): {', '.join(missing)}."
    add_footnote(ax, note)
    return literal_text(ax)


def __dir__() -> list[str]:  # tab completion offers the public names, not np, pl, helpers
    return sorted(__all__)
