"""loyaltylab.survey: survey scoring with honest intervals, and the link to behaviour.

Satisfaction is an attitude, loyalty a behaviour: the scorers here (NPS, CSAT, CES, Likert
scales, reliability) come with confidence intervals, comparisons and sample-size planning;
the behaviour functions test whether answers predict repurchase, referral and churn.
"""
from loyaltylab.survey.behaviour import (
    OUTCOMES, BehaviourLink, answers_with_outcomes, drivers, link_to_behaviour, loyalty_profit,
    nps_group_outcomes, relative_weights, retention_by_nps_group, retest_reliability,
    satisfaction_hazard,
    satisfaction_trap,
)
from loyaltylab.survey.compare import compare_scores, margin_of_error, sample_size, score_trend
from loyaltylab.survey.quality import (
    drop_flagged, item_nonresponse, response_quality, survey_length,
)
from loyaltylab.survey.scales import (
    AGREE_5, cronbach_alpha, item_analysis, likert_distribution, likert_scale, likert_summary,
    to_wide,
)
from loyaltylab.survey.scores import NPS_CI_METHODS, ces, csat, nps, nps_group

__all__ = ["nps", "csat", "ces", "nps_group", "NPS_CI_METHODS", "to_wide", "likert_scale",
           "likert_summary",
           "likert_distribution", "cronbach_alpha", "item_analysis", "AGREE_5",
           "compare_scores", "score_trend", "margin_of_error", "sample_size",
           "response_quality", "item_nonresponse", "survey_length", "drop_flagged",
           "answers_with_outcomes", "link_to_behaviour", "BehaviourLink", "OUTCOMES",
           "retest_reliability", "satisfaction_hazard", "retention_by_nps_group",
           "nps_group_outcomes",
           "satisfaction_trap", "drivers", "relative_weights", "loyalty_profit"]


def __dir__() -> list[str]:  # tab completion offers the public names, not np, pl, helpers
    return sorted(__all__)
