"""Charts for loyaltylab.survey results: each draws a result frame and computes nothing."""

from __future__ import annotations

import numpy as np
import polars as pl
from matplotlib.axes import Axes

from loyaltylab.plots._style import (
    PALETTE, add_footnote, error_lengths, get_ax, legend_above, literal_text)

__all__ = ["plot_nps", "plot_score_trend", "plot_likert", "plot_drivers",
           "plot_retention_by_nps_group"]

_DET, _PAS, _PRO = "#D55E00", "#BBBBBB", "#009E73"
_GROUP_COLORS = {"detractor": _DET, "passive": "#E69F00", "promoter": _PRO}
_NPS_COLS = {"n", "promoters", "passives", "detractors", "promoters_pct", "passives_pct",
             "detractors_pct", "nps", "se", "ci_low", "ci_high"}


def _labels(result: pl.DataFrame, stat_cols: set[str]) -> list[str]:
    keys = [c for c in result.columns if c not in stat_cols]
    if not keys:
        return ["all"] * result.height
    return [" / ".join(str(v) for v in row) for row in result.select(keys).iter_rows()]


def plot_nps(result: pl.DataFrame, *, ax: Axes | None = None, title: str | None = None,
             footnote: bool = True) -> Axes:
    """NPS as stacked bars (detractors, passives, promoters) with the score and interval.

    Parameters
    ----------
    result : pl.DataFrame
        Output of :func:`loyaltylab.survey.nps` (one bar per row).
    ax : Axes, optional
    title : str, optional
    footnote : bool
        Add the definitions and interval method under the chart.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import polars as pl, loyaltylab as ll
    >>> res = ll.survey.nps(pl.DataFrame({"score": [10.0, 9, 8, 3, 6, 10]}))
    >>> ax = ll.plots.plot_nps(res)
    """
    created = ax is None
    ax = get_ax(ax, figsize=(8, 1.6 + 0.55 * result.height))
    labels = _labels(result, _NPS_COLS | {"score", "wave_index", "started_at", "change",
                                          "change_p_value"})
    y = np.arange(result.height)
    det = result["detractors_pct"].fill_null(0).to_numpy()
    pas = result["passives_pct"].fill_null(0).to_numpy()
    pro = result["promoters_pct"].fill_null(0).to_numpy()
    ax.barh(y, det, color=_DET, label="detractors (0-6)")
    ax.barh(y, pas, left=det, color=_PAS, label="passives (7-8)")
    ax.barh(y, pro, left=det + pas, color=_PRO, label="promoters (9-10)")
    for i, row in enumerate(result.iter_rows(named=True)):
        if row["n"] == 0 or row["nps"] is None:
            text = "no answers"
        else:
            text = (f"NPS {row['nps']:+.0f}  [{row['ci_low']:+.0f}, {row['ci_high']:+.0f}]"
                    f"  n = {row['n']:,}")
        ax.text(101, i, text, va="center", fontsize=9)
    ax.set_yticks(y, labels)
    ax.set_xlim(0, 100)
    ax.set_xlabel("share of answers (%)")
    ax.invert_yaxis()
    pad = legend_above(ax, ncol=3)
    total = int(result["n"].sum())
    ax.set_title(title or f"Net Promoter Score, {total:,} answers", pad=pad)
    literal_text(ax)  # before the layout draws the labels
    if created:
        ax.figure.tight_layout()          # keep the axis label above the footnote
    if footnote:
        add_footnote(ax, "NPS = % promoters (9-10) - % detractors (0-6); brackets: 95 % "
                         "interval (adjusted-Wald unless stated).")
    return literal_text(ax)


def plot_score_trend(trend: pl.DataFrame, *, ax: Axes | None = None, wave: str | None = None,
                     title: str | None = None, ylabel: str | None = None) -> Axes:
    """NPS or CSAT over waves with interval bars.

    Parameters
    ----------
    trend : pl.DataFrame
        Output of :func:`loyaltylab.survey.score_trend` (columns score, ci_low, ci_high, n
        and the wave column).
    ax : Axes, optional
    wave : str, optional
        The wave column (default: the first column).
    title, ylabel : str, optional

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import polars as pl, loyaltylab as ll
    >>> answers = pl.DataFrame({"survey": ["a"] * 4 + ["b"] * 4,
    ...                         "score": [10.0, 9, 3, 8, 10, 10, 9, 2]})
    >>> ax = ll.plots.plot_score_trend(ll.survey.score_trend(answers))
    """
    ax = get_ax(ax)
    wave = wave or trend.columns[0]
    x = np.arange(trend.height)
    s = trend["score"].to_numpy().astype(float)
    lo = trend["ci_low"].to_numpy().astype(float)
    hi = trend["ci_high"].to_numpy().astype(float)
    ax.errorbar(x, s, yerr=error_lengths(s, lo, hi), fmt="o-", color=PALETTE[0], capsize=3,
                label="score with 95 % interval")
    ax.set_xticks(x, [str(v) for v in trend[wave].to_list()], rotation=45, ha="right")
    is_nps = "nps" in trend.columns
    ax.set_ylabel(ylabel or ("NPS (points)" if is_nps else "CSAT (% satisfied)"))
    ax.set_title(title or f"{'NPS' if is_nps else 'CSAT'} by wave, "
                          f"{int(trend['n'].sum()):,} answers")
    ax.legend(loc="best", fontsize=8)
    return literal_text(ax)


def plot_likert(distribution: pl.DataFrame, *, ax: Axes | None = None,
                title: str | None = None) -> Axes:
    """Diverging stacked bars of Likert answers, centred on the neutral point.

    Parameters
    ----------
    distribution : pl.DataFrame
        Output of :func:`loyaltylab.survey.likert_distribution`.
    ax : Axes, optional
    title : str, optional

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import polars as pl, loyaltylab as ll
    >>> d = ll.survey.likert_distribution(pl.DataFrame({"q1": [1, 5, 5, 4], "q2": [2, 2, 3, 4]}),
    ...                                   items=["q1", "q2"])
    >>> ax = ll.plots.plot_likert(d)
    """
    import matplotlib as mpl
    items = distribution["item"].unique(maintain_order=True).to_list()
    levels = distribution["level"].unique(maintain_order=True).sort().to_list()
    labels = (distribution.filter(pl.col("item") == items[0]).sort("level")["label"]
              .to_list())
    k = len(levels)
    cmap = mpl.colormaps["PuOr"]
    colors = [cmap(0.1 + 0.8 * i / max(k - 1, 1)) for i in range(k)]
    ax = get_ax(ax, figsize=(8, 1.2 + 0.5 * len(items)))
    mid = (k - 1) / 2
    for r, item in enumerate(items):
        pct = (distribution.filter(pl.col("item") == item).sort("level")["pct"]
               .fill_null(0).to_numpy())
        neg = pct[: int(np.floor(mid))].sum() + (pct[int(mid)] / 2 if k % 2 else 0)
        left = -neg
        for j in range(k):
            ax.barh(r, pct[j], left=left, color=colors[j],
                    label=labels[j] if r == 0 else None)
            left += pct[j]
    ax.axvline(0, color="#444444", lw=0.8)
    ax.set_yticks(range(len(items)), items)
    ax.invert_yaxis()
    ax.set_xlabel("share of answers (%): disagreement left, agreement right")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=k, fontsize=8)
    n = int(distribution.group_by("item").agg(pl.col("n_item").first())["n_item"].max())
    ax.set_title(title or f"Answers per item, up to {n:,} respondents")
    return literal_text(ax)


def plot_drivers(result: pl.DataFrame, *, ax: Axes | None = None,
                 title: str | None = None) -> Axes:
    """Driver chart: each item's share of explained variance, with its standardised beta.

    Parameters
    ----------
    result : pl.DataFrame
        Output of :func:`loyaltylab.survey.drivers`.
    ax : Axes, optional
    title : str, optional

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import numpy as np, polars as pl, loyaltylab as ll
    >>> rng = np.random.default_rng(0)
    >>> a, b = rng.normal(size=200), rng.normal(size=200)
    >>> df = pl.DataFrame({"a": a, "b": b, "y": 2 * a + b + rng.normal(size=200)})
    >>> ax = ll.plots.plot_drivers(ll.survey.drivers(df, target="y", predictors=["a", "b"]))
    """
    ax = get_ax(ax, figsize=(8, 1.2 + 0.5 * result.height))
    y = np.arange(result.height)
    ax.barh(y, result["weight_pct"].to_numpy(), color=PALETTE[0])
    for i, row in enumerate(result.iter_rows(named=True)):
        ax.text(row["weight_pct"] + 0.5, i, f"beta {row['beta']:+.2f}", va="center",
                fontsize=8)
    ax.set_yticks(y, result["item"].to_list())
    ax.invert_yaxis()
    ax.set_xlabel("relative weight (% of explained variance)")
    r2 = float(result["r2"][0]) if result.height else float("nan")
    ax.set_title(title or f"Drivers: relative weights, R² = {r2:.2f}, "
                          f"n = {int(result['n'][0]):,}")
    return literal_text(ax)


def plot_retention_by_nps_group(curves: pl.DataFrame, *, ax: Axes | None = None,
                                title: str | None = None) -> Axes:
    """Retention curves (Kaplan-Meier with bands) of detractors, passives and promoters.

    Parameters
    ----------
    curves : pl.DataFrame
        First output of :func:`loyaltylab.survey.retention_by_nps_group`.
    ax : Axes, optional
    title : str, optional

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import loyaltylab as ll
    >>> curves = ll.survey.retention_by_nps_group(ll.datasets.load_sample(),
    ...                                           definition="contract")
    >>> ax = ll.plots.plot_retention_by_nps_group(curves)
    """
    ax = get_ax(ax)
    total = 0
    for g in ("detractor", "passive", "promoter"):
        c = curves.filter(pl.col("group") == g).sort("timeline")
        if c.height == 0:
            continue
        n = int(c["at_risk"][0])
        total += n
        color = _GROUP_COLORS[g]
        ax.step(c["timeline"], c["survival"], where="post", color=color,
                label=f"{g}s (n = {n:,})")
        ax.fill_between(c["timeline"].to_numpy(), c["ci_low"].to_numpy(),
                        c["ci_high"].to_numpy(), step="post", color=color, alpha=0.15)
    ax.set_xlabel("days since the answer")
    ax.set_ylabel("share still a customer")
    ax.set_ylim(0, 1.02)
    ax.legend(loc="lower left", fontsize=8)
    ax.set_title(title or f"Retention after answering, by NPS group, {total:,} customers")
    return literal_text(ax)


def __dir__() -> list[str]:  # tab completion offers the public names, not np, pl, helpers
    return sorted(__all__)
