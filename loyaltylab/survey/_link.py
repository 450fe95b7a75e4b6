"""Whether answers predict behaviour (not public API): :class:`BehaviourLink`, its
reliability correction, discrimination and calibration, and :func:`link_to_behaviour`,
re-exported by :mod:`loyaltylab.survey.behaviour`.
"""

from __future__ import annotations

import math
from typing import Any
from collections.abc import Mapping, Sequence

import numpy as np
import polars as pl
from scipy import stats

from loyaltylab import _stats
from loyaltylab.data import schema as S
from loyaltylab.data.crmdata import CRMData
from loyaltylab._fitter import Fitter
from loyaltylab.survey._outcomes import OUTCOME, OUTCOMES, answers_with_outcomes


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
