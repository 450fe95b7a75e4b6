"""loyaltylab.metrics: the loyalty KPI engine.

Every metric takes the data first and keyword options (``by=`` customer attributes,
``period=``, ``as_of=``), and returns a polars DataFrame. A rate row carries its
numerator, denominator, value, a confidence interval (Wilson for proportions, exact Poisson
for counts per exposure, Student-t for means) and the definition used, so any figure can be
reconciled with a client's own dashboard.
"""

from loyaltylab.metrics.buying import (
    average_order_value, cross_line_share, customer_regularity, inter_purchase_time,
    purchase_frequency, purchase_regularity, repeat_purchase_rate, revenue_per_customer,
)
from loyaltylab.metrics.contacts import (
    channel_mix, channel_responsiveness, contact_conversion, contact_frequency,
    contacts_over_time, follow_up_rate, outbound_response,
)
from loyaltylab.metrics.complaints import (
    complaint_rate, resolution_time, retention_by_resolution,
)
from loyaltylab.metrics.effects import (
    departure_reasons, email_dose_response, manager_departure_churn, reward_scheme_comparison,
)
from loyaltylab.metrics.loyalty import BEHAVIOURS, loyalty_index, loyalty_profitability
from loyaltylab.metrics.profit import (
    acquisition_payback, biggest_vs_most_profitable, cost_to_keep_vs_win,
    customer_profitability, unprofitable_customers, whale_curve,
)
from loyaltylab.metrics.referrals import referral_rate, referrals_per_customer, referred_value
from loyaltylab.metrics.retention import (
    cohort_retention, defection_rate, early_life_churn, win_back_candidates,
    win_back_potential,
)
from loyaltylab.metrics.scorecard import last_complete_periods, scorecard
from loyaltylab.metrics._base import BAND_HIGH, BAND_LOW

__all__ = [
    # buying
    "repeat_purchase_rate", "purchase_frequency", "inter_purchase_time", "cross_line_share",
    "average_order_value", "revenue_per_customer", "purchase_regularity", "customer_regularity",
    # contacts
    "contact_frequency", "contacts_over_time", "channel_mix", "outbound_response",
    "contact_conversion", "follow_up_rate", "channel_responsiveness",
    # referrals
    "referral_rate", "referrals_per_customer", "referred_value",
    # complaints
    "complaint_rate", "resolution_time", "retention_by_resolution",
    # profitability
    "customer_profitability", "unprofitable_customers", "whale_curve", "acquisition_payback",
    "biggest_vs_most_profitable", "cost_to_keep_vs_win",
    # effects
    "manager_departure_churn", "reward_scheme_comparison", "email_dose_response",
    "departure_reasons",
    # loyalty index
    "loyalty_index", "loyalty_profitability", "BEHAVIOURS",
    # scorecard
    "scorecard", "last_complete_periods",
    # retention
    "cohort_retention", "defection_rate", "early_life_churn", "win_back_potential",
    "win_back_candidates", "BAND_LOW", "BAND_HIGH",
]


def __dir__() -> list[str]:  # tab completion offers the public names, not np, pl, helpers
    return sorted(__all__)
