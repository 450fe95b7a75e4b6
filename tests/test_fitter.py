"""The fitter contract every model shares (loyaltylab._fitter) and the HTML shown in
Jupyter for models, result objects and CRMData: one fitted check, one repr pattern, small
escaped HTML."""

from __future__ import annotations

import html

import polars as pl
import pytest
from lifelines.datasets import load_rossi

import loyaltylab as ll
from loyaltylab._fitter import Fitter, html_table
from loyaltylab.exceptions import NotFittedError

MODELS = [ll.churn.KaplanMeier, ll.churn.CoxModel, ll.churn.TimeVaryingCox,
          ll.churn.LifetimeModel, ll.survey.BehaviourLink, ll.clv.BetaGeo,
          ll.clv.ParetoNBD, ll.clv.GammaGamma, ll.clv.ShiftedBetaGeo,
          ll.clv.ParetoNBDCovariates]
FIT_ARGS = {"KaplanMeier": "table", "CoxModel": "table", "TimeVaryingCox": "episodes",
            "LifetimeModel": "table", "BehaviourLink": "data", "ShiftedBetaGeo": "survivors"}


@pytest.fixture(scope="module")
def rossi():
    return pl.from_pandas(load_rossi()).rename({"week": "duration", "arrest": "event"})


@pytest.mark.parametrize("cls", MODELS, ids=lambda c: c.__name__)
def test_every_model_shares_the_fitted_check_and_repr(cls):
    assert issubclass(cls, Fitter)
    # the check lives in one place: no model class defines its own
    assert all("_check_fitted" not in vars(k) for k in cls.__mro__ if k is not Fitter)
    m = cls()
    assert repr(m).startswith(f"{cls.__name__}(") and repr(m).endswith(") (not fitted)")
    arg = FIT_ARGS.get(cls.__name__, "rfm")  # the CLV models take an rfm summary
    with pytest.raises(NotFittedError, match=rf"This {cls.__name__} is not fitted yet; "
                                             rf"call \.fit\({arg}\) first"):
        m._check_fitted()
    assert m._repr_html_() == f"<div><p><b>{html.escape(repr(m))}</b></p></div>"


def test_fitted_models_say_what_they_were_fitted_on_in_text_and_html(rossi):
    km = ll.churn.KaplanMeier().fit(rossi)
    # 432 released prisoners, 114 re-arrested (Rossi et al. 1980): 318 censored
    assert repr(km) == "KaplanMeier: fitted on 432 customers, 318 censored"
    page = km._repr_html_()
    assert page.startswith("<div><p><b>KaplanMeier: fitted on 432 customers, 318 censored"
                           "</b></p><table><tr><th>group</th>")
    cox = ll.churn.CoxModel(covariates=["fin", "age", "prio"]).fit(rossi)
    assert repr(cox).startswith("CoxModel: fitted on 432 customers, 318 censored; "
                                "3 covariates")
    # the summary table: one row per covariate, numbers to four significant digits
    # (R's coxph on these data: fin coefficient -0.3470)
    page = cox._repr_html_()
    assert page.count("<tr>") == 1 + 3 and "<td>fin</td><td>fin</td><td>-0.347</td>" in page
    life = ll.churn.LifetimeModel().fit(rossi)
    assert repr(life).startswith("LifetimeModel: ") and "chosen by AIC" in repr(life)


def test_model_html_is_escaped(rossi):
    t = rossi.with_columns(pl.when(pl.col("fin") == 1).then(pl.lit("<b>aid</b> & more"))
                           .otherwise(pl.lit("none")).alias("group"))
    km = ll.churn.KaplanMeier().fit(t, by="group")
    assert repr(km).endswith("; 2 curves by group")
    page = km._repr_html_()
    assert "<b>aid</b>" not in page and "&lt;b&gt;aid&lt;/b&gt; &amp; more" in page


def test_html_table_is_small_and_escaped():
    frame = pl.DataFrame({"a<": [f"<{i}>" for i in range(25)], "x": [1 / 3] * 25})
    page = html_table(frame, max_rows=20)
    assert page.count("<tr>") == 21 and page.endswith("<p>5 more rows</p>")
    assert "<th>a&lt;</th>" in page and "<td>&lt;0&gt;</td><td>0.3333</td>" in page


def test_crmdata_html_lists_its_tables():
    data = ll.datasets.load_sample()
    page = data._repr_html_()
    assert page.startswith(f"<div><p><b>CRMData as of {data.as_of:%Y-%m-%d}</b>: "
                           f"{len(data.tables)} tables</p>")
    assert f"<tr><td>orders</td><td>{data.orders.height:,}</td>" in page
    assert page.count("<tr>") == 1 + len(data.tables)
