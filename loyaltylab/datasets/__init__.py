"""Bundled and simulated data.

- :func:`make_crm`: simulate a business whose planted effects are known (``data.truth``).
- :func:`load_sample`: the committed simulated sample in ``data/sample``.
- :func:`load_cdnow`: the real CDNOW transaction log (full or the 1/10th sample).
- :func:`load_donations`: the BG/BB donations table.
- :func:`make_client_export`, :func:`client_export_corpus`: the simulator's truth written
  as real client exports (languages, CSV conventions, workbooks, databases, broken rows,
  planted personal data), with what a faithful load must give (:class:`ClientExport`).
- :func:`make_platform_export` (Shopify, HubSpot, Stripe, Salesforce),
  :func:`make_survey_export` (Typeform), :func:`make_ticket_export` (Zendesk),
  :func:`make_email_export` (Mailchimp beside a Shopify export): platform
  exports in their own layout, with the revenue and rows a load with the platform's
  preset must give (:class:`PlatformExport`).
- :func:`ladder_truth_check`: the loyalty ladder's planted behaviour against the funnel's
  estimates.
"""

from loyaltylab.datasets._bundled import (data_path, load_cdnow, load_donations,
                                          load_sample)
from loyaltylab.datasets._exports import (ClientExport, client_export_corpus,
                                          make_client_export)
from loyaltylab.datasets._ladder_truth import ladder_truth_check
from loyaltylab.datasets._platforms import (PlatformExport, make_email_export,
                                            make_platform_export, make_survey_export,
                                            make_ticket_export)
from loyaltylab.datasets._simulate import make_crm
from loyaltylab.datasets._truth_tools import truth_episodes

__all__ = ["make_crm", "load_sample", "load_cdnow", "load_donations", "data_path",
           "truth_episodes", "ladder_truth_check", "make_client_export",
           "client_export_corpus", "ClientExport",
           "make_platform_export", "make_survey_export", "make_ticket_export",
           "make_email_export", "PlatformExport"]


def __dir__() -> list[str]:  # tab completion offers the public names, not np, pl, helpers
    return sorted(__all__)
