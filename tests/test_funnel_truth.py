"""loyaltylab.datasets.ladder_truth_check: the ladder's planted behaviour of the bundled sample
against the funnel's estimates (the check notebook 03 used to define inline)."""

from __future__ import annotations

import math
from datetime import datetime

import polars as pl
import pytest

import loyaltylab as ll
from loyaltylab.data import schema as S


@pytest.fixture(scope="module")
def sample():
    return ll.datasets.load_sample()


def test_planted_values_and_estimates_of_the_sample(sample):
    check = ll.datasets.ladder_truth_check(sample)
    assert check.columns == ["behaviour", "true", "estimate", "ci_low", "ci_high", "inside"]
    lad = sample.truth["ladder"]
    # the planted values: the simulator's parameters, and P(buys | was a prospect) by hand:
    # 0.65 of every offline person buys, 0.3 of buyers skip the prospect stage, so among
    # prospects 0.65 * 0.7 / (1 - 0.65 * 0.3) = 0.455 / 0.805 buy
    assert check["true"].to_list()[:4] == pytest.approx(
        [lad["p_online_first_visit_buy"], lad["p_offline_skip_prospect"],
         lad["p_suspect_offline"], 0.455 / 0.805])
    # the estimates and intervals printed by notebook 03 when the check was written inline
    # there (commit e043faf), to three decimals
    assert check.select(pl.col("true", "estimate", "ci_low", "ci_high").round(3)).rows() == [
        (0.3, 0.318, 0.286, 0.352), (0.3, 0.303, 0.283, 0.324), (0.2, 0.211, 0.196, 0.227),
        (0.565, 0.556, 0.525, 0.588), (0.628, 0.613, 0.583, 0.644)]
    assert check["inside"].all()
    # the first-visit share is the simulator's own observed share of first-visit buyers
    assert check["estimate"][0] == pytest.approx(lad["observed_share_first_visit_buyers_online"])


def test_wilson_rows_by_hand(sample):
    # the never-contacted row from assign_stages directly, and its Wilson interval written
    # out: centre (p + z^2/2n) / (1 + z^2/n), half z sqrt(p(1-p)/n + z^2/4n^2) / (1 + z^2/n)
    as_of = sample.as_of
    stages = ll.funnel.assign_stages(sample).join(sample.customers, on=S.CUSTOMER_ID)
    base = stages.filter(pl.col(S.ACQUISITION_CHANNEL).is_in(["advertising", "partnership",
                                                              "personal"])
                         & (pl.col(S.ACQUIRED_AT) <= datetime(as_of.year, as_of.month,
                                                              as_of.day)
                            - pl.duration(days=120)))
    k, n = int((base["stage"] == "suspect").sum()), base.height
    z = 1.959963984540054
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    row = ll.datasets.ladder_truth_check(sample).row(2, named=True)
    assert row["behaviour"] == "offline people never contacted"
    assert (row["estimate"], row["ci_low"], row["ci_high"]) == pytest.approx(
        (p, centre - half, centre + half), rel=1e-12)


def test_confidence_widens_every_interval(sample):
    narrow = ll.datasets.ladder_truth_check(sample, confidence=0.5)
    wide = ll.datasets.ladder_truth_check(sample)
    assert narrow["estimate"].to_list() == wide["estimate"].to_list()
    assert ((wide["ci_low"] < narrow["ci_low"]) & (narrow["ci_high"] < wide["ci_high"])).all()


def test_data_without_planted_truth_is_refused(sample):
    with pytest.raises(ValueError, match=r"no planted ladder truth \(data.truth\['ladder'\]\)"):
        ll.datasets.ladder_truth_check(sample.replace(truth=None))
    with pytest.raises(TypeError, match="expected a CRMData"):
        ll.datasets.ladder_truth_check(sample.customers)
