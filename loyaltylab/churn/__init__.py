"""Churn as a time-to-event question: survival tables, retention curves, drivers of
defection and the customers about to leave.

Customers who have not churned yet are *censored*, not loyal. :func:`churn_table` turns CRM
data into survival data with that in mind; the models wrap lifelines and expose the fitted
lifelines object as ``.lifelines_``.
"""

from loyaltylab.churn._table import ChurnTableReport, churn_episodes, churn_table
from loyaltylab.churn._km import KaplanMeier, logrank_tests, retention_curves
from loyaltylab.churn._cox import CoxModel, TimeVaryingCox, split_customers
from loyaltylab.churn._parametric import LifetimeModel
from loyaltylab.churn._risk import (
    ChurnValidation, at_risk_list, brier_score, calibration_table, early_life_hazard,
    time_split_validation,
)

__all__ = ["churn_table", "churn_episodes", "ChurnTableReport", "KaplanMeier",
           "retention_curves", "logrank_tests", "CoxModel", "TimeVaryingCox", "split_customers",
           "LifetimeModel", "at_risk_list", "calibration_table", "brier_score",
           "time_split_validation", "ChurnValidation", "early_life_hazard"]
