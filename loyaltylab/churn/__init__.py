"""Churn as a time-to-event question: survival tables, retention curves, drivers of
defection and the customers about to leave.

Customers who have not churned yet are *censored*, not loyal. :func:`churn_table` turns CRM
data into survival data with that in mind; the models wrap lifelines and expose the fitted
lifelines object as ``.lifelines_``.

- Survival data: :func:`churn_table` (inactivity or contract rule, covariates, a report of
  everything left out; a :class:`ChurnTable` whose filters keep the rule),
  :func:`churn_episodes` (time-varying, long format).
- Retention: :class:`KaplanMeier` / :func:`retention_curves` (bands, at-risk counts, median
  and 1-3 year survival), :func:`logrank_tests`, :func:`early_life_hazard`.
- Drivers: :class:`CoxModel` (hazard ratios, Schoenfeld check, stratification, held-out
  concordance), :class:`TimeVaryingCox` (manager departures, complaints, business change).
- Lifetimes: :class:`LifetimeModel` (Weibull / log-logistic by AIC, extrapolated).
- Action: :func:`at_risk_list` (an :class:`AtRiskList`); checks:
  :func:`time_split_validation`, :func:`calibration_table`, :func:`brier_score`,
  :func:`split_customers`.

Charts for every result are in :mod:`loyaltylab.plots` (``plot_retention``,
``plot_hazard_ratios``, ``plot_cumulative_hazard``, ``plot_calibration``,
``plot_at_risk_list``).
"""

from loyaltylab.churn._table import (DURATION, END, EVENT, LAST_ACTIVE, N_ORDERS, START,
                                     STOP, ChurnEpisodes, ChurnTable, ChurnTableReport,
                                     churn_episodes, churn_table)
from loyaltylab.churn._km import KaplanMeier, logrank_tests, retention_curves
from loyaltylab.churn._cox import CoxModel, TimeVaryingCox, split_customers
from loyaltylab.churn._parametric import LifetimeModel
from loyaltylab.churn._risk import (
    AtRiskList, ChurnValidation, at_risk_list, brier_score, calibration_table,
    early_life_hazard, time_split_validation,
)

__all__ = ["churn_table", "churn_episodes", "ChurnTable", "ChurnEpisodes", "ChurnTableReport",
           "AtRiskList", "KaplanMeier",
           "retention_curves", "logrank_tests", "CoxModel", "TimeVaryingCox", "split_customers",
           "LifetimeModel", "at_risk_list", "calibration_table", "brier_score",
           "time_split_validation", "ChurnValidation", "early_life_hazard",
           # the survival table's column names
           "START", "LAST_ACTIVE", "END", "DURATION", "EVENT", "N_ORDERS", "STOP"]


def __dir__() -> list[str]:  # tab completion offers the public names, not np, pl, helpers
    return sorted(__all__)
