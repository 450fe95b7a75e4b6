"""Privacy on load: personal columns dropped, identifiers pseudonymised consistently."""

from __future__ import annotations

import hashlib
import sys

import polars as pl
import pytest

import loyaltylab as ll
from loyaltylab.data import schema as S
from loyaltylab.data.privacy import hash_id, is_personal, pseudonymize_frames

AS_OF = "2025-12-31"


def tables():
    customers = pl.DataFrame({
        S.CUSTOMER_ID: ["a", "b", "c"], S.ACQUIRED_AT: ["2025-01-01"] * 3,
        "Name": ["Ann Smith", "Bo Lee", "Cy Young"], "E-Mail": ["a@x.org", "b@x.org", "c@x"],
        "phone_number": ["+49 1", "+49 2", "+49 3"], "industry": ["retail", "b2b", "b2b"]})
    orders = pl.DataFrame({S.ORDER_ID: ["1", "2", "3"], S.CUSTOMER_ID: ["a", "b", "zz"],
                           S.ORDERED_AT: ["2025-02-01"] * 3, S.AMOUNT: [1.0, 2.0, 3.0]})
    referrals = pl.DataFrame({S.REFERRER_ID: ["a"], S.REFERRED_ID: ["b"],
                              S.REFERRED_AT: ["2025-03-01"]})
    return {"customers": customers, "orders": orders, "referrals": referrals}


@pytest.mark.parametrize("name, personal", [
    ("name", True), ("E-Mail", True), ("phone_number", True), ("Street", True),
    ("date_of_birth", True), ("IBAN", True), ("campaign_name", False), ("industry", False),
    ("customer_id", False), ("mailing_campaign", False),
])
def test_is_personal(name, personal):
    assert is_personal(name) is personal


def test_personal_columns_dropped_with_a_note():
    data = ll.from_frames(tables(), as_of=AS_OF)
    assert data.customers.columns == [S.CUSTOMER_ID, S.ACQUIRED_AT, "industry"]
    note = " ".join(data.report.tables["customers"].warnings)
    assert "dropped personal columns ['Name', 'E-Mail', 'phone_number']" in note
    text = str(data.report) + repr(data)
    for secret in ("Ann Smith", "a@x.org", "+49 1"):
        assert secret not in text


def test_keep_personal_keeps_what_is_listed():
    data = ll.from_frames(tables(), as_of=AS_OF, keep_personal=["e_mail"])
    assert "E-Mail" in data.customers.columns and "Name" not in data.customers.columns


def test_pseudonymised_ids_are_consistent_across_tables():
    data = ll.from_frames(tables(), as_of=AS_OF, pseudonymize=True, salt="pepper")
    # the pseudonym is sha256(salt + "\x1f" + value), first 16 hex digits (computed here
    # independently with hashlib)
    expected_a = hashlib.sha256(b"pepper\x1fa").hexdigest()[:16]
    assert hash_id("a", "pepper") == expected_a
    assert data.customers[S.CUSTOMER_ID].to_list()[0] == expected_a
    assert data.referrals[S.REFERRER_ID][0] == expected_a
    assert data.referrals[S.REFERRED_ID][0] == hash_id("b", "pepper")
    assert data.orders[S.ORDER_ID].to_list() == [hash_id("1", "pepper"), hash_id("2", "pepper")]
    # joins still work
    joined = data.orders.join(data.customers, on=S.CUSTOMER_ID)
    assert joined.height == 2
    # the rejected order's ids are hashed too
    rej = data.report.tables["orders"].rejects
    assert rej[S.CUSTOMER_ID].to_list() == [hash_id("zz", "pepper")]
    assert "zz" not in str(data.report)


def test_same_salt_same_hashes_and_random_salt_noted():
    one = ll.from_frames(tables(), as_of=AS_OF, pseudonymize=True, salt="s")
    two = ll.from_frames(tables(), as_of=AS_OF, pseudonymize=True, salt="s")
    other = ll.from_frames(tables(), as_of=AS_OF, pseudonymize=True, salt="t")
    assert one.customers.equals(two.customers)
    assert not one.customers[S.CUSTOMER_ID].equals(other.customers[S.CUSTOMER_ID])
    rnd = ll.from_frames(tables(), as_of=AS_OF, pseudonymize=True)
    assert any("random salt" in w for w in rnd.report.warnings)
    assert "a" not in rnd.customers[S.CUSTOMER_ID].to_list()


def test_pseudonymize_frames_leaves_other_columns_alone():
    frames = {"customers": pl.DataFrame({S.CUSTOMER_ID: ["x", None], "v": [1, 2]})}
    out, salt = pseudonymize_frames(frames, salt="k")
    assert out["customers"]["v"].to_list() == [1, 2]
    assert out["customers"][S.CUSTOMER_ID].to_list() == [hash_id("x", "k"), None]
    assert salt == "k"


def test_load_drops_personal_columns_from_files(tmp_path):
    (tmp_path / "customers.csv").write_text(
        "customer_id,acquired_at,first_name,Telephone\nC1,2025-01-01,Ann,0123\n")
    (tmp_path / "orders.csv").write_text(
        "order_id,customer_id,ordered_at,amount\n1,C1,2025-02-01,1\n")
    data = ll.load(tmp_path, as_of=AS_OF)
    assert data.customers.columns == [S.CUSTOMER_ID, S.ACQUIRED_AT]


@pytest.mark.parametrize("lookup", [True, False])
def test_loaded_pseudonyms_equal_hash_id_in_every_table(tmp_path, monkeypatch, lookup):
    # customer references take their pseudonym from the customers' lookup (an integer
    # join); without it (a 64-bit collision among customer ids) every id is hashed
    # directly. Both give hash_id of the raw id, in every table.
    if not lookup:
        loader = sys.modules["loyaltylab.data.load"]  # the module, not ll.data.load
        monkeypatch.setattr(loader, "_distinct", lambda keys: False)
    (tmp_path / "customers.csv").write_text("customer_id,acquired_at\nC1,2025-01-02\n"
                                            "C2,2025-01-03\n C3 ,2025-01-04\n")
    (tmp_path / "orders.csv").write_text("order_id,customer_id,ordered_at,amount\n"
                                         "O1,C2,2025-02-01,5\nO2,C3,2025-02-02,6\n"
                                         "O3,C9,2025-02-03,7\n")
    (tmp_path / "referrals.csv").write_text("referrer_id,referred_id,referred_at\n"
                                            "C1,C3,2025-01-04\n")
    data = ll.load(tmp_path, as_of="2025-12-31", pseudonymize=True, salt="pepper")
    h = {v: hash_id(v, "pepper") for v in ("C1", "C2", "C3", "C9", "O1", "O2", "O3")}
    assert data.customers[S.CUSTOMER_ID].to_list() == [h["C1"], h["C2"], h["C3"]]
    assert data.orders[S.CUSTOMER_ID].to_list() == [h["C2"], h["C3"]]
    assert data.orders[S.ORDER_ID].to_list() == [h["O1"], h["O2"]]
    assert data.referrals.row(0)[:2] == (h["C1"], h["C3"])
    rej = data.report.tables["orders"].rejects
    assert rej[S.ORDER_ID].to_list() == [h["O3"]] and rej[S.CUSTOMER_ID].to_list() == [h["C9"]]
