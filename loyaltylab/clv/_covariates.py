"""Customer-base models with time-invariant covariates, fitted by maximum likelihood.

- :class:`ParetoNBDCovariates`: Pareto/NBD, covariates on the purchase and dropout rates;
- :class:`BetaGeoCovariates`: BG/NBD, covariates on the purchase rate and the dropout
  probability's distribution;
- :class:`ShiftedBetaGeoCovariates`: sBG for contractual retention, one row per customer.

Every fit uses an analytic gradient; standard errors come from the inverse Hessian (central
differences of that gradient).

The design matrix is in :mod:`loyaltylab.clv._covariates_design`, the shared fitter in
:mod:`loyaltylab.clv._covariates_fitter`, and each model in its own module; the names are
imported here, and :func:`loyaltylab.clv.load_model` finds the models in ``__all__``.
"""

from loyaltylab.clv._covariates_bgnbd import BetaGeoCovariates
from loyaltylab.clv._covariates_design import _NUMERIC, _levels, covariate_matrix  # noqa: F401
from loyaltylab.clv._covariates_fitter import (  # noqa: F401  (private names kept importable)
    _CovariateFitter, _RFMCovariates, _compress, _patterns, _unique_rows,
)
from loyaltylab.clv._covariates_pareto import ParetoNBDCovariates, _tail_series  # noqa: F401
from loyaltylab.clv._covariates_sbg import ShiftedBetaGeoCovariates

__all__ = ["ParetoNBDCovariates", "BetaGeoCovariates", "ShiftedBetaGeoCovariates",
           "covariate_matrix"]
