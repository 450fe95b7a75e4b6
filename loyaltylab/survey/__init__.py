"""loyaltylab.survey: survey scoring with honest intervals, and the link to behaviour."""
from loyaltylab.survey.scales import (
    AGREE_5, cronbach_alpha, item_analysis, likert_distribution, likert_scale, to_wide,
)
from loyaltylab.survey.scores import NPS_CI_METHODS, ces, csat, nps, nps_group

__all__ = ["nps", "csat", "ces", "nps_group", "NPS_CI_METHODS", "to_wide", "likert_scale",
           "likert_distribution", "cronbach_alpha", "item_analysis", "AGREE_5"]
