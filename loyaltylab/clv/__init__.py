"""Customer-base models: how many customers stay, who is still active, what each is worth.

Maximum-likelihood versions, on scipy, of the Fader-Hardie family:

- :func:`rfm_summary`: frequency/recency/T/monetary value per customer from an orders log,
  with an optional calibration/holdout split (:func:`holdout_dates` picks its dates);
- :class:`ShiftedBetaGeo` (sBG): contractual retention of a cohort;
- :class:`BetaGeo` (BG/NBD), :class:`ModifiedBetaGeo` (MBG/NBD) and :class:`ParetoNBD`:
  repeat buying without contracts;
- :class:`GammaGamma`: spend per transaction;
- :class:`BetaGeoBetaBinom` (BG/BB): discrete repeat opportunities (annual events);
- :class:`ParetoNBDCovariates`, :class:`BetaGeoCovariates`, :class:`ShiftedBetaGeoCovariates`:
  the same models with time-invariant customer covariates (CLVTools' static covariates);
- :func:`customer_lifetime_value`: discounted value with intervals and a cost flag;
- :func:`customer_base_value`: the total over all customers, with an interval for the total;
- :func:`period_transactions`, :func:`holdout_comparison`, :func:`repeat_tracking`,
  :func:`probability_alive_matrix`, :func:`expected_purchases_matrix`,
  :func:`probability_alive_history`, :func:`expected_repeat_purchases`: model checks and
  the frames behind the charts.

Every fitted model has ``customer_log_likelihood`` and ``to_json``; :func:`load_model` reads
the JSON back. A fit that fails raises :class:`loyaltylab.exceptions.ConvergenceError` with
advice.
"""

from loyaltylab.clv._models import (BetaGeo, BetaGeoBetaBinom, GammaGamma, ModifiedBetaGeo,
                                    ParetoNBD, ShiftedBetaGeo)
from loyaltylab.clv._base import load_model
from loyaltylab.clv._covariates import (BetaGeoCovariates, ParetoNBDCovariates,
                                        ShiftedBetaGeoCovariates, covariate_matrix)
from loyaltylab.clv._rfm import (DURATION_HOLDOUT, FREQUENCY, FREQUENCY_HOLDOUT,
                                  MONETARY_VALUE, MONETARY_VALUE_HOLDOUT, RECENCY, T,
                                  TIME_UNITS, HoldoutDates, holdout_dates, rfm_summary)
from loyaltylab.clv._value import (customer_base_value, customer_lifetime_value,
                                   expected_purchases_matrix, expected_repeat_purchases,
                                   period_transactions,
                                   probability_alive_history,
                                   holdout_by_alive, holdout_comparison,
                                   probability_alive_matrix,
                                   repeat_tracking)
from loyaltylab.exceptions import ConvergenceError

__all__ = ["rfm_summary", "holdout_dates", "HoldoutDates", "ShiftedBetaGeo", "BetaGeo",
           "ModifiedBetaGeo", "ParetoNBD",
           "GammaGamma", "BetaGeoBetaBinom", "customer_lifetime_value", "customer_base_value",
           "holdout_comparison", "repeat_tracking", "probability_alive_matrix",
           "expected_purchases_matrix", "period_transactions", "probability_alive_history",
           "expected_repeat_purchases", "holdout_by_alive",
           "load_model", "ParetoNBDCovariates", "BetaGeoCovariates", "ShiftedBetaGeoCovariates",
           "covariate_matrix",
           "ConvergenceError",
           # the rfm summary's column names and time units
           "FREQUENCY", "RECENCY", "T", "MONETARY_VALUE", "FREQUENCY_HOLDOUT",
           "MONETARY_VALUE_HOLDOUT", "DURATION_HOLDOUT", "TIME_UNITS"]


def __dir__() -> list[str]:  # tab completion offers the public names, not np, pl, helpers
    return sorted(__all__)
