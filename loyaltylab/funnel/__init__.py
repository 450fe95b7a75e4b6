"""Loyalty ladders: who is at which stage, how many climb, who skips, who lapses, and where
the base is heading.

A ladder is an ordered list of named stages, each with a rule written from event counts
(orders, contacts, referrals, web sessions, ...). :data:`OFFLINE` and :data:`ONLINE` are the
two standard ladders; :func:`offline_ladder` and :func:`online_ladder` build them with other
thresholds, and :class:`Ladder`, :class:`Stage` and :class:`Count` build any other.

Every stage is evaluated on events up to ``as_of``; a customer's stage is the highest stage
reached by then. :func:`stages_from_crm` places customers by a CRM's own lifecycle stage
instead (HubSpot's subscriber, lead, ..., evangelist, with their dates), mapped onto the
rungs, for comparison with the ladder measured from the events. Being *lapsed* (no order
and no contact for ``lapse_after``) is a separate flag: a lapsed customer keeps the highest
stage reached.

Evaluating a ladder is the costly step every analysis needs. :meth:`Ladder.evaluate`
does it once and returns a :class:`Timeline` (the date each person first reached each
stage), which every analysis accepts in place of ``(data, ladder)``::

    timeline = OFFLINE.evaluate(data)
    funnel(timeline); transition_matrix(timeline, start="2025-01-01")

The package holds one concern per module: :mod:`~loyaltylab.funnel.conditions` (the rule
language), :mod:`~loyaltylab.funnel.ladder` (stages and ladders), the evaluation engine
(``_engine``) and the :class:`Timeline` (``_timeline``), and the analyses:
:mod:`~loyaltylab.funnel.stages`,
:mod:`~loyaltylab.funnel.timing`, :mod:`~loyaltylab.funnel.movement`,
:mod:`~loyaltylab.funnel.effects` and :mod:`~loyaltylab.funnel.crm`. Every public name is
importable from ``loyaltylab.funnel``.
"""

from loyaltylab.exceptions import LadderError
from loyaltylab.funnel._timeline import Timeline
from loyaltylab.funnel.conditions import All, AnyOf, Condition, Count, Not
from loyaltylab.funnel.crm import HUBSPOT_LIFECYCLE, HUBSPOT_LIFECYCLE_DATES, stages_from_crm
from loyaltylab.funnel.effects import attention_by_stage, business_change_effect
from loyaltylab.funnel.ladder import (LAPSED, OFFLINE, ONLINE, Ladder, RungChange, Stage,
                                      offline_ladder, online_ladder)
from loyaltylab.funnel.movement import (advocacy_outlook, project_mix, stage_mix,
                                        transition_matrix)
from loyaltylab.funnel.stages import (assign_stages, compare_groups, funnel, skipped_stages,
                                      stage_jumps)
from loyaltylab.funnel.timing import time_to_stage, time_to_stage_curves

__all__ = [
    "Condition", "Count", "All", "AnyOf", "Not", "Stage", "Ladder", "RungChange", "LadderError",
    "Timeline",
    "offline_ladder", "online_ladder", "OFFLINE", "ONLINE", "LAPSED",
    "assign_stages", "funnel", "compare_groups", "skipped_stages", "stage_jumps",
    "time_to_stage", "attention_by_stage",
    "time_to_stage_curves", "transition_matrix", "project_mix", "advocacy_outlook",
    "business_change_effect", "stage_mix", "stages_from_crm", "HUBSPOT_LIFECYCLE",
    "HUBSPOT_LIFECYCLE_DATES",
]


def __dir__() -> list[str]:  # tab completion offers the public names, not np, pl, helpers
    return sorted(__all__)
