"""From answers to behaviour: do survey answers predict repurchase, referral and churn?

Satisfaction is an attitude and loyalty a behaviour; the functions here join each answer to
what the customer did afterwards and measure how well the one predicts the other.
"""

from __future__ import annotations

import math
import warnings
from typing import Any
from collections.abc import Mapping, Sequence

import numpy as np
import polars as pl
from scipy import stats

from loyaltylab import _stats
from loyaltylab._units import DAYS_PER_YEAR, SECONDS_PER_DAY, US_PER_DAY
from loyaltylab._util import parse_window, resolve_as_of
from loyaltylab.data import schema as S
from loyaltylab.data.crmdata import CRMData
from loyaltylab._fitter import Fitter
from loyaltylab.survey import _input as I
from loyaltylab.survey.scales import to_wide

__all__ = ["answers_with_outcomes", "link_to_behaviour", "BehaviourLink",
           "retest_reliability", "satisfaction_hazard", "retention_by_nps_group",
           "nps_group_outcomes",
           "satisfaction_trap", "drivers", "relative_weights", "loyalty_profit",
           "OUTCOMES"]

OUTCOMES = ("repurchase", "referral", "churn")
OUTCOME = "outcome"
GROUP = "nps_group"
_GROUP_ORDER = ["detractor", "passive", "promoter"]


def _check_data(data: Any) -> CRMData:
    if not isinstance(data, CRMData):
        raise TypeError(f"data: expected a CRMData (ll.load, ll.from_frames or "
                        f"ll.datasets.make_crm), got {type(data).__name__}")
    data.require(S.SURVEYS, purpose="linking survey answers to behaviour")
    return data


def _select_surveys(surveys: pl.DataFrame, survey: str | Sequence[str] | None
                    ) -> pl.DataFrame:
    if survey is None:
        return surveys
    names = [survey] if isinstance(survey, str) else list(survey)
    present = surveys.get_column(S.SURVEY).unique().to_list()
    unknown = [s for s in names if s not in present]
    if unknown:
        raise ValueError(f"survey: {unknown} not found; surveys present: "
                         f"{sorted(present)[:12]}")
    return surveys.filter(pl.col(S.SURVEY).is_in(names))


def _churn_dates(data: CRMData, definition: str, inactivity: Any) -> pl.DataFrame:
    from loyaltylab.churn import churn_table
    t = churn_table(data, definition=definition, inactivity=inactivity)
    return t.select(S.CUSTOMER_ID, pl.col("end").alias("_churn_end"),
                    pl.col("event").alias("_churn_event"))


def answers_with_outcomes(data: CRMData, *, survey: str | Sequence[str] | None = None,
                          items: Sequence[str] | None = None,
                          outcome: str = "repurchase", window: Any = "180d",
                          definition: str = "inactivity", inactivity: Any = "180d",
                          as_of: Any = None, warn: bool = True) -> pl.DataFrame:
    """Each survey response joined to what the customer did in the window after it.

    Parameters
    ----------
    data : CRMData
        Needs surveys, customers and orders; ``outcome="referral"`` needs referrals.
    survey : str or list of str, optional
        Survey waves to use (all by default).
    items : list of str, optional
        Items to keep as columns (all by default).
    outcome : {"repurchase", "referral", "churn"}
        - repurchase: at least one order in (answered_at, answered_at + window]
        - referral: at least one referral made in that window
        - churn: the customer's churn date (:func:`loyaltylab.churn.churn_table` with
          ``definition``) falls in that window
    window : str, int or timedelta
        Length of the follow-up window, e.g. "180d".
    definition, inactivity
        Churn definition passed to :func:`loyaltylab.churn.churn_table` (churn only).
    as_of : date, optional
        Observation date (default ``data.as_of``).
    warn : bool
        Warn about answers that cannot be linked (see ``status``).

    Returns
    -------
    pl.DataFrame
        One row per response (customer and survey):

        - customer_id, survey, answered_at, response_seconds: the response
        - <one column per item>: the answers
        - outcome: 1 if the behaviour happened in the window, 0 if not, null when the
          response cannot be linked
        - status: "linked"; "window_open" (the window ends after as_of: not yet known);
          "unknown_customer" (the customer is not in the customers table);
          "after_churn" (churn outcome: answered after the customer's churn date)

        Nothing is dropped: unlinked responses keep a null outcome and their status.

    Examples
    --------
    >>> import loyaltylab as ll
    >>> data = ll.datasets.load_sample()
    >>> out = ll.survey.answers_with_outcomes(data, outcome="referral", window="365d")
    >>> sorted(out["status"].unique().to_list())
    ['linked', 'window_open']
    """
    data = _check_data(data)
    if outcome not in OUTCOMES:
        raise ValueError(f"outcome: expected one of {list(OUTCOMES)}, got {outcome!r}")
    td = parse_window(window)
    T = resolve_as_of(data, as_of)
    wide = to_wide(_select_surveys(data.surveys, survey), items=items)
    known = data.customers.select(S.CUSTOMER_ID).unique().with_columns(
        pl.lit(True).alias("_known"))
    wide = wide.join(known, on=S.CUSTOMER_ID, how="left")
    keys = [S.CUSTOMER_ID, S.SURVEY]
    ans = wide.select(*keys, S.ANSWERED_AT).with_columns(
        (pl.col(S.ANSWERED_AT) + td).alias("_until"))
    if outcome == "repurchase":
        ev = data.orders.select(S.CUSTOMER_ID, pl.col(S.ORDERED_AT).alias("_t"))
    elif outcome == "referral":
        data.require(S.REFERRALS, purpose="the referral outcome")
        ev = data.referrals.select(pl.col(S.REFERRER_ID).alias(S.CUSTOMER_ID),
                                   pl.col(S.REFERRED_AT).alias("_t"))
    else:
        ev = None
    if ev is not None:
        hits = (ans.join(ev, on=S.CUSTOMER_ID, how="inner")
                .filter((pl.col("_t") > pl.col(S.ANSWERED_AT)) & (pl.col("_t") <= pl.col("_until")))
                .group_by(keys).agg(pl.len().alias("_hits")))
        out = wide.join(hits, on=keys, how="left").with_columns(
            (pl.col("_hits").fill_null(0) > 0).cast(pl.Int8).alias(OUTCOME),
            pl.lit(False).alias("_after"))
    else:
        churn = _churn_dates(data, definition, inactivity)
        out = wide.join(churn, on=S.CUSTOMER_ID, how="left").with_columns(
            ((pl.col("_churn_event") == 1)
             & (pl.col("_churn_end") <= pl.col(S.ANSWERED_AT) + td)).cast(pl.Int8)
            .alias(OUTCOME),
            ((pl.col("_churn_event") == 1) & (pl.col("_churn_end") <= pl.col(S.ANSWERED_AT)))
            .fill_null(False).alias("_after"))
        # a churn date falling in an open window is still an observed churn
    open_ = pl.col(S.ANSWERED_AT) + td > T
    if outcome == "churn":
        open_ = open_ & (pl.col(OUTCOME) != 1)
    status = (pl.when(pl.col("_known").is_null()).then(pl.lit("unknown_customer"))
              .when(pl.col("_after")).then(pl.lit("after_churn"))
              .when(open_).then(pl.lit("window_open"))
              .otherwise(pl.lit("linked")))
    out = out.with_columns(status.alias("status")).with_columns(
        pl.when(pl.col("status") == "linked").then(pl.col(OUTCOME)).otherwise(None)
        .alias(OUTCOME))
    drop = [c for c in ("_known", "_hits", "_after", "_churn_end", "_churn_event")
            if c in out.columns]
    out = out.drop(drop).sort(S.ANSWERED_AT, S.CUSTOMER_ID)
    if warn:
        counts = dict(out.group_by("status").len().iter_rows())
        unknown = counts.get("unknown_customer", 0)
        if unknown:
            ids = (out.filter(pl.col("status") == "unknown_customer")
                   .get_column(S.CUSTOMER_ID).unique(maintain_order=True).head(3).to_list())
            warnings.warn(f"surveys: {unknown} responses come from customers not in the "
                          f"customers table (first: {ids}); kept with status "
                          f"'unknown_customer' and no outcome", UserWarning, stacklevel=2)
    return out


def _reliability(rel: Any) -> tuple[float, float]:
    """``(r, se_r)`` from a number (se 0) or a :func:`retest_reliability` frame.

    For the frame, ``se_r = (1 - r^2) / sqrt(n_pairs - 3)`` (delta method on Fisher's z).
    """
    if isinstance(rel, pl.DataFrame):
        if not {"reliability", "n_pairs"} <= set(rel.columns) or rel.height != 1:
            raise ValueError("reliability: expected a number or the one-row frame of "
                             "retest_reliability()")
        r, n = float(rel["reliability"][0]), int(rel["n_pairs"][0])
        se = (1 - r**2) / math.sqrt(n - 3)
    elif isinstance(rel, (int, float)) and not isinstance(rel, bool):
        r, se = float(rel), 0.0
    else:
        raise TypeError(f"reliability: expected a number or a retest_reliability() frame, "
                        f"got {type(rel).__name__}")
    if not 0 < r <= 1:
        raise ValueError(f"reliability: expected a value in (0, 1], got {r:.3g}; an item "
                         f"this unreliable cannot be corrected")
    return r, se


def _correct(b: float, se: float, rel: Any) -> tuple[float, float]:
    """Regression calibration ``b / r`` with delta-method standard error
    ``sqrt(se^2 / r^2 + b^2 se_r^2 / r^4)``."""
    r, se_r = _reliability(rel)
    return b / r, math.sqrt(se**2 / r**2 + b**2 * se_r**2 / r**4)


def _auc(y: np.ndarray, p: np.ndarray) -> float:
    """Area under the ROC curve (Mann-Whitney form, ties counted half)."""
    y = np.asarray(y).astype(bool)
    n1, n0 = int(y.sum()), int((~y).sum())
    if n1 == 0 or n0 == 0:
        return float("nan")
    ranks = stats.rankdata(p)
    return float((ranks[y].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def _calibration(y: np.ndarray, p: np.ndarray, bins: int) -> pl.DataFrame:
    order = np.argsort(p, kind="stable")
    groups = np.array_split(order, min(bins, max(len(p), 1)))
    rows = []
    for b, idx in enumerate(groups):
        if idx.size == 0:
            continue
        k, n = int(y[idx].sum()), int(idx.size)
        lo, hi = _stats.wilson_interval(k, n)
        rows.append({"bin": b + 1, "n": n, "mean_predicted": float(p[idx].mean()),
                     "observed": k / n, "ci_low": float(lo), "ci_high": float(hi)})
    return pl.DataFrame(rows, schema={"bin": pl.Int64, "n": pl.Int64,
                                      "mean_predicted": pl.Float64, "observed": pl.Float64,
                                      "ci_low": pl.Float64, "ci_high": pl.Float64})


class BehaviourLink(Fitter):
    """Logistic regression of a later behaviour on survey answers.

    Parameters
    ----------
    survey : str or list of str, optional
        Survey waves to use (all by default).
    predictors : list of str
        Items used as predictors (default ``["nps"]``).
    attributes : list of str
        Customer attributes added as predictors, such as the reward programme a customer
        is in (``reward_scheme``) or their ``segment``. Text attributes enter as one
        indicator per level against a reference level; an empty value is its own level
        "(missing)". Numeric attributes enter as they are, and responses where they are
        empty are left out of the fit (counted in ``n_excluded_``).
    reference : dict, optional
        Attribute -> reference level (default: the attribute's most frequent level).
    outcome : {"repurchase", "referral", "churn"}
        The behaviour (see :func:`answers_with_outcomes`).
    window : str
        Follow-up window after each answer.
    test_share : float
        Share of customers held out to measure AUC and calibration.
    seed : int
        Seed of the customer split.
    bins : int
        Bins of the calibration table.
    reliability : float or pl.DataFrame, optional
        Reliability of a single predictor: a number, or the frame returned by
        :func:`retest_reliability` (then its sampling error widens the interval, by the
        delta method). When given, odds ratios are corrected for measurement error by
        regression calibration: coefficient divided by the reliability.
    confidence : float
        Interval coverage.
    definition, inactivity
        Churn definition (``outcome="churn"``).

    Attributes
    ----------
    result_ : statsmodels LogitResults
        Fitted on all linked responses; standard errors clustered by customer when a
        customer answered more than once.
    answers_ : pl.DataFrame
        The responses with outcome and status (:func:`answers_with_outcomes`).
    auc_ : float
        AUC on the held-out customers' answers (model refitted on the others).
    calibration_ : pl.DataFrame
        Held-out calibration: bin, n, mean_predicted, observed, ci_low, ci_high (Wilson).
    params_ : dict
        Term -> logit coefficient of ``result_`` (uncorrected).
    terms_ : list of str
        The predictors, then one term per attribute (``"reward_scheme=every_purchase"``
        for a level of a text attribute).
    n_excluded_ : int
        Linked responses left out because a numeric attribute was empty.
    n_, n_events_, n_test_ : int
        Responses fitted, positive outcomes among them, held-out responses.

    Examples
    --------
    >>> import loyaltylab as ll
    >>> link = ll.survey.BehaviourLink(outcome="referral", window="365d")
    >>> link.fit(ll.datasets.load_sample()) is link
    True
    >>> link.odds_ratios["ci_low"][0] > 1      # more likely to refer per NPS point
    True
    """

    def __init__(self, *, survey: str | Sequence[str] | None = None,
                 predictors: Sequence[str] = ("nps",), outcome: str = "repurchase",
                 window: Any = "180d", test_share: float = 0.3, seed: int = 0,
                 bins: int = 10, reliability: Any = None,
                 confidence: float = 0.95, definition: str = "inactivity",
                 inactivity: Any = "180d", attributes: Sequence[str] = (),
                 reference: Mapping[str, Any] | None = None) -> None:
        if outcome not in OUTCOMES:
            raise ValueError(f"outcome: expected one of {list(OUTCOMES)}, got {outcome!r}")
        if not 0 < test_share < 1:
            raise ValueError(f"test_share: expected a share in (0, 1), got {test_share}")
        if reliability is not None:
            _reliability(reliability)
            if len(predictors) != 1 or attributes:
                raise ValueError("reliability: the correction applies to a single "
                                 f"predictor and no attributes, got {list(predictors)} and "
                                 f"attributes {list(attributes)}")
        if isinstance(attributes, str):
            attributes = [attributes]
        unknown_ref = set(reference or {}) - set(attributes)
        if unknown_ref:
            raise ValueError(f"reference: {sorted(unknown_ref)} are not among the attributes "
                             f"{list(attributes)}")
        self.attributes = list(attributes)
        self.reference = dict(reference or {})
        self.survey = survey
        self.predictors = list(predictors)
        self.outcome = outcome
        self.window = window
        self.test_share = test_share
        self.seed = seed
        self.bins = bins
        self.reliability = reliability
        self.confidence = confidence
        self.definition = definition
        self.inactivity = inactivity

    def fit(self, data: CRMData) -> BehaviourLink:
        """Join answers to outcomes and fit; returns ``self``."""
        import statsmodels.api as sm

        answers = answers_with_outcomes(
            data, survey=self.survey, outcome=self.outcome, window=self.window,
            definition=self.definition, inactivity=self.inactivity)
        missing = [p for p in self.predictors if p not in answers.columns]
        if missing:
            items = [c for c in answers.columns if c not in (
                S.CUSTOMER_ID, S.SURVEY, S.ANSWERED_AT, S.RESPONSE_SECONDS, OUTCOME,
                "status")]
            raise ValueError(f"predictors: items {missing} not in the surveys; items are "
                             f"{items}")
        use = answers.filter((pl.col("status") == "linked")
                             & pl.all_horizontal([pl.col(p).is_not_null()
                                                  for p in self.predictors]))
        if use.height < 20:
            raise ValueError(f"link_to_behaviour: only {use.height} responses can be linked "
                             f"to a {self.window} window before as_of; use a shorter window "
                             f"or earlier survey waves")
        use, extra = self._attribute_terms(use, data)
        y = use.get_column(OUTCOME).to_numpy().astype(float)
        if y.min() == y.max():
            raise ValueError(f"outcome {self.outcome!r}: every linked response has outcome "
                             f"{int(y[0])}; nothing to predict")
        self.terms_ = [*self.predictors, *extra]
        X = sm.add_constant(use.select(self.terms_).to_pandas(), has_constant="add")
        groups = use.get_column(S.CUSTOMER_ID).to_numpy()
        repeat = len(np.unique(groups)) < len(groups)
        model = sm.Logit(y, X)
        if repeat:
            codes = np.unique(groups, return_inverse=True)[1]
            self.result_ = model.fit(disp=0, cov_type="cluster",
                                     cov_kwds={"groups": codes})
        else:
            self.result_ = model.fit(disp=0)
        rng = np.random.default_rng(self.seed)
        custs = np.unique(groups)
        test_ids = set(rng.choice(custs, size=max(1, int(round(self.test_share * custs.size))),
                                  replace=False).tolist())
        is_test = np.array([g in test_ids for g in groups])
        p_test = np.array([])
        if is_test.sum() and (~is_test).sum() and len(np.unique(y[~is_test])) == 2:
            train = sm.Logit(y[~is_test], X[~is_test]).fit(disp=0)
            p_test = np.asarray(train.predict(X[is_test]))
        self.auc_ = _auc(y[is_test], p_test) if p_test.size else float("nan")
        self.calibration_ = _calibration(y[is_test], p_test, self.bins)
        self.answers_ = answers
        self.n_ = use.height
        self.n_events_ = int(y.sum())
        self.n_test_ = int(is_test.sum())
        self.n_customers_ = int(custs.size)
        self.status_counts_ = dict(answers.group_by("status").len().iter_rows())
        self.params_ = {str(k): float(v) for k, v in self.result_.params.items()}
        return self

    def _attribute_terms(self, use: pl.DataFrame, data: CRMData
                         ) -> tuple[pl.DataFrame, list[str]]:
        """``use`` with a column per attribute term, and the term names."""
        self.n_excluded_ = 0
        if not self.attributes:
            return use, []
        customers = data.customers
        missing = [a for a in self.attributes if a not in customers.columns]
        if missing:
            have = [c for c in customers.columns if c != S.CUSTOMER_ID]
            raise ValueError(f"attributes: {missing} are not columns of the customers table; "
                             f"it has {have}")
        use = use.join(customers.select(S.CUSTOMER_ID, *self.attributes),
                       on=S.CUSTOMER_ID, how="left")
        terms: list[str] = []
        for a in self.attributes:
            col = use.get_column(a)
            if col.dtype.is_numeric():
                before = use.height
                use = use.filter(pl.col(a).is_not_null())
                self.n_excluded_ += before - use.height
                use = use.with_columns(pl.col(a).cast(pl.Float64))
                terms.append(a)
                continue
            text = pl.col(a).cast(pl.String).fill_null("(missing)")
            levels = (use.select(text.alias("v")).get_column("v").value_counts()
                      .sort(["count", "v"], descending=[True, False]))  # ties: by name
            names = levels.get_column("v").to_list()
            ref = self.reference.get(a, names[0] if names else None)
            if ref not in names:
                raise ValueError(f"reference: {a} has no answers at level {ref!r}; its "
                                 f"levels are {sorted(names)}")
            for level in sorted(n for n in names if n != ref):
                term = f"{a}={level}"
                use = use.with_columns((text == level).cast(pl.Float64).alias(term))
                terms.append(term)
        return use, terms

    _fitted_attr = "result_"
    _fit_hint = " (or use ll.survey.link_to_behaviour)"

    @property
    def odds_ratios(self) -> pl.DataFrame:
        """Odds ratios per predictor.

        Returns
        -------
        pl.DataFrame
            - term: predictor (per one scale point), or attribute term (a level against
              the reference level, or per unit of a numeric attribute)
            - coef: log odds ratio (corrected when ``reliability`` is given)
            - se: its standard error
            - odds_ratio: exp(coef)
            - ci_low, ci_high: interval for the odds ratio
            - p_value: Wald test of no effect (uncorrected coefficient)
        """
        self._check_fitted()
        z = _stats.z_value(self.confidence)
        params, bse, pv = self.result_.params, self.result_.bse, self.result_.pvalues
        rows = []
        for term in self.terms_:
            c, s = float(params[term]), float(bse[term])
            if self.reliability is not None:
                c, s = _correct(c, s, self.reliability)
            rows.append({"term": term, "coef": c, "se": s, "odds_ratio": math.exp(c),
                         "ci_low": math.exp(c - z * s), "ci_high": math.exp(c + z * s),
                         "p_value": float(pv[term])})
        return pl.DataFrame(rows)

    summary = odds_ratios

    def _options(self) -> str:
        return f"outcome={self.outcome!r}, window={self.window!r}"

    def _describe(self) -> str:
        return (f"{self.outcome} within {self.window} on "
                f"{', '.join(self.predictors + self.attributes)}; fitted on {self.n_:,} "
                f"responses of {self.n_customers_:,} customers ({self.n_events_:,} with the "
                f"outcome); "
                f"held-out AUC {self.auc_:.3f} on {self.n_test_:,} responses")


def link_to_behaviour(data: CRMData, *, survey: str | Sequence[str] | None = None,
                      outcome: str = "repurchase", window: Any = "180d",
                      predictors: Sequence[str] = ("nps",), **options: Any) -> BehaviourLink:
    """Do survey answers predict what customers do next? A fitted :class:`BehaviourLink`.

    Each response is joined to the customer's behaviour in the ``window`` after answering
    (:func:`answers_with_outcomes`), then a logistic regression (statsmodels ``Logit``)
    of the outcome on the answers is fitted. Responses whose window is not yet over, or
    from customers unknown to the customers table, are kept in ``answers_`` with their
    status and left out of the fit.

    Parameters
    ----------
    data : CRMData
        Surveys, customers and orders (and referrals for ``outcome="referral"``).
    survey, outcome, window, predictors, **options
        See :class:`BehaviourLink`.

    Returns
    -------
    BehaviourLink
        Fitted: ``.result_`` (statsmodels), ``.odds_ratios``, ``.auc_`` (held-out),
        ``.calibration_``, ``.answers_``.

    Notes
    -----
    The model is ``logit P(outcome) = b0 + b' x``; ``exp(b)`` is the odds ratio per scale
    point. A survey item measures the attitude with noise, which biases ``b`` towards 0
    (regression dilution); pass ``reliability=`` to correct a single predictor by
    regression calibration (Carroll et al. 2006, Measurement Error in Nonlinear Models).

    Examples
    --------
    >>> import loyaltylab as ll
    >>> data = ll.datasets.make_crm(1500, years=3, seed=3)
    >>> link = ll.survey.link_to_behaviour(data, outcome="repurchase", window="180d")
    >>> link.odds_ratios["odds_ratio"][0] > 1
    True
    """
    return BehaviourLink(survey=survey, outcome=outcome, window=window,
                         predictors=predictors, **options).fit(data)


def retest_reliability(responses: Any, *, item: str = "nps",
                            confidence: float = 0.95) -> pl.DataFrame:
    """Test-retest reliability of an item: correlation between a customer's answers in two
    consecutive waves.

    When the attitude is stable between waves, the correlation of two answers estimates
    the share of the answers' variance that is signal (the reliability), the factor by
    which measurement error shrinks regression slopes.

    Parameters
    ----------
    responses : pl.DataFrame or CRMData
        The long ``surveys`` table.
    item : str
        Item to assess.
    confidence : float
        Coverage of the Fisher-z interval.

    Returns
    -------
    pl.DataFrame
        One row:

        - item: the item
        - n_pairs: customers with two answers (their first two waves)
        - reliability: Pearson correlation of the first and second answer
        - ci_low, ci_high: Fisher-z interval

    Examples
    --------
    >>> import polars as pl
    >>> from loyaltylab.survey import retest_reliability
    >>> long = pl.DataFrame({"customer_id": list("aabbccdd"), "survey": ["w1", "w2"] * 4,
    ...     "item": ["nps"] * 8, "score": [9.0, 10, 3, 4, 7, 6, 5, 5],
    ...     "answered_at": [None] * 8}).cast({"answered_at": pl.Datetime("us")})
    >>> round(retest_reliability(long)["reliability"][0], 3)
    0.933
    """
    frame, _ = I.responses_and_customers(responses)
    sort_cols = [S.ANSWERED_AT, S.SURVEY] if S.ANSWERED_AT in frame.columns else [S.SURVEY]
    pairs = (frame.filter((pl.col(S.ITEM) == item) & pl.col(S.SCORE).is_not_null())
             .sort(sort_cols)
             .group_by(S.CUSTOMER_ID, maintain_order=True)
             .agg(pl.col(S.SCORE).cast(pl.Float64).alias("_s"))
             .filter(pl.col("_s").list.len() >= 2)
             .select(pl.col("_s").list.get(0).alias("a"), pl.col("_s").list.get(1).alias("b")))
    n = pairs.height
    if n < 4:
        raise ValueError(f"item {item!r}: {n} customers answered twice; test-retest "
                         f"reliability needs at least 4")
    r = float(np.corrcoef(pairs["a"].to_numpy(), pairs["b"].to_numpy())[0, 1])
    z = _stats.z_value(confidence)
    fz, se = math.atanh(max(min(r, 0.999999), -0.999999)), 1 / math.sqrt(n - 3)
    return pl.DataFrame({"item": [item], "n_pairs": [n], "reliability": [r],
                         "ci_low": [math.tanh(fz - z * se)],
                         "ci_high": [math.tanh(fz + z * se)]})


def _known_only(data: CRMData, first: pl.DataFrame, purpose: str) -> pl.DataFrame:
    """Keep answers of customers in the customers table; warn about (report) the others."""
    unknown = first.join(data.customers.select(S.CUSTOMER_ID), on=S.CUSTOMER_ID, how="anti")
    if unknown.height:
        ids = unknown.get_column(S.CUSTOMER_ID).head(3).to_list()
        warnings.warn(f"surveys: {unknown.height} customers who answered are not in the "
                      f"customers table (first: {ids}); their behaviour is unknown, so "
                      f"{purpose} leaves them out", UserWarning, stacklevel=3)
    return first.join(data.customers.select(S.CUSTOMER_ID), on=S.CUSTOMER_ID, how="semi")


def _survival_after_answer(data: CRMData, *, item: str, survey, definition: str,
                           inactivity: Any) -> pl.DataFrame:
    """One row per customer: the first answer to ``item`` given during the customer's
    lifetime (first order to churn or as_of) and survival from then on.

    Answers outside any lifetime (from prospects who never ordered, or given on or after
    the churn date the rule assigns) cannot start a survival clock; they are counted in a
    warning, never dropped silently.
    """
    from loyaltylab.churn import churn_table
    frame = _select_surveys(data.surveys, survey)
    answers = (frame.filter((pl.col(S.ITEM) == item) & pl.col(S.SCORE).is_not_null())
               .select(S.CUSTOMER_ID, S.ANSWERED_AT, S.SCORE))
    if answers.height == 0:
        raise ValueError(f"item {item!r}: no answers in the surveys table")
    answers = _known_only(data, answers, "the survival analysis")
    t = churn_table(data, definition=definition, inactivity=inactivity)
    within = (answers.join(t.select(S.CUSTOMER_ID, "start", "end", "event", "n_orders"),
                           on=S.CUSTOMER_ID, how="inner")
              .filter((pl.col(S.ANSWERED_AT) >= pl.col("start"))
                      & (pl.col(S.ANSWERED_AT) < pl.col("end"))))
    table = (within.sort(S.ANSWERED_AT).group_by(S.CUSTOMER_ID, maintain_order=True).first()
             .with_columns(((pl.col("end") - pl.col(S.ANSWERED_AT)).dt.total_microseconds()
                            / US_PER_DAY).alias("duration"),
                           pl.col("event").cast(pl.Int8),
                           _nps_group_expr(pl.col(S.SCORE)))
             .sort(S.CUSTOMER_ID))
    outside = (answers.join(table.select(S.CUSTOMER_ID), on=S.CUSTOMER_ID, how="anti")
               .join(t.select(S.CUSTOMER_ID, "start", "end"), on=S.CUSTOMER_ID, how="left"))
    if outside.height:
        per = outside.group_by(S.CUSTOMER_ID).agg(
            pl.col("start").is_null().any().alias("_never"),
            (pl.col(S.ANSWERED_AT) >= pl.col("end")).any().alias("_after"))
        n_never = int(per["_never"].sum())
        n_after = int((~per["_never"] & per["_after"]).sum())
        n_before = per.height - n_never - n_after
        warnings.warn(f"surveys: {per.height} customers answered {item!r} only outside their "
                      f"lifetime under the {definition!r} churn rule ({n_never} never became "
                      f"customers, {n_before} answered only before their first order, "
                      f"{n_after} only on or after their churn date); they cannot start a "
                      f"survival clock and are left out", UserWarning, stacklevel=3)
    return table


def _nps_group_expr(s: pl.Expr) -> pl.Expr:
    return (pl.when(s >= 9).then(pl.lit("promoter")).when(s >= 7).then(pl.lit("passive"))
            .otherwise(pl.lit("detractor")).alias(GROUP))


def satisfaction_hazard(data: CRMData, *, item: str = "nps", survey=None,
                        reliability: Any = None, definition: str = "inactivity",
                        inactivity: Any = "180d", confidence: float = 0.95) -> pl.DataFrame:
    """Hazard ratio of churn per answer point, from the answer onwards (Cox model).

    Each customer's first answer to ``item`` starts their clock; churn dates come from
    :func:`loyaltylab.churn.churn_table` and the model is :class:`loyaltylab.churn.CoxModel`.

    Parameters
    ----------
    data : CRMData
        Surveys, customers, orders (and subscriptions for ``definition="contract"``).
    item : str
        The survey item (0-10 ``nps`` by default).
    survey : str or list, optional
        Waves to use.
    reliability : float or pl.DataFrame, optional
        Reliability of the item, a number or the :func:`retest_reliability` frame (whose
        sampling error then widens the interval); corrects the log hazard ratio for
        measurement error by regression calibration (divided by the reliability).
    definition, inactivity
        Churn definition.
    confidence : float
        Interval coverage.

    Returns
    -------
    pl.DataFrame
        One row:

        - item: the item
        - n: customers
        - events: churns observed after the answer
        - log_hr, se: log hazard ratio per point and its standard error (corrected when
          ``reliability`` is given)
        - hazard_ratio, ci_low, ci_high: per answer point
        - p_value: Wald test of no effect, on the uncorrected coefficient (the correction
          rescales the effect but cannot create one)
        - reliability: the correction used (null when none)

    Notes
    -----
    Regression calibration divides the log hazard ratio by the reliability ``r`` of the
    item (its signal share of variance); the standard error becomes
    ``sqrt(se^2/r^2 + b^2 se_r^2/r^4)`` where ``se_r`` is the sampling error of ``r``
    (zero when ``r`` is given as a number). The correction is exact for linear models and
    a good approximation for Cox and logistic models when effects per point are moderate
    (Carroll et al. 2006, Measurement Error in Nonlinear Models, ch. 4). It needs the
    attitude to be stable between the waves used to estimate ``r``.

    Examples
    --------
    >>> import loyaltylab as ll
    >>> data = ll.survey.drop_flagged(ll.datasets.load_sample())
    >>> rel = ll.survey.retest_reliability(data)
    >>> h = ll.survey.satisfaction_hazard(data, definition="contract", reliability=rel)
    >>> h["ci_low"][0] < 0.85 < h["ci_high"][0]    # the planted HR per point
    True
    """
    from loyaltylab.churn import CoxModel
    data = _check_data(data)
    table = _survival_after_answer(data, item=item, survey=survey, definition=definition,
                                   inactivity=inactivity).filter(pl.col("duration") > 0)
    cox = CoxModel(covariates=[S.SCORE], confidence=confidence).fit(table)
    cph = cox.lifelines_
    b = float(cph.params_[S.SCORE])
    se = float(cph.standard_errors_[S.SCORE])
    p = float(cph.summary.loc[S.SCORE, "p"])
    rel_value = None
    if reliability is not None:
        b, se = _correct(b, se, reliability)
        rel_value = _reliability(reliability)[0]
    z = _stats.z_value(confidence)
    return pl.DataFrame({"item": [item], "n": [cox.n_], "events": [cox.n_events_],
                         "log_hr": [b], "se": [se], "hazard_ratio": [math.exp(b)],
                         "ci_low": [math.exp(b - z * se)], "ci_high": [math.exp(b + z * se)],
                         "p_value": [p], "reliability": [rel_value]},
                        schema_overrides={"reliability": pl.Float64})


def retention_by_nps_group(data: CRMData, *, item: str = "nps", survey=None,
                           definition: str = "inactivity", inactivity: Any = "180d",
                           confidence: float = 0.95) -> pl.DataFrame:
    """Do promoters really stay? Kaplan-Meier retention curves by NPS group.

    Each customer's first answer to ``item`` starts their clock (time 0 = the answer);
    churn dates come from :func:`loyaltylab.churn.churn_table` and the curves from
    :func:`loyaltylab.churn.retention_curves`.

    Parameters
    ----------
    data : CRMData
        Surveys, customers and orders (subscriptions for ``definition="contract"``).
    item, survey, definition, inactivity, confidence
        As in :func:`satisfaction_hazard`.

    Returns
    -------
    pl.DataFrame
        The columns of :func:`loyaltylab.churn.retention_curves`:

        - group: detractor, passive or promoter
        - timeline: days since the answer
        - survival: share still a customer
        - ci_low, ci_high: pointwise band
        - at_risk, observed, censored: customers at risk, churns and censorings at that time

    See Also
    --------
    nps_group_outcomes : retention at a horizon and orders per year, one row per group.

    Examples
    --------
    >>> import loyaltylab as ll
    >>> curves = ll.survey.retention_by_nps_group(ll.datasets.load_sample(),
    ...                                           definition="contract")
    >>> curves["group"].unique(maintain_order=True).to_list()
    ['detractor', 'passive', 'promoter']
    """
    from loyaltylab.churn import retention_curves
    data = _check_data(data)
    table = _survival_after_answer(data, item=item, survey=survey, definition=definition,
                                   inactivity=inactivity)
    return retention_curves(table, by=GROUP, confidence=confidence)


def nps_group_outcomes(data: CRMData, *, item: str = "nps", survey=None,
                       definition: str = "inactivity", inactivity: Any = "180d",
                       horizon: Any = "365d", confidence: float = 0.95) -> pl.DataFrame:
    """Do promoters stay longer and buy more? One row per NPS group.

    Parameters
    ----------
    data : CRMData
        Surveys, customers and orders.
    item, survey, definition, inactivity, confidence
        As in :func:`retention_by_nps_group`.
    horizon : str
        When to read the retention curve ("365d": a year after answering).

    Returns
    -------
    pl.DataFrame
        One row per group:

        - nps_group: detractor, passive or promoter
        - customers: customers in the group
        - churned: churns observed after the answer
        - retention: Kaplan-Meier retention at ``horizon`` after the answer
        - ci_low, ci_high: its interval
        - orders_per_year: orders after the answer per year of observed lifetime after it
          (with the inactivity rule a churner's lifetime includes the inactive window, so
          compare groups rather than read the level)

    Examples
    --------
    >>> import loyaltylab as ll
    >>> out = ll.survey.nps_group_outcomes(ll.datasets.load_sample(), definition="contract")
    >>> out["nps_group"].to_list()
    ['detractor', 'passive', 'promoter']
    """
    from loyaltylab.churn import retention_curves
    data = _check_data(data)
    td = parse_window(horizon, name="horizon")
    table = _survival_after_answer(data, item=item, survey=survey, definition=definition,
                                   inactivity=inactivity)
    curves = retention_curves(table, by=GROUP, confidence=confidence)
    h = td.total_seconds() / SECONDS_PER_DAY
    orders = (data.orders.join(table.select(S.CUSTOMER_ID, S.ANSWERED_AT, "end"),
                               on=S.CUSTOMER_ID)
              .filter((pl.col(S.ORDERED_AT) > pl.col(S.ANSWERED_AT))
                      & (pl.col(S.ORDERED_AT) <= pl.col("end")))
              .group_by(S.CUSTOMER_ID).agg(pl.len().alias("_orders")))
    per = table.join(orders, on=S.CUSTOMER_ID, how="left").with_columns(
        pl.col("_orders").fill_null(0))
    rows = []
    for g in _GROUP_ORDER:
        sub = per.filter(pl.col(GROUP) == g)
        last = curves.filter((pl.col("group") == g) & (pl.col("timeline") <= h)).tail(1)
        years = float(sub["duration"].sum()) / DAYS_PER_YEAR
        rows.append({GROUP: g, "customers": sub.height,
                     "churned": int(sub["event"].sum()) if sub.height else 0,
                     "retention": float(last["survival"][0]) if last.height else None,
                     "ci_low": float(last["ci_low"][0]) if last.height else None,
                     "ci_high": float(last["ci_high"][0]) if last.height else None,
                     "orders_per_year": float(sub["_orders"].sum()) / years if years > 0
                     else None})
    return pl.DataFrame(rows, schema={GROUP: pl.String, "customers": pl.Int64,
                                      "churned": pl.Int64, "retention": pl.Float64,
                                      "ci_low": pl.Float64, "ci_high": pl.Float64,
                                      "orders_per_year": pl.Float64})


def satisfaction_trap(data: CRMData, *, item: str = "csat", satisfied_from: float = 4,
                      survey=None, horizon: Any = "365d", definition: str = "inactivity",
                      inactivity: Any = "180d", confidence: float = 0.95) -> pl.DataFrame:
    """The satisfaction trap: how many satisfied customers still defected within a year?

    Parameters
    ----------
    data : CRMData
        Surveys, customers and orders.
    item : str
        Item defining satisfaction ("csat"; use "nps" with ``satisfied_from=9`` for
        promoters).
    satisfied_from : float
        Lowest answer counted as satisfied (4 = top two boxes on 1-5).
    survey, definition, inactivity
        As in :func:`satisfaction_hazard`.
    horizon : str
        "Within a year" by default. Customers whose horizon after answering ends after
        ``as_of`` without a churn are left out (their outcome is unknown).
    confidence : float
        Coverage of the Wilson intervals.

    Returns
    -------
    pl.DataFrame
        One row per group ("satisfied", "not satisfied", "all"):

        - group: the group
        - customers: customers whose outcome at the horizon is known
        - defected: of whom churned within the horizon after their first answer
        - defected_pct: percent
        - ci_low, ci_high: Wilson interval in percent

    Examples
    --------
    >>> import loyaltylab as ll
    >>> trap = ll.survey.satisfaction_trap(ll.datasets.load_sample(), definition="contract")
    >>> trap["group"].to_list()
    ['satisfied', 'not satisfied', 'all']
    >>> trap["defected"][0] > 0     # satisfied customers who still left
    True
    """
    data = _check_data(data)
    td = parse_window(horizon, name="horizon")
    T = resolve_as_of(data)
    table = _survival_after_answer(data, item=item, survey=survey, definition=definition,
                                   inactivity=inactivity)
    h = td.total_seconds() / SECONDS_PER_DAY
    table = table.with_columns(
        ((pl.col("event") == 1) & (pl.col("duration") <= h)).alias("_defected"),
        (pl.col(S.ANSWERED_AT) + td <= T).alias("_observed"))
    known = table.filter(pl.col("_defected") | pl.col("_observed"))
    rows = []
    for name, cond in (("satisfied", pl.col(S.SCORE) >= satisfied_from),
                       ("not satisfied", pl.col(S.SCORE) < satisfied_from),
                       ("all", pl.lit(True))):
        sub = known.filter(cond)
        n, k = sub.height, int(sub["_defected"].sum()) if sub.height else 0
        lo, hi = _stats.wilson_interval(k, n, confidence=confidence)
        rows.append({"group": name, "customers": n, "defected": k,
                     "defected_pct": 100 * k / n if n else None,
                     "ci_low": 100 * float(lo) if n else None,
                     "ci_high": 100 * float(hi) if n else None})
    return pl.DataFrame(rows, schema={"group": pl.String, "customers": pl.Int64,
                                      "defected": pl.Int64, "defected_pct": pl.Float64,
                                      "ci_low": pl.Float64, "ci_high": pl.Float64})


def relative_weights(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float]:
    """Johnson's (2000) relative weights: each predictor's share of R^2.

    Returns the raw weights (summing to R^2) and R^2.

    Parameters
    ----------
    X : numpy.ndarray
        Predictors, one column each (n rows, k columns).
    y : numpy.ndarray
        Outcome, n values.

    Returns
    -------
    weights : numpy.ndarray
        Raw relative weight of each predictor (k values summing to R^2).
    r2 : float
        R^2 of the linear regression of ``y`` on ``X``.
    """
    Z = (X - X.mean(0)) / X.std(0, ddof=1)
    yz = (y - y.mean()) / y.std(ddof=1)
    n = len(y)
    Rxx = (Z.T @ Z) / (n - 1)
    rxy = (Z.T @ yz) / (n - 1)
    evals, evecs = np.linalg.eigh(Rxx)
    evals = np.clip(evals, 0, None)
    Lam = evecs @ np.diag(np.sqrt(evals)) @ evecs.T        # correlations X with orthogonal Z*
    beta_star = np.linalg.solve(Lam, rxy)                   # y on the orthogonal variables
    raw = (Lam**2) @ (beta_star**2)
    return raw, float(beta_star @ beta_star)


def drivers(frame: Any, *, target: str, predictors: Sequence[str],
            confidence: float = 0.95) -> pl.DataFrame:
    """Which items drive the target? Standardised coefficients and relative weights.

    Parameters
    ----------
    frame : pl.DataFrame or pandas.DataFrame
        One row per response with the target and predictor columns, e.g.
        :func:`loyaltylab.survey.to_wide` output, or ``link.answers_`` with ``outcome``.
        Rows with a missing value are left out.
    target : str
        What to explain: an overall score ("nps") or a behaviour ("outcome").
    predictors : list of str
        The candidate drivers.
    confidence : float
        Coverage of the coefficient intervals.

    Returns
    -------
    pl.DataFrame
        One row per predictor, strongest relative weight first:

        - item: the predictor
        - r: its correlation with the target
        - beta: standardised regression coefficient (OLS on z-scores)
        - beta_ci_low, beta_ci_high: its interval
        - p_value: t test of beta
        - relative_weight: Johnson's raw relative weight (the weights sum to R^2)
        - weight_pct: share of the explained variance in percent (sums to 100)
        - r2: R^2 of the whole model (same on every row)
        - n: rows used

    Notes
    -----
    Correlated items share credit; standardised betas then mislead (they can even flip
    sign). Johnson's relative weights transform the items to their closest orthogonal
    counterparts, regress the target on those, and split R^2 back to the items.

    References
    ----------
    Johnson, J. W. (2000), "A heuristic method for estimating the relative weight of
    predictor variables in multiple regression", Multivariate Behavioral Research 35(1).

    Examples
    --------
    >>> import numpy as np, polars as pl
    >>> from loyaltylab.survey import drivers
    >>> rng = np.random.default_rng(0)
    >>> a, b = rng.normal(size=500), rng.normal(size=500)
    >>> df = pl.DataFrame({"a": a, "b": b, "y": 2 * a + b + rng.normal(size=500)})
    >>> drivers(df, target="y", predictors=["a", "b"])["item"].to_list()
    ['a', 'b']
    """
    import statsmodels.api as sm
    from loyaltylab._util import as_polars
    df = as_polars(frame, name="frame")
    missing = [c for c in [target, *predictors] if c not in df.columns]
    if missing:
        raise ValueError(f"drivers: columns {missing} not found; columns are {df.columns}")
    if len(predictors) < 1:
        raise ValueError("predictors: name at least one item")
    sub = df.select([target, *predictors]).drop_nulls().cast(pl.Float64)
    n, k = sub.height, len(predictors)
    if n <= k + 2:
        raise ValueError(f"drivers: {n} complete rows for {k} predictors; need more")
    X = sub.select(predictors).to_numpy()
    y = sub.get_column(target).to_numpy()
    const = [p for p, s in zip(predictors, X.std(0)) if s == 0]
    if const or y.std() == 0:
        raise ValueError(f"drivers: no variation in {const or [target]}; drop them")
    raw, r2 = relative_weights(X, y)
    Z = (X - X.mean(0)) / X.std(0, ddof=1)
    yz = (y - y.mean()) / y.std(ddof=1)
    res = sm.OLS(yz, sm.add_constant(Z)).fit()
    ci = np.asarray(res.conf_int(alpha=1 - confidence))
    r = [float(np.corrcoef(X[:, j], y)[0, 1]) for j in range(k)]
    out = pl.DataFrame({
        "item": list(predictors), "r": r, "beta": np.asarray(res.params)[1:],
        "beta_ci_low": ci[1:, 0], "beta_ci_high": ci[1:, 1],
        "p_value": np.asarray(res.pvalues)[1:], "relative_weight": raw,
        "weight_pct": 100 * raw / raw.sum() if raw.sum() > 0 else raw * np.nan,
        "r2": [r2] * k, "n": [n] * k})
    return out.sort("relative_weight", descending=True)


def loyalty_profit(data: CRMData, *, item: str = "nps", survey=None, window: Any = "365d",
                   confidence: float = 0.95) -> pl.DataFrame:
    """Loyalty against profitability: profit in the year after answering, by NPS group.

    Profit is revenue (order amounts) minus the cost to serve (contacts' cost, where the
    contacts table has one) in the ``window`` after each customer's first answer; only
    customers whose window ended by ``as_of`` count.

    Parameters
    ----------
    data : CRMData
        Surveys, customers, orders (and contacts for costs).
    item : str
        Item giving the groups (0-10 NPS item).
    survey, window, confidence
        Waves, follow-up window and interval coverage.

    Returns
    -------
    pl.DataFrame
        One row per group (detractor, passive, promoter, then "all"):

        - nps_group: the group
        - customers: customers with a complete window
        - revenue_mean: mean revenue in the window
        - cost_mean: mean cost to serve
        - profit_mean: mean profit
        - ci_low, ci_high: t interval of the mean profit
        - profit_share_pct: the group's share of total profit in percent
        - spearman_r: Spearman correlation of the answer with profit over all customers
          (same on every row)
        - spearman_p: its p-value

    Examples
    --------
    >>> import loyaltylab as ll
    >>> profit = ll.survey.loyalty_profit(ll.datasets.load_sample(), window="365d")
    >>> profit["nps_group"].to_list()
    ['detractor', 'passive', 'promoter', 'all']
    """
    data = _check_data(data)
    td = parse_window(window)
    T = resolve_as_of(data)
    frame = _select_surveys(data.surveys, survey)
    first = (frame.filter((pl.col(S.ITEM) == item) & pl.col(S.SCORE).is_not_null())
             .sort(S.ANSWERED_AT).group_by(S.CUSTOMER_ID, maintain_order=True)
             .agg(pl.col(S.ANSWERED_AT).first(), pl.col(S.SCORE).first())
             .filter(pl.col(S.ANSWERED_AT) + td <= T)
             .with_columns((pl.col(S.ANSWERED_AT) + td).alias("_until"),
                           _nps_group_expr(pl.col(S.SCORE))))
    first = _known_only(data, first, "loyalty_profit")

    def window_sum(table: pl.DataFrame | None, time_col: str, value_col: str, name: str):
        if table is None or value_col not in table.columns:
            return pl.DataFrame({S.CUSTOMER_ID: [], name: []},
                                schema={S.CUSTOMER_ID: pl.String, name: pl.Float64})
        return (table.select(S.CUSTOMER_ID, time_col, value_col)
                .join(first.select(S.CUSTOMER_ID, S.ANSWERED_AT, "_until"), on=S.CUSTOMER_ID)
                .filter((pl.col(time_col) > pl.col(S.ANSWERED_AT))
                        & (pl.col(time_col) <= pl.col("_until")))
                .group_by(S.CUSTOMER_ID).agg(pl.col(value_col).sum().cast(pl.Float64)
                                             .alias(name)))

    rev = window_sum(data.orders, S.ORDERED_AT, S.AMOUNT, "_rev")
    cost = window_sum(data.contacts, S.CONTACTED_AT, S.CONTACT_COST, "_cost")
    per = (first.join(rev, on=S.CUSTOMER_ID, how="left").join(cost, on=S.CUSTOMER_ID,
                                                               how="left")
           .with_columns(pl.col("_rev").fill_null(0.0), pl.col("_cost").fill_null(0.0))
           .with_columns((pl.col("_rev") - pl.col("_cost")).alias("_profit")))
    if per.height < 3:
        raise ValueError(f"loyalty_profit: {per.height} customers answered {item!r} at "
                         f"least {window} before as_of; use a shorter window")
    rho, p = stats.spearmanr(per[S.SCORE].to_numpy(), per["_profit"].to_numpy())
    total = float(per["_profit"].sum())
    rows = []
    for g in [*_GROUP_ORDER, "all"]:
        sub = per if g == "all" else per.filter(pl.col(GROUP) == g)
        n = sub.height
        x = sub["_profit"].to_numpy()
        m = float(x.mean()) if n else None
        if n > 1:
            q = stats.t.ppf(0.5 + confidence / 2, n - 1) * x.std(ddof=1) / math.sqrt(n)
            lo, hi = m - q, m + q
        else:
            lo = hi = None
        rows.append({GROUP: g, "customers": n,
                     "revenue_mean": float(sub["_rev"].mean()) if n else None,
                     "cost_mean": float(sub["_cost"].mean()) if n else None,
                     "profit_mean": m, "ci_low": lo, "ci_high": hi,
                     "profit_share_pct": 100 * float(x.sum()) / total if total else None,
                     "spearman_r": float(rho), "spearman_p": float(p)})
    return pl.DataFrame(rows, schema={GROUP: pl.String, "customers": pl.Int64,
                                      "revenue_mean": pl.Float64, "cost_mean": pl.Float64,
                                      "profit_mean": pl.Float64, "ci_low": pl.Float64,
                                      "ci_high": pl.Float64, "profit_share_pct": pl.Float64,
                                      "spearman_r": pl.Float64, "spearman_p": pl.Float64})


def __dir__() -> list[str]:  # tab completion offers the public names, not np, pl, helpers
    return sorted(__all__)
