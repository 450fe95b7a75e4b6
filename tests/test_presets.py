"""Platform presets (Shopify, HubSpot, Stripe): each generated export in the platform's
layout loads with the generator's revenue to the cent, every excluded row is accounted
for, e-mail keys never leave the loader, and the presets are found from the headers."""

from __future__ import annotations

import json
import os
from importlib import resources

import polars as pl
import pytest

import loyaltylab as ll
from loyaltylab.cli import main
from loyaltylab.data.mapping import read_mapping
from loyaltylab.data.presets import (PRESETS, detect_preset, detect_table, expand,
                                     load_preset)
from loyaltylab.datasets._exports import PLATFORM_CASES
from loyaltylab.datasets._platforms import (PLATFORMS, TYPEFORM_QUESTIONS,
                                            make_platform_export, make_survey_export)
from loyaltylab.exceptions import MappingError


@pytest.fixture(scope="module", params=PLATFORMS)
def loaded(request, tmp_path_factory):
    exp = make_platform_export(request.param, tmp_path_factory.mktemp(request.param),
                               n_customers=60, seed=7)
    data = ll.load(exp.path, mapping={"preset": request.param}, as_of=exp.as_of,
                   salt="s3cret")
    return exp, data


def test_revenue_equals_the_truth_to_the_cent(loaded):
    exp, data = loaded
    assert round(float(data.orders["amount"].sum()), 2) == pytest.approx(
        exp.truth["revenue"], abs=0.005)
    assert data.orders.height == exp.truth["orders"]
    assert data.customers.height == exp.truth["customers"]
    assert data.report.ok  # nothing rejected: every row is kept or excluded by a rule


def test_each_rule_excludes_what_the_generator_planted(loaded):
    exp, data = loaded
    excluded = dict(data.report.tables["orders"].excluded)
    excluded.pop("line items merged into their order", None)
    assert list(excluded) == list(exp.truth["excluded"])
    for rule, e in exp.truth["excluded"].items():
        assert excluded[rule]["n"] == e["n"], rule
        assert excluded[rule]["amount"] == pytest.approx(e["amount"], abs=0.005), rule
    # every kind of row the issue names is present in the export
    assert len(exp.truth["excluded"]) >= 2


def test_rows_read_are_kept_rejected_or_excluded_per_table(loaded):
    exp, data = loaded
    for name, t in data.report.tables.items():
        assert t.read == t.kept + t.rejected + sum(e["n"] for e in t.excluded.values()), name
    assert data.report.tables["orders"].read == exp.truth["read"]["orders"]


def test_validate_json_accounts_for_every_row(loaded, capsys):
    exp, _ = loaded
    mapping = exp.path / "mapping.toml"
    mapping.write_text(f'preset = "{exp.platform}"\n', encoding="utf-8")
    code = main(["validate", str(exp.path), "--mapping", str(mapping), "--as-of",
                 exp.as_of.strftime("%Y-%m-%d"), "--json"])
    mapping.unlink()
    assert code == 0
    doc = json.loads(capsys.readouterr().out)
    for t in doc["tables"].values():
        assert t["read"] == t["kept"] + t["rejected"] + sum(
            e["n"] for e in t.get("excluded", {}).values())


def test_no_e_mail_address_or_name_survives_the_load(loaded):
    exp, data = loaded
    seen = " ".join(str(f.to_dicts()) for f in data.tables.values()) + str(data.report)
    seen += data.report.to_json()
    assert "@example.com" not in seen.lower()
    for name in ("Anna", "Berg", "Hauptstrasse", "+49 30"):
        assert name not in seen


def test_shopify_guests_and_undated_accounts(tmp_path):
    exp = make_platform_export("shopify", tmp_path, n_customers=40, seed=3)
    data = ll.load(exp.path, mapping={"preset": "shopify"}, as_of=exp.as_of)
    cust = data.report.tables["customers"]
    # registered accounts without a paid order cannot be dated: excluded, not rejected
    assert sum(e["n"] for e in cust.excluded.values()) == exp.truth["customers_undated"]
    assert any("guest checkouts" in w for w in cust.warnings)
    # every kept order belongs to a kept customer (guests were added from the orders)
    assert data.orders["customer_id"].is_in(data.customers["customer_id"].implode()).all()
    # an order's lines were merged: as many merged rows as the generator wrote extra lines
    merged = data.report.tables["orders"].excluded["line items merged into their order"]
    assert merged["n"] == exp.truth["lines_merged"]
    # "Created at" carries its UTC offset; a customer's acquisition is their first order
    first = data.orders.group_by("customer_id").agg(pl.col("ordered_at").min())
    joined = data.customers.join(first, on="customer_id")
    assert joined.height == data.customers.height
    assert (joined["acquired_at"] == joined["ordered_at"]).all()


def test_hubspot_deal_before_contact_creation_is_normal(tmp_path):
    exp = make_platform_export("hubspot", tmp_path, n_customers=60, seed=5)
    data = ll.load(exp.path, mapping={"preset": "hubspot"}, as_of=exp.as_of)
    assert exp.truth["acquired_before_record"] > 0
    # tickets are complaints of their first contact; those without one are counted
    assert data.complaints.height == exp.truth["complaints"]
    assert data.report.tables["complaints"].excluded == {
        "no associated contact": {"n": exp.truth["complaints_without_contact"],
                                  "amount": None}}
    first = data.orders.group_by("customer_id").agg(pl.col("ordered_at").min())
    joined = data.customers.join(first, on="customer_id")
    assert (joined["acquired_at"] <= joined["ordered_at"]).all()


@pytest.mark.parametrize("platform", PLATFORMS)
def test_detect_preset_from_the_export_headers(platform, tmp_path):
    exp = make_platform_export(platform, tmp_path, n_customers=5, seed=1)
    for f in exp.files:
        cols = pl.read_csv(exp.path / f, n_rows=0, infer_schema=False).columns
        hit = detect_table(cols)
        assert hit is not None and hit[0] == platform, f
    assert detect_preset(["order_id", "customer_id", "amount"]) is None


def test_every_preset_parses_cites_its_documentation_and_ships_as_package_data():
    for name in PRESETS:
        assert resources.files("loyaltylab.data.presets").joinpath(f"{name}.toml").is_file()
        p = load_preset(name)
        assert p["preset"]["docs"] and all(u.startswith("https://")
                                          for u in p["preset"]["docs"])
        text = resources.files("loyaltylab.data.presets").joinpath(
            f"{name}.toml").read_text(encoding="utf-8")
        assert "Documentation:" in text
        if name == "typeform":  # a survey export: its questions come from the mapping
            with pytest.raises(MappingError, match="questions must map each question"):
                read_mapping({"preset": name})
            m = read_mapping({"preset": name, "tables": {"surveys": {
                "wide": {"questions": TYPEFORM_QUESTIONS}}}})
            assert m.table("surveys").rules.wide["questions"] == TYPEFORM_QUESTIONS
            continue
        m = read_mapping({"preset": name})
        if "orders" not in p["tables"]:  # complaints or e-mail activity: no revenue
            assert all(m.table(t).rules.where for t in p["tables"] if t != "customers")
            assert "What counts" in text or "Tickets" in text
            continue
        assert "Revenue rule" in text
        assert m.table("orders").rules is not None and m.table("orders").rules.where


def test_mapping_settings_win_over_the_preset_and_per_table_presets():
    m = read_mapping({"preset": "shopify",
                      "tables": {"orders": {"source": "Bestellungen.csv",
                                            "lines": {"amount": "sum"}}}})
    assert m.table("orders").source == ["Bestellungen.csv"]
    assert m.table("orders").rules.lines_key == "Name"  # merged key by key
    assert m.table("orders").rules.lines_amount == "sum"
    # a list replaces the preset's list as a whole
    m = read_mapping({"preset": "hubspot", "tables": {"orders": {"where": [
        {"column": "Deal Stage", "in": ["Closed Won", "Won (EU pipeline)"]}]}}})
    assert [(r.column, r.arg) for r in m.table("orders").rules.where] == [
        ("Deal Stage", ["closed won", "won (eu pipeline)"])]
    m = read_mapping({"tables": {"orders": {"preset": "stripe"}}})
    assert m.table("orders").columns["order_id"] == "id"
    assert m.table("customers").rules is None  # only the orders part was taken
    with pytest.raises(MappingError, match=r"unknown preset 'shopfy'.*Did you mean 'shopify'"):
        read_mapping({"preset": "shopfy"})
    with pytest.raises(MappingError, match="the stripe preset has no contacts table"):
        read_mapping({"tables": {"contacts": {"preset": "stripe"}}})
    assert expand({"tables": {}}) == {"tables": {}}


def test_hubspot_workbook_export_with_numeric_ids_links_deals_to_contacts(tmp_path):
    # HubSpot exports .xlsx by default: Record IDs are numbers there (51000.0 when read),
    # the associations text ("51000;51037"); both must name the same contact
    exp = make_platform_export("hubspot", tmp_path, n_customers=40, seed=2, excel=True)
    assert all(f.endswith(".xlsx") for f in exp.files)
    data = ll.load(exp.path, mapping={"preset": "hubspot"}, as_of=exp.as_of)
    assert round(float(data.orders["amount"].sum()), 2) == pytest.approx(
        exp.truth["revenue"], abs=0.005)
    assert data.customers.height == exp.truth["customers"]  # no contact counted twice
    assert not any("found only in" in w for w in data.report.tables["customers"].warnings)
    assert data.report.ok


def test_typeform_wide_export_gives_one_answer_per_row(tmp_path):
    exp = make_survey_export(tmp_path, n_customers=80, seed=4)
    data = ll.load(exp.path, as_of=exp.as_of, mapping={"tables": {"surveys": {
        "preset": "typeform", "wide": {"questions": TYPEFORM_QUESTIONS}}}})
    s = data.surveys
    assert s.height == exp.truth["answers"]
    means = dict(s.group_by("item").agg(pl.col("score").mean()).rows())
    for item, mean in exp.truth["mean"].items():
        assert means[item] == pytest.approx(mean)
    assert set(s["survey"]) == {"typeform"}
    t = data.report.tables["surveys"]
    assert t.excluded == {
        "no answer to the question": {"n": exp.truth["blank"], "amount": None},
        "partial response (not submitted)": {
            "n": exp.truth["partial"] * len(TYPEFORM_QUESTIONS), "amount": None}}
    assert t.read == exp.truth["responses"] * len(TYPEFORM_QUESTIONS)
    assert t.read == t.kept + t.rejected + sum(e["n"] for e in t.excluded.values())
    # the file is recognised from its headers
    cols = pl.read_csv(exp.path / "responses.csv", n_rows=0, infer_schema=False).columns
    assert detect_table(cols) == ("typeform", "surveys")


@pytest.mark.parametrize("platform", PLATFORMS)
def test_init_mapping_recognises_the_platform_and_its_draft_loads_the_truth(platform,
                                                                             tmp_path):
    import tomllib

    from loyaltylab.data.mapping import draft_mapping
    exp = make_platform_export(platform, tmp_path / "export", n_customers=30, seed=6)
    text = draft_mapping(exp.path)
    assert f'preset = "{platform}"' in text
    data = ll.load(exp.path, mapping=tomllib.loads(text), as_of=exp.as_of)
    assert round(float(data.orders["amount"].sum()), 2) == pytest.approx(
        exp.truth["revenue"], abs=0.005)
    assert data.report.ok


def test_init_mapping_of_a_typeform_download_lists_the_questions_to_name(tmp_path):
    import tomllib

    from loyaltylab.data.mapping import draft_mapping
    exp = make_survey_export(tmp_path, n_customers=20, seed=1)
    text = draft_mapping(exp.path)
    assert 'preset = "typeform"' in text
    for q in TYPEFORM_QUESTIONS:
        assert f'# "{q}" = "<item>"' in text
    # until the questions are named, loading says what is missing
    with pytest.raises(MappingError, match=r"\[tables.surveys.wide\] questions must map"):
        ll.load(exp.path, mapping=tomllib.loads(text), as_of=exp.as_of)
    named = text
    for q, item in TYPEFORM_QUESTIONS.items():
        named = named.replace(f'# "{q}" = "<item>"', f'"{q}" = "{item}"')
    data = ll.load(exp.path, mapping=tomllib.loads(named), as_of=exp.as_of)
    assert data.surveys.height == exp.truth["answers"]


def test_zendesk_tickets_become_complaints_linked_by_external_id(tmp_path):
    from loyaltylab.datasets._platforms import make_ticket_export
    exp = make_ticket_export(tmp_path, n_customers=60, seed=3)
    data = ll.load(exp.path, as_of=exp.as_of, mapping={"tables": {"complaints": {
        "preset": "zendesk"}}})
    c = data.complaints
    assert c.height == exp.truth["complaints"]
    assert int(c["resolved_at"].is_null().sum()) == exp.truth["open"]
    types = {k or None: v for k, v in exp.truth["by_type"].items()}
    assert dict(c.group_by("category").len().rows()) == types
    t = data.report.tables["complaints"]
    assert list(t.excluded.values()) == [{"n": exp.truth["unlinked"], "amount": None}]
    assert t.read == t.kept + t.rejected + exp.truth["unlinked"]
    seen = str(c.to_dicts()) + str(data.report)
    assert "@example.com" not in seen and "Order problem" not in seen
    cols = pl.read_csv(exp.path / "tickets.csv", n_rows=0, infer_schema=False).columns
    assert detect_table(cols) == ("zendesk", "complaints")


def test_stripe_subscriptions_that_never_started_are_excluded(tmp_path):
    exp = make_platform_export("stripe", tmp_path, n_customers=80, seed=8)
    data = ll.load(exp.path, mapping={"preset": "stripe"}, as_of=exp.as_of)
    assert data.subscriptions.height == exp.truth["subscriptions"]
    assert data.report.tables["subscriptions"].excluded == {
        "never started (first payment failed)": {
            "n": exp.truth["subscriptions_never_started"], "amount": None}}


@pytest.mark.parametrize("excel", [False, True], ids=["csv", "xlsx"])
@pytest.mark.parametrize("platform", PLATFORMS)
def test_revenue_to_the_cent_over_seeds_and_formats(platform, excel, tmp_path):
    for seed in range(3):
        exp = make_platform_export(platform, tmp_path / f"{seed}", n_customers=12,
                                   seed=100 + seed, excel=excel)
        data = ll.load(exp.path, mapping={"preset": platform}, as_of=exp.as_of)
        assert round(float(data.orders["amount"].sum()), 2) == pytest.approx(
            exp.truth["revenue"], abs=0.005), seed
        assert data.orders.height == exp.truth["orders"] and data.report.ok, seed
        for t in data.report.tables.values():
            assert t.read == t.kept + t.rejected + sum(
                e["n"] for e in t.excluded.values()), seed


def test_report_data_quality_shows_how_the_shopify_revenue_was_reached(tmp_path):
    import html as _html
    import re

    import openpyxl

    from loyaltylab.report import Report
    exp = make_platform_export("shopify", tmp_path / "export", n_customers=30, seed=11)
    # a rule name written by a user is client text: escaped, never markup
    preset_where = load_preset("shopify")["tables"]["orders"]["where"]
    preset_where[0]["name"] = "<b>cancelled</b> & gone"
    data = ll.load(exp.path, as_of=exp.as_of,
                   mapping={"preset": "shopify", "tables": {"orders": {"where": preset_where}}})
    truth = {("<b>cancelled</b> & gone" if k == "cancelled" else k): v
             for k, v in exp.truth["excluded"].items()}
    rep = Report.for_data(data)
    page = rep._html()
    section = page[page.index('<section id="data-quality"'):]
    section = section[:section.index("</section>")]
    assert "<b>cancelled</b>" not in section
    assert "How the revenue was reached" in section
    rows = re.findall(r"<tr(?: class=total)?><td>([^<]*)</td><td class=num>([^<]*)</td>"
                      r"<td class=num>([^<]*)</td></tr>", section)
    steps = {_html.unescape(s): (n, a) for s, n, a in rows}

    def money(x):
        return f"{abs(x):,.2f}" if x >= 0 else f"\u2212{abs(x):,.2f}"

    t = data.report.tables["orders"]
    # the file is named in the report's plain words (underscores may become spaces)
    (read_step,) = [s for s in steps if s.startswith("Rows read from orders")]
    assert steps[read_step] == (f"{t.read:,}", "")
    assert steps["Further line items of an order, merged into it (their amount is in the "
                 "order)"] == (f"{exp.truth['lines_merged']:,}", "")
    for rule, e in truth.items():
        assert steps[f"Excluded: {rule}"] == (f"{e['n']:,}", money(e["amount"])), rule
    assert steps["Revenue kept"] == (f"{exp.truth['orders']:,}", money(exp.truth["revenue"]))
    assert steps["Rejected by validation (reasons above)"] == ("0", "")
    # the refunds deducted: before and after reconcile to the cent with the revenue kept
    gross = steps["Orders left after the rules, before deductions (“Total”)"]
    deducted = steps["Deducted (“Refunded Amount”)"]
    assert gross[0] == f"{exp.truth['orders']:,}" and deducted[1].startswith("\u2212")
    as_num = [float(x.replace(",", "").replace("\u2212", "-")) for x in (gross[1],
                                                                         deducted[1])]
    assert round(sum(as_num), 2) == pytest.approx(exp.truth["revenue"], abs=0.005)
    # rows read = merged + excluded by each rule + rejected + kept
    counts = [int(n.replace(",", "")) for s, (n, _) in steps.items()
              if s.startswith(("Further", "Excluded", "Rejected", "Revenue kept"))]
    assert sum(counts) == t.read
    assert exp.truth["revenue"] >= 1000  # thousands separators were exercised
    assert "customer_id" not in section and "amount = " not in section  # plain words
    # the workbook carries the same steps on a sheet of its own
    rep.write_excel(tmp_path / "t.xlsx")
    wb = openpyxl.load_workbook(tmp_path / "t.xlsx")
    assert wb.sheetnames[:3] == ["README", "Data quality", "Revenue reconciliation"]
    ws = wb["Revenue reconciliation"]
    got = {r[0]: r[1:] for r in ws.iter_rows(min_row=2, values_only=True)}
    assert got["Revenue kept"][1] == pytest.approx(exp.truth["revenue"], abs=0.005)
    assert got["Excluded: <b>cancelled</b> & gone"][0] == truth["<b>cancelled</b> & gone"]["n"]
    dq = wb["Data quality"]
    header = [c.value for c in dq[1]]
    assert "excluded by rules" in header


def test_woocommerce_guests_are_customers_by_e_mail_and_dates_read_as_documented(tmp_path):
    exp = make_platform_export("woocommerce", tmp_path, n_customers=45, seed=12)
    raw = pl.read_csv(exp.path / "orders-export.csv", infer_schema=False)
    # the page's date form, without leading zeros (9/6/2016 6:29:00), and guests as 0
    assert raw["order_date"].str.contains(r"^\d{1,2}/\d{1,2}/\d{4} \d{1,2}:\d\d:\d\d$").all()
    assert (raw["customer_id"] == "0").any()
    data = ll.load(exp.path, mapping={"preset": "woocommerce"}, as_of=exp.as_of)
    assert data.customers.height == exp.truth["customers"]
    assert set(exp.truth["excluded"]) == {
        "not paid (pending, on hold, failed, cancelled, refunded or draft)",
        "no e-mail address"}
    # a customer's acquisition is their first counted order, to the second
    first = data.orders.group_by("customer_id").agg(pl.col("ordered_at").min())
    joined = data.customers.join(first, on="customer_id")
    assert joined.height == data.customers.height
    assert (joined["acquired_at"] == joined["ordered_at"]).all()
    kept = raw.filter(pl.col("status").is_in(["completed", "processing"])
                      & (pl.col("customer_email") != ""))
    first_raw = kept["order_date"].str.to_datetime("%m/%d/%Y %H:%M:%S").min()
    assert data.orders["ordered_at"].min() == first_raw


def test_crm_lifecycle_stages_of_a_hubspot_contacts_export_on_the_ladder(tmp_path):
    from datetime import datetime as dt

    from loyaltylab.funnel import HUBSPOT_LIFECYCLE_DATES, stages_from_crm
    exp = make_platform_export("hubspot", tmp_path, n_customers=12, seed=1)
    data = ll.load(exp.path, mapping={"preset": "hubspot"}, as_of=exp.as_of)
    dates = {k: c for k, c in HUBSPOT_LIFECYCLE_DATES.items()
             if c in data.customers.columns}
    assert len(dates) == 5  # the export holds five of HubSpot's "Became a ..." columns
    st = stages_from_crm(data, dates=dates)
    assert st.height == 12 and st.columns[:5] == ["customer_id", "stage", "stage_rank",
                                                  "lapsed", "last_active_at"]
    rows = {r["customer_id"]: r for r in st.to_dicts()}
    # checked by hand against the export's rows (Lifecycle Stage, Became a ... Date):
    # 51000 Evangelist: subscriber 2024-11-06 16:00, lead 11-08, customer 12-10,
    #       evangelist 2025-01-24 -> advocate, every dated rung reached, none skipped
    r = rows["51000"]
    assert (r["stage"], r["stage_rank"], r["skipped"]) == ("advocate", 5, [])
    assert r["reached_suspect"] == dt(2024, 11, 6, 16, 0)
    assert r["reached_prospect"] == dt(2024, 11, 8, 16, 0)
    assert r["reached_first_time_customer"] == dt(2024, 12, 10, 16, 0)
    assert r["reached_advocate"] == dt(2025, 1, 24, 16, 0)
    assert r["reached_repeat_customer"] is None and r["reached_client"] is None
    # 51037 Lead since 2024-05-05 07:09, never a subscriber -> prospect, suspect skipped
    r = rows["51037"]
    assert (r["stage"], r["reached_prospect"], r["skipped"]) == (
        "prospect", dt(2024, 5, 5, 7, 9), ["suspect"])
    # 51074 Opportunity: lead 2024-06-23, opportunity 06-30 -> prospect from the earlier
    r = rows["51074"]
    assert (r["stage"], r["reached_prospect"]) == ("prospect", dt(2024, 6, 23, 0, 26))
    # 51148 Customer whose first won deal (2024-01-10) precedes the record (a migration)
    r = rows["51148"]
    assert (r["stage"], r["reached_first_time_customer"]) == (
        "first_time_customer", dt(2024, 1, 10, 2, 8))
    # 51185 Other: not on the ladder
    assert rows["51185"]["stage"] is None and rows["51185"]["crm_stage"] == "Other"
    # on 2024-06-01: 51259 (customer 2024-04-24, lead 06-21, evangelist 06-08) was a
    # first-time customer who had skipped the prospect rung; 51000 was not there yet
    early = {r["customer_id"]: r for r in stages_from_crm(
        data, dates=dates, as_of="2024-06-01").to_dicts()}
    assert (early["51259"]["stage"], early["51259"]["skipped"]) == (
        "first_time_customer", ["suspect", "prospect"])
    assert early["51000"]["stage"] is None
    assert early["51259"]["reached_advocate"] is None
    # without history only the current stage is known: nothing dated, nothing skipped
    bare = stages_from_crm(data)
    assert bare["stage"].to_list() == st["stage"].to_list()
    assert bare["reached_prospect"].null_count() == 12
    assert bare["skipped"].list.len().sum() == 0
    # the generator's truth agrees row by row
    for cid, (stage, history) in exp.truth["lifecycle"].items():
        assert rows[cid]["crm_stage"] == stage
        if "Customer" in history:
            # the export writes minutes (HubSpot's "2024-12-10 16:00")
            assert rows[cid]["reached_first_time_customer"] == history["Customer"].replace(
                second=0, microsecond=0)


def test_stages_from_crm_says_what_is_wrong():
    from loyaltylab.exceptions import SchemaError
    from loyaltylab.funnel import stages_from_crm
    contacts = pl.DataFrame({"customer_id": ["a", "b", "c"],
                             "Lifecycle Stage": ["lead", "Partner", "Partner"],
                             "Became a Lead Date": ["2025-01-01", "soon", None]})
    with pytest.raises(ValueError, match=r"CRM stages the mapping does not know: "
                                         r"'partner' \(2\); add each to mapping="):
        stages_from_crm(contacts)
    m = {"lead": "prospect", "partner": "advocate"}
    with pytest.raises(ValueError, match=r"'Became a Lead Date' has 1 values that are not "
                                         r"dates \(first 'soon'\)"):
        stages_from_crm(contacts, mapping=m, dates={"lead": "Became a Lead Date"})
    with pytest.raises(ValueError, match=r"'prospects' is not a stage of the offline ladder.*"
                                         r"Did you mean 'prospect'\?"):
        stages_from_crm(contacts, mapping={"lead": "prospects", "partner": None})
    with pytest.raises(SchemaError, match=r"no column 'Lifecycle stage '.*did you mean "
                                          r"'Lifecycle Stage'"):
        stages_from_crm(contacts, mapping=m, stage_col="Lifecycle stage ")
    with pytest.raises(ValueError, match=r"dates: 'customer' is not a CRM stage"):
        stages_from_crm(contacts, mapping=m, dates={"customer": "Became a Lead Date"})
    out = stages_from_crm(contacts.to_pandas(), mapping={"Lead": "prospect",
                                                         "PARTNER": None})
    assert out["stage"].to_list() == ["prospect", None, None]


def test_salesforce_tasks_become_contacts_of_their_account(tmp_path):
    exp = make_platform_export("salesforce", tmp_path, n_customers=50, seed=9)
    data = ll.load(exp.path, mapping={"preset": "salesforce"}, as_of=exp.as_of)
    c = data.contacts
    assert c.height == exp.truth["contacts"]
    assert dict(c.group_by("channel").len().rows()) == exp.truth["contacts_by_channel"]
    t = data.report.tables["contacts"]
    assert {k: v["n"] for k, v in t.excluded.items()} == exp.truth["contacts_excluded"]
    assert t.read == exp.truth["tasks"] == t.kept + t.rejected + sum(
        e["n"] for e in t.excluded.values())
    # dated by the completion time, else the activity date (older records)
    raw = pl.read_csv(exp.path / "Task.csv", infer_schema=False).filter(
        (pl.col("IsClosed") == "true") & (pl.col("IsDeleted") == "false")
        & pl.col("AccountId").is_not_null())
    want = raw.select(pl.coalesce(
        pl.col("CompletedDateTime").str.to_datetime("%Y-%m-%dT%H:%M:%S%.fZ"),
        pl.col("ActivityDate").str.to_datetime("%Y-%m-%d")).alias("t"))["t"].sort()
    assert c["contacted_at"].sort().to_list() == want.to_list()
    assert "Subject" not in c.columns  # free text (may name people) is not loaded
    cols = pl.read_csv(exp.path / "Task.csv", n_rows=0, infer_schema=False).columns
    assert detect_table(cols) == ("salesforce", "contacts")


def test_mailchimp_activity_becomes_contacts_and_the_audience_customers(tmp_path):
    import tomllib

    from loyaltylab.datasets._platforms import MAILCHIMP_MAPPING, make_email_export
    exp = make_email_export(tmp_path, n_customers=50, seed=4)
    data = ll.load(exp.path, mapping=tomllib.loads(MAILCHIMP_MAPPING), as_of=exp.as_of)
    assert data.report.ok
    c = data.contacts
    assert c.height == exp.truth["contacts"]
    assert set(c["channel"]) == {"email"}
    t = data.report.tables["contacts"]
    assert {k: v["n"] for k, v in t.excluded.items()} == exp.truth["contacts_excluded"]
    assert len(exp.truth["contacts_excluded"]) == 2  # bounces and deleted members planted
    assert t.read == exp.truth["activity"] == t.kept + t.rejected + sum(
        e["n"] for e in t.excluded.values())
    # opens and clicks by hand from the file: the same rows, dated to the second in UTC
    raw = pl.read_csv(exp.path / exp.files[-1], infer_schema=False)
    kept = raw.filter(pl.col("action").is_in(["open", "click"])
                      & pl.col("email_address").is_not_null())
    assert kept.height == exp.truth["contacts"] == sum(exp.truth["by_action"].values())
    want = kept["timestamp"].str.to_datetime("%Y-%m-%dT%H:%M:%S%z").dt.replace_time_zone(
        None).sort()
    assert c["contacted_at"].sort().to_list() == want.to_list()
    # customers: subscribed members, buyers and engaged people not in the audience file
    assert data.customers.height == exp.truth["customers"]
    assert exp.truth["customers"] > exp.truth["audience"]["subscribed"]
    assert data.contacts["customer_id"].is_in(data.customers["customer_id"].implode()).all()
    assert round(float(data.orders["amount"].sum()), 2) == pytest.approx(
        exp.truth["revenue"], abs=0.005)
    # a customer's acquisition is the earliest of sign-up, first order and first e-mail
    # response: never after any of their contacts or orders
    for events, col in ((data.contacts, "contacted_at"), (data.orders, "ordered_at")):
        first = events.group_by("customer_id").agg(pl.col(col).min())
        joined = data.customers.join(first, on="customer_id")
        assert (joined["acquired_at"] <= joined[col]).all()
    seen = " ".join(str(f.to_dicts()) for f in data.tables.values()) + str(data.report)
    assert "@example.com" not in seen.lower() and "198.51.100" not in seen


def test_mailchimp_audience_member_dated_by_sign_up_or_first_response(tmp_path):
    # a subscriber who never bought: acquired at OPTIN_TIME (imported members, without
    # one, at CONFIRM_TIME), or at an earlier e-mail response; by hand on a tiny export
    import tomllib
    (tmp_path / "orders.csv").write_text(
        "Name,Email,Financial Status,Total,Discount Amount,Refunded Amount,Created at,"
        "Cancelled at,Payment Method,Tags,Lineitem quantity,Lineitem name\n"
        "#1,buyer@example.com,paid,10.00,0.00,0.00,2025-02-01 10:00:00 +0000,,card,,1,Cup\n",
        encoding="utf-8")
    (tmp_path / "subscribed_members_export_x.csv").write_text(
        '"Email Address","First Name",MEMBER_RATING,OPTIN_TIME,OPTIN_IP,CONFIRM_TIME,'
        "CONFIRM_IP,LAST_CHANGED,LEID,EUID,NOTES\n"
        'a@example.com,Ann,2,"2025-01-10 08:00:00",,"2025-01-10 08:05:00",,'
        '"2025-01-11 00:00:00",1,e1,\n'
        'b@example.com,Bo,2,,,"2025-03-01 09:00:00",,"2025-03-02 00:00:00",2,e2,\n',
        encoding="utf-8")
    (tmp_path / "email_activity_x.csv").write_text(
        "campaign_id,email_address,action,type,timestamp,url\n"
        "c1,B@Example.com ,open,,2025-02-20T07:00:00+01:00,\n"
        "c1,a@example.com,bounce,soft,2025-01-05T00:00:00+00:00,\n", encoding="utf-8")
    data = ll.load(tmp_path, as_of="2025-06-01", salt="s", mapping=tomllib.loads(
        'preset = "shopify"\n[tables.customers]\npreset = "mailchimp"\n'
        '[tables.contacts]\npreset = "mailchimp"\n'))
    got = sorted(data.customers["acquired_at"].to_list())
    from datetime import datetime as dt
    # a: opt-in 2025-01-10 08:00 (its bounce is not a contact); b: no opt-in time, but
    # opened 2025-02-20 06:00 UTC, before its confirmation; the buyer: first order
    assert got == [dt(2025, 1, 10, 8, 0), dt(2025, 2, 1, 10, 0), dt(2025, 2, 20, 6, 0)]
    assert data.contacts.height == 1
    assert data.report.tables["contacts"].excluded == {
        "bounced (the e-mail never arrived)": {"n": 1, "amount": None}}


def test_init_mapping_recognises_mailchimp_beside_a_shop(tmp_path):
    import tomllib

    from loyaltylab.data.mapping import draft_mapping
    from loyaltylab.datasets._platforms import make_email_export
    exp = make_email_export(tmp_path, n_customers=20, seed=1)
    text = draft_mapping(exp.path)
    assert 'source = "subscribed_members_export_a1b2c3d4e5.csv"' in text
    assert text.count('preset = "mailchimp"') == 2 and 'preset = "shopify"' in text
    data = ll.load(exp.path, mapping=tomllib.loads(text), as_of=exp.as_of)
    assert data.contacts.height == exp.truth["contacts"]
    assert data.customers.height == exp.truth["customers"]
    assert data.report.ok
    for f in exp.files[1:]:
        cols = pl.read_csv(exp.path / f, n_rows=0, infer_schema=False).columns
        want = (None if "unsub" in f or "cleaned" in f else
                ("mailchimp", "contacts") if "activity" in f else ("mailchimp", "customers"))
        assert detect_table(cols) == want, f


@pytest.mark.parametrize("language", ["de", "fr", "es", "nl"])
def test_hubspot_export_in_another_language_loads_the_truth(language, tmp_path):
    import tomllib

    from loyaltylab.data.mapping import draft_mapping
    from loyaltylab.data.presets import localise
    exp = make_platform_export("hubspot", tmp_path, n_customers=40, seed=3,
                               language=language)
    headers, values = localise("hubspot", language)
    deals = pl.read_csv(exp.path / exp.files[0], infer_schema=False)
    assert headers["Deal Stage"] in deals.columns and "Deal Stage" not in deals.columns
    assert values["Closed Won"] in set(deals[headers["Deal Stage"]])
    for f in exp.files:
        assert detect_table(pl.read_csv(exp.path / f, n_rows=0).columns)[0] == "hubspot"
    for mapping in ({"preset": "hubspot"}, tomllib.loads(draft_mapping(exp.path))):
        data = ll.load(exp.path, mapping=mapping, as_of=exp.as_of)
        assert round(float(data.orders["amount"].sum()), 2) == pytest.approx(
            exp.truth["revenue"], abs=0.005)
        assert data.orders.height == exp.truth["orders"]
        assert data.customers.height == exp.truth["customers"]
        assert data.complaints.height == exp.truth["complaints"]
        assert data.report.ok
        seen = " ".join(str(f.to_dicts()) for f in data.tables.values()) + str(data.report)
        assert "@example.com" not in seen.lower() and "Sam Seller" not in seen
    excluded = data.report.tables["orders"].excluded
    assert {k: v["n"] for k, v in excluded.items()} == {
        k: v["n"] for k, v in exp.truth["excluded"].items()}


def test_only_localising_platforms_take_a_language(tmp_path):
    with pytest.raises(ValueError, match=r"language: stripe exports can be written in "
                                         r"\['en'\], got 'de'"):
        make_platform_export("stripe", tmp_path, language="de")
    with pytest.raises(ValueError, match=r"hubspot exports can be written in "
                                         r"\['en', 'de', 'es', 'fr', 'nl'\], got 'it'"):
        make_platform_export("hubspot", tmp_path, language="it")


def test_woocommerce_partial_refunds_are_deducted_to_the_cent(tmp_path):
    # by hand: #1 completed 100.00 of which 25.50 refunded -> 74.50; #2 completed 10.00;
    # #3 refunded in full (status refunded) -> excluded with a net amount of 0.00;
    # #4 processing 19.99 with 0.01 refunded -> 19.98. Revenue 74.50 + 10.00 + 19.98
    header = ("order_id,order_number,order_date,status,discount_total,order_total,"
              "refunded_total,customer_id,billing_email,billing_first_name\n")
    rows = ["1,1,2025-03-01 10:00:00,completed,0.00,100.00,25.50,7,a@example.com,Ann",
            "2,2,2025-03-02 11:00:00,completed,0.00,10.00,0.00,0,B@Example.com ,Bo",
            "3,3,2025-03-03 12:00:00,refunded,0.00,20.00,20.00,7,a@example.com,Ann",
            "4,4,2025-03-04 13:00:00,processing,0.00,19.99,0.01,7,a@example.com,Ann"]
    (tmp_path / "orders-export.csv").write_text(header + "\n".join(rows) + "\n",
                                                encoding="utf-8")
    data = ll.load(tmp_path, mapping={"preset": "woocommerce_coe"}, as_of="2025-06-01")
    assert sorted(data.orders["amount"].to_list()) == [10.0, 19.98, 74.5]
    assert round(float(data.orders["amount"].sum()), 2) == 104.48
    assert data.report.tables["orders"].excluded == {
        "not paid (pending, on hold, failed, cancelled or refunded)": {"n": 1,
                                                                       "amount": 0.0}}
    assert data.customers.height == 2  # Ann's three orders are one customer
    notes = " ".join(data.report.tables["orders"].warnings)
    assert "amount = order_total minus refunded_total: 3 rows, 129.99 less 25.51 " \
           "deducted = 104.48" in notes


def test_woocommerce_export_with_refunds_reconciles_in_the_report(tmp_path):
    import re

    from loyaltylab.report import Report
    exp = make_platform_export("woocommerce_coe", tmp_path / "export", n_customers=40,
                               seed=2)
    assert exp.truth["partially_refunded"] > 0
    data = ll.load(exp.path, mapping={"preset": "woocommerce_coe"}, as_of=exp.as_of)
    page = Report.for_data(data)._html()
    section = page[page.index('<section id="data-quality"'):]
    rows = dict(re.findall(r"<tr(?: class=total)?><td>([^<]*)</td><td class=num>[^<]*"
                           r"</td><td class=num>([^<]*)</td></tr>", section))
    deducted = [v for k, v in rows.items() if k.startswith("Deducted")]
    assert deducted == [f"\u2212{exp.truth['refunds_deducted']:,.2f}"]
    assert rows["Revenue kept"] == f"{exp.truth['revenue']:,.2f}"


@pytest.fixture(scope="module")
def platform_corpus(tmp_path_factory):
    from loyaltylab.datasets._exports import platform_corpus
    return platform_corpus(tmp_path_factory.mktemp("platforms"), n_customers=20)


_UNCOVERED = [k for k, c in enumerate(PLATFORM_CASES) if c[0] not in PLATFORMS]
"""The corpus layouts whose ``validate --json`` no other test here reads (Typeform,
Zendesk, Mailchimp): the shop, CRM and billing presets are read by
``test_validate_json_accounts_for_every_row``, their languages and workbooks by the tests
above."""


@pytest.mark.parametrize("k", range(len(PLATFORM_CASES))
                         if os.environ.get("LOYALTYLAB_FULL_CORPUS") else _UNCOVERED,
                         ids=lambda k: "-".join(PLATFORM_CASES[k]))
def test_every_platform_export_of_the_corpus_loads_the_truth_and_accounts_for_every_row(
        platform_corpus, k, tmp_path, capsys):
    """Issue 15 on the layouts of the client-export corpus (all 13 with
    ``LOYALTYLAB_FULL_CORPUS=1``: each preset, HubSpot in four languages, CSV and
    workbook): revenue = the generator's truth to the cent, and ``validate --json`` shows
    rows read = kept + rejected + excluded by a rule per table."""
    ex = platform_corpus[k]
    data = ll.load(ex.path, mapping=ex.mapping, as_of=ex.as_of)
    assert round(float(data.orders["amount"].sum()), 2) == pytest.approx(
        ex.platform.truth["revenue"], abs=0.005), ex.label
    code = main(["validate", str(ex.path), "--mapping",
                 str(ex.write_mapping(tmp_path / "mapping.toml")), "--as-of",
                 ex.as_of.strftime("%Y-%m-%d"), "--json"])
    assert code == 0, ex.label
    doc = json.loads(capsys.readouterr().out)
    assert set(doc["tables"]) == set(data.report.tables), ex.label
    for name, t in doc["tables"].items():
        excluded = sum(e["n"] for e in t.get("excluded", {}).values())
        assert t["read"] == t["kept"] + t["rejected"] + excluded, (ex.label, name)
        assert t["kept"] == data.tables[name].height, (ex.label, name)
    # each layout plants rows a rule must exclude (cancelled, refunded, test, lost deals,
    # unlinked tickets, partial survey responses, bounces ...), and they are counted
    assert any(t.get("excluded") for t in doc["tables"].values()), ex.label
    if "read" in ex.platform.truth:
        assert doc["tables"]["orders"]["read"] == ex.platform.truth["read"]["orders"]
