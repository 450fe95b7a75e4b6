"""The shop and CRM exports of :func:`~loyaltylab.datasets._platforms.make_platform_export`:
Shopify, HubSpot, Stripe, Salesforce and WooCommerce (two layouts)."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from loyaltylab.datasets._platform_base import (
    _AS_OF, _csv, _LAST, _money, _people, PlatformExport, _PRODUCTS, _when,
)

__all__: list[str] = []  # the writers are reached through make_platform_export


# ------------------------------------------------------------------------------ Shopify

_SHOPIFY_ORDER_HEADER = [
    "Name", "Email", "Financial Status", "Paid at", "Fulfillment Status", "Fulfilled at",
    "Accepts Marketing", "Currency", "Subtotal", "Shipping", "Taxes", "Total",
    "Discount Code", "Discount Amount", "Shipping Method", "Created at",
    "Lineitem quantity", "Lineitem name", "Lineitem price", "Lineitem compare at price",
    "Lineitem sku", "Lineitem requires shipping", "Lineitem taxable",
    "Lineitem fulfillment status", "Billing Name", "Billing Street", "Billing Address1",
    "Billing Address2", "Billing Company", "Billing City", "Billing Zip",
    "Billing Province", "Billing Country", "Billing Phone", "Shipping Name",
    "Shipping Street", "Shipping Address1", "Shipping Address2", "Shipping Company",
    "Shipping City", "Shipping Zip", "Shipping Province", "Shipping Country",
    "Shipping Phone", "Notes", "Note Attributes", "Cancelled at", "Payment Method",
    "Payment Reference", "Refunded Amount", "Vendor", "Outstanding Balance", "Employee",
    "Location", "Device ID", "Id", "Tags", "Risk Level", "Source", "Lineitem discount",
    "Tax 1 Name", "Tax 1 Value", "Tax 2 Name", "Tax 2 Value", "Tax 3 Name", "Tax 3 Value",
    "Tax 4 Name", "Tax 4 Value", "Tax 5 Name", "Tax 5 Value", "Phone", "Receipt Number",
    "Duties", "Billing Province Name", "Shipping Province Name", "Payment ID",
    "Payment Terms Name", "Next Payment Due At", "Payment References",
]
_SHOPIFY_CUSTOMER_HEADER = [
    "First Name", "Last Name", "Email", "Accepts Marketing", "Company", "Address1",
    "Address2", "City", "Province", "Province Code", "Country", "Country Code", "Zip",
    "Phone", "Total Spent", "Total Orders", "Tags", "Note", "Tax Exempt",
]
# the preset's rules, in its order, and the kind of order each one excludes
_SHOPIFY_RULES = [
    ("cancelled", "cancelled"),
    ("test order (Bogus Gateway)", "test_bogus"),
    ("test order (tagged test)", "test_tag"),
    ("not paid (pending, authorized, voided or refunded)", "unpaid"),
    ("no e-mail address (anonymous sale)", "anonymous"),
]


def _shopify(folder: Path, rng: np.random.Generator, n: int) -> PlatformExport:
    people = _people(rng, n)
    registered = [i for i in range(n) if i % 4 != 3]  # every fourth is a guest
    kinds = (["paid"] * 10 + ["partial"] * 3 + ["unpaid"] * 3 + ["cancelled"] * 2
             + ["test_bogus", "test_tag", "anonymous"])
    rows: list[dict[str, Any]] = []
    revenue = 0
    excluded: dict[str, dict] = {name: {"n": 0, "amount": 0} for name, _ in _SHOPIFY_RULES}
    first_order: dict[int, datetime] = {}
    kept_orders = 0
    number = 1000
    for cust in range(n):
        for _ in range(1 + int(rng.integers(0, 5))):
            number += 1
            kind = kinds[int(rng.integers(len(kinds)))]
            created = _when(rng)
            lines = [_PRODUCTS[int(rng.integers(len(_PRODUCTS)))]
                     for _ in range(1 + int(rng.integers(0, 3)))]
            qty = [1 + int(rng.integers(0, 3)) for _ in lines]
            subtotal = sum(p * q for (_, p), q in zip(lines, qty))
            discount = int(rng.choice([0, 0, 0, 500, 1000]))
            discount = min(discount, subtotal // 2)
            shipping = 495 if subtotal < 5000 else 0
            total = subtotal - discount + shipping
            taxes = round(total * 19 / 119)
            status, refunded, cancelled_at, method, tags = "paid", 0, None, "Shopify Payments", ""
            if kind == "partial":
                status, refunded = "partially_refunded", int(rng.integers(1, total))
            elif kind == "unpaid":
                status = str(rng.choice(["pending", "authorized", "voided", "refunded"]))
                refunded = total if status == "refunded" else 0
            elif kind == "cancelled":
                status, refunded = "refunded", total
                cancelled_at = created + timedelta(hours=int(rng.integers(1, 48)))
            elif kind == "test_bogus":
                method = "bogus"
            elif kind == "test_tag":
                tags = str(rng.choice(["Test", "wholesale, test", "TEST"]))
            email = people[cust]["email"]
            # Shopify keeps the address as typed: case and blanks vary between orders
            email = str(rng.choice([email, email.upper(), f" {email} ", email.title()]))
            if kind == "anonymous":
                email = ""
            net = total - refunded
            rule = {"cancelled": "cancelled", "test_bogus": "test order (Bogus Gateway)",
                    "test_tag": "test order (tagged test)",
                    "unpaid": "not paid (pending, authorized, voided or refunded)",
                    "anonymous": "no e-mail address (anonymous sale)"}.get(kind)
            if rule is None:
                revenue += net
                kept_orders += 1
                first_order[cust] = min(created, first_order.get(cust, created))
            else:
                excluded[rule]["n"] += 1
                excluded[rule]["amount"] += net
            offset = str(rng.choice(["+0100", "+0200", "-0500", "+0000"]))
            stamp = created.strftime("%Y-%m-%d %H:%M:%S ") + offset
            order = {
                "Name": f"#{number}", "Email": email, "Financial Status": status,
                "Paid at": stamp if status in ("paid", "partially_refunded") else "",
                "Fulfillment Status": "fulfilled", "Accepts Marketing": "no",
                "Currency": "EUR", "Subtotal": _money(subtotal),
                "Shipping": _money(shipping), "Taxes": _money(taxes),
                "Total": _money(total), "Discount Code": "WELCOME" if discount else "",
                "Discount Amount": _money(discount), "Shipping Method": "Standard",
                "Created at": stamp,
                "Billing Name": f"{people[cust]['first']} {people[cust]['last']}",
                "Billing Street": "Hauptstrasse 1", "Billing City": "Berlin",
                "Billing Zip": "10115", "Billing Country": "DE",
                "Billing Phone": people[cust]["phone"],
                "Shipping Name": f"{people[cust]['first']} {people[cust]['last']}",
                "Shipping Street": "Hauptstrasse 1", "Shipping City": "Berlin",
                "Shipping Zip": "10115", "Shipping Country": "DE",
                "Cancelled at": (cancelled_at.strftime("%Y-%m-%d %H:%M:%S ") + offset
                                 if cancelled_at else ""),
                "Payment Method": method, "Refunded Amount": _money(refunded),
                "Outstanding Balance": "0.00", "Id": str(5_000_000_000 + number),
                "Tags": tags, "Risk Level": "Low", "Source": "web",
                "Device ID": str(int(rng.integers(1, 9))),
                "Phone": people[cust]["phone"] if rng.random() < 0.3 else "",
            }
            for j, ((pname, price), q) in enumerate(zip(lines, qty)):
                line = dict(order) if j == 0 else {"Name": f"#{number}"}
                line.update({"Lineitem quantity": q, "Lineitem name": pname,
                             "Lineitem price": _money(price),
                             "Lineitem sku": f"SKU-{_PRODUCTS.index((pname, price))}",
                             "Lineitem requires shipping": "true",
                             "Lineitem taxable": "true",
                             "Lineitem fulfillment status": "fulfilled",
                             "Lineitem discount": "0.00", "Vendor": "Kaffeehaus"})
                rows.append(line)
    _csv(folder / "orders_export_1.csv", _SHOPIFY_ORDER_HEADER, rows)
    crows = []
    for i in registered:
        p = people[i]
        crows.append({"First Name": p["first"], "Last Name": p["last"],
                      "Email": p["email"], "Accepts Marketing": "yes", "City": "Berlin",
                      "Country": "Germany", "Country Code": "DE", "Zip": "10115",
                      "Phone": p["phone"], "Total Spent": "0.00", "Total Orders": "0",
                      "Tax Exempt": "no"})
    _csv(folder / "customers_export.csv", _SHOPIFY_CUSTOMER_HEADER, crows)
    # customers kept: registered ones with a kept order, and guests with a kept order;
    # registered customers without any kept order have no date and are excluded
    customers = len(first_order)
    undated = sum(1 for i in registered if i not in first_order)
    truth = {"revenue": revenue / 100, "orders": kept_orders, "customers": customers,
             "excluded": {k: {"n": v["n"], "amount": v["amount"] / 100}
                          for k, v in excluded.items() if v["n"]},
             "customers_undated": undated, "buyers": sorted(first_order),
             "read": {"orders": len(rows), "customers": len(crows)},
             "lines_merged": len(rows) - (number - 1000)}
    return PlatformExport("shopify", folder, ["orders_export_1.csv", "customers_export.csv"],
                          _AS_OF, truth)


# ------------------------------------------------------------------------------ HubSpot

_HUBSPOT_DEAL_HEADER = ["Record ID", "Deal Name", "Pipeline", "Deal Stage", "Close Date",
                        "Create Date", "Amount", "Deal owner", "Associated Contact IDs",
                        "Associated Company IDs"]
_HUBSPOT_CONTACT_HEADER = ["Record ID", "First Name", "Last Name", "Email", "Phone Number",
                           "Lifecycle Stage", "Create Date", "Contact owner",
                           "Last Activity Date", "Became a Subscriber Date",
                           "Became a Lead Date", "Became an Opportunity Date",
                           "Became a Customer Date", "Became an Evangelist Date"]
_HUBSPOT_LIFECYCLE = ["Subscriber", "Lead", "Opportunity", "Customer", "Evangelist"]


def _hubspot_history(i: int, stage: str, created: datetime,
                     first: datetime | None) -> dict[str, datetime]:
    """When contact ``i`` entered each lifecycle stage up to ``stage`` (no random draws):
    every second contact started as a subscriber, every third skipped the opportunity
    stage, a customer became one on their first won deal (which may precede the record's
    creation, after a CRM migration), an evangelist 45 days later; "Other" is undated."""
    if stage not in _HUBSPOT_LIFECYCLE:
        return {}
    top = _HUBSPOT_LIFECYCLE.index(stage)
    out = {}
    if i % 2 == 0:
        out["Subscriber"] = created
    if top >= 1:
        out["Lead"] = created + timedelta(days=2 if i % 2 == 0 else 0)
    if top >= 2 and (i % 3 != 0 or top == 2):
        out["Opportunity"] = created + timedelta(days=9)
    if top >= 3 and first is not None:
        out["Customer"] = first
    if top >= 4 and first is not None:
        out["Evangelist"] = first + timedelta(days=45)
    return out


def _hubspot(folder: Path, rng: np.random.Generator, n: int) -> PlatformExport:
    people = _people(rng, n)
    ids = [str(51_000 + 37 * i) for i in range(n)]
    created = [_when(rng, 380) for _ in range(n)]
    stages = (["Closed Won"] * 6 + ["Closed Lost"] * 3
              + ["Appointment Scheduled", "Contract Sent", "Decision Maker Bought-In"])
    deals, revenue, kept = [], 0, 0
    excluded = {"not won (lost or open deal)": {"n": 0, "amount": 0},
                "no associated contact": {"n": 0, "amount": 0}}
    first: dict[int, datetime] = {}
    did = 9_000_000
    for i in range(n):
        for _ in range(int(rng.integers(0, 4))):
            did += 1
            stage = stages[int(rng.integers(len(stages)))]
            amount = int(rng.integers(50_00, 20_000_00))
            # some deals close before the contact record was created (CRM migration)
            close = created[i] + timedelta(days=int(rng.integers(-60, 300)))
            contacts = ids[i]
            r = rng.random()
            if r < 0.15:
                other = int(rng.integers(n))
                contacts = f"{ids[i]};{ids[other]}" if other != i else ids[i]
            elif r < 0.2 and stage == "Closed Won":
                contacts = ""
            if stage != "Closed Won":
                excluded["not won (lost or open deal)"]["n"] += 1
                excluded["not won (lost or open deal)"]["amount"] += amount
            elif not contacts:
                excluded["no associated contact"]["n"] += 1
                excluded["no associated contact"]["amount"] += amount
            else:
                revenue += amount
                kept += 1
                first[i] = min(close, first.get(i, close))
            deals.append({"Record ID": str(did), "Deal Name": f"Deal {did}",
                          "Pipeline": "Sales Pipeline", "Deal Stage": stage,
                          "Close Date": close.strftime("%Y-%m-%d %H:%M"),
                          "Create Date": (close - timedelta(days=20)).strftime(
                              "%Y-%m-%d %H:%M"),
                          "Amount": _money(amount).rstrip("0").rstrip("."),
                          "Deal owner": "Sam Seller",
                          "Associated Contact IDs": contacts,
                          "Associated Company IDs": ""})
    _csv(folder / "hubspot-crm-exports-all-deals-2025-12-31.csv", _HUBSPOT_DEAL_HEADER, deals)
    crows, lifecycle = [], {}
    for i in range(n):
        stage = "Customer" if i in first else str(
            rng.choice(["Lead", "Subscriber", "Opportunity"]))
        if i in first and i % 7 == 0:
            stage = "Evangelist"
        elif i not in first and i % 11 == 5:
            stage = "Other"
        history = _hubspot_history(i, stage, created[i], first.get(i))
        lifecycle[ids[i]] = (stage, history)
        crows.append({"Record ID": ids[i], "First Name": people[i]["first"],
                      "Last Name": people[i]["last"], "Email": people[i]["email"],
                      "Phone Number": people[i]["phone"], "Lifecycle Stage": stage,
                      "Create Date": created[i].strftime("%Y-%m-%d %H:%M"),
                      "Contact owner": "Sam Seller", "Last Activity Date": "",
                      **{f"Became {'an' if k[0] in 'AEIOU' else 'a'} {k} Date":
                         d.strftime("%Y-%m-%d %H:%M") for k, d in history.items()}})
    _csv(folder / "hubspot-crm-exports-all-contacts-2025-12-31.csv",
         _HUBSPOT_CONTACT_HEADER, crows)
    earlier = sum(1 for i, d in first.items() if d < created[i])
    tickets, kept_tickets, no_contact = [], 0, 0
    for i in range(n):
        for _ in range(int(rng.integers(0, 3))):
            opened = created[i] + timedelta(hours=int(rng.integers(24, 200 * 24)))
            closed = (opened + timedelta(hours=int(rng.integers(1, 300)))
                      if rng.random() < 0.8 else None)
            contacts = "" if rng.random() < 0.1 else ids[i]
            kept_tickets += bool(contacts)
            no_contact += not contacts
            tickets.append({"Record ID": str(700_000 + len(tickets)),
                            "Ticket name": f"Problem with order ({people[i]['first']})",
                            "Pipeline": "Support Pipeline",
                            "Ticket status": "Closed" if closed else "Waiting on contact",
                            "Create date": opened.strftime("%Y-%m-%d %H:%M"),
                            "Close date": closed.strftime("%Y-%m-%d %H:%M") if closed
                            else "", "Priority": "Medium",
                            "Category": str(rng.choice(["Product issue", "Billing issue",
                                                        "General inquiry"])),
                            "Ticket owner": "Sam Seller",
                            "Associated Contact IDs": contacts})
    _csv(folder / "hubspot-crm-exports-all-tickets-2025-12-31.csv",
         ["Record ID", "Ticket name", "Pipeline", "Ticket status", "Create date",
          "Close date", "Priority", "Category", "Ticket owner", "Associated Contact IDs"],
         tickets)
    truth = {"revenue": revenue / 100, "orders": kept, "customers": n,
             "excluded": {k: {"n": v["n"], "amount": v["amount"] / 100}
                          for k, v in excluded.items() if v["n"]},
             "read": {"orders": len(deals), "customers": n},
             "acquired_before_record": earlier, "complaints": kept_tickets,
             "lifecycle": lifecycle,
             "complaints_without_contact": no_contact}
    return PlatformExport("hubspot", folder,
                          ["hubspot-crm-exports-all-deals-2025-12-31.csv",
                           "hubspot-crm-exports-all-contacts-2025-12-31.csv",
                           "hubspot-crm-exports-all-tickets-2025-12-31.csv"], _AS_OF, truth)


# ------------------------------------------------------------------------------- Stripe

_STRIPE_PAYMENT_HEADER = [
    "id", "Created date (UTC)", "Amount", "Amount Refunded", "Currency", "Captured",
    "Converted Amount", "Converted Amount Refunded", "Converted Currency",
    "Decline Reason", "Description", "Fee", "Refunded date (UTC)", "Statement Descriptor",
    "Status", "Seller Message", "Taxes On Fee", "Card ID", "Customer ID",
    "Customer Description", "Customer Email", "Invoice ID", "Transfer",
]
_STRIPE_CUSTOMER_HEADER = ["id", "Description", "Email", "Name", "Created (UTC)",
                           "Delinquent", "Currency", "Plan", "Status"]
_STRIPE_RULES = ["failed or not completed", "not captured", "fully refunded",
                 "no Stripe customer (one-off payment)"]


def _stripe(folder: Path, rng: np.random.Generator, n: int) -> PlatformExport:
    people = _people(rng, n)
    ids = [f"cus_{''.join(rng.choice(list('ABCDEFGHJKLMNPQRSTUVWXYZ0123456789'), 14))}"
           for _ in range(n)]
    created = [_when(rng, 380) for _ in range(n)]
    kinds = ["paid"] * 8 + ["partial"] * 2 + ["refunded", "failed", "uncaptured", "guest"]
    pays, revenue, kept = [], 0, 0
    excluded = {k: {"n": 0, "amount": 0} for k in _STRIPE_RULES}
    for i in range(n):
        for _ in range(int(rng.integers(0, 5))):
            kind = kinds[int(rng.integers(len(kinds)))]
            amount = int(rng.integers(5_00, 300_00))
            when = created[i] + timedelta(minutes=int(rng.integers(1, 300 * 1440)))
            status, refunded, captured, cust = "Paid", 0, "true", ids[i]
            if kind == "partial":
                refunded = int(rng.integers(1, amount))
            elif kind == "refunded":
                status, refunded = "Refunded", amount
            elif kind == "failed":
                status = "Failed"
            elif kind == "uncaptured":
                status, captured = "Uncaptured", "false"
            elif kind == "guest":
                cust = ""
            net = amount - refunded
            rule = {"failed": "failed or not completed",
                    "uncaptured": "failed or not completed",
                    "refunded": "fully refunded",
                    "guest": "no Stripe customer (one-off payment)"}.get(kind)
            if rule is None:
                revenue += net
                kept += 1
            else:
                excluded[rule]["n"] += 1
                excluded[rule]["amount"] += net
            pid = f"ch_{''.join(rng.choice(list('abcdefghijkmnopqrstuvwxyz0123456789'), 24))}"
            pays.append({"id": pid, "Created date (UTC)": when.strftime("%Y-%m-%d %H:%M:%S"),
                         "Amount": _money(amount), "Amount Refunded": _money(refunded),
                         "Currency": "eur", "Captured": captured,
                         "Converted Amount": _money(amount),
                         "Converted Amount Refunded": _money(refunded),
                         "Converted Currency": "eur",
                         "Decline Reason": "card_declined" if status == "Failed" else "",
                         "Description": "Subscription update", "Fee": _money(amount // 40),
                         "Status": status, "Customer ID": cust,
                         "Customer Email": people[i]["email"] if cust else "",
                         "Customer Description": f"{people[i]['first']} {people[i]['last']}"
                         if cust else ""})
    _csv(folder / "unified_payments.csv", _STRIPE_PAYMENT_HEADER, pays)
    crows = [{"id": ids[i], "Description": "", "Email": people[i]["email"],
              "Name": f"{people[i]['first']} {people[i]['last']}",
              "Created (UTC)": created[i].strftime("%Y-%m-%d %H:%M:%S"),
              "Delinquent": "false", "Currency": "eur", "Plan": "", "Status": ""}
             for i in range(n)]
    _csv(folder / "unified_customers.csv", _STRIPE_CUSTOMER_HEADER, crows)
    subs, kept_subs, never = [], 0, 0
    for i in range(n):
        if rng.random() < 0.5:
            continue
        status = str(rng.choice(["active", "active", "canceled", "past_due", "trialing",
                                 "incomplete_expired"]))
        start = created[i] + timedelta(days=int(rng.integers(0, 30)))
        ended = (start + timedelta(days=int(rng.integers(30, 300)))
                 if status in ("canceled", "incomplete_expired") else None)
        if status == "incomplete_expired":
            never += 1
        else:
            kept_subs += 1
        stamp = "%Y-%m-%d %H:%M:%S"
        subs.append({"id": f"sub_{i:014d}", "Customer ID": ids[i],
                     "Customer Description": "", "Customer Email": people[i]["email"],
                     "Plan": str(rng.choice(["Basic", "Pro"])), "Product": "Coffee club",
                     "Quantity": 1, "Interval": "month", "Amount": "19.00",
                     "Status": status, "Created (UTC)": start.strftime(stamp),
                     "Start (UTC)": start.strftime(stamp),
                     "Canceled At (UTC)": ended.strftime(stamp) if ended else "",
                     "Ended At (UTC)": ended.strftime(stamp) if ended else ""})
    _csv(folder / "subscriptions.csv",
         ["id", "Customer ID", "Customer Description", "Customer Email", "Plan", "Product",
          "Quantity", "Interval", "Amount", "Status", "Created (UTC)", "Start (UTC)",
          "Current Period Start (UTC)", "Current Period End (UTC)", "Trial Start (UTC)",
          "Trial End (UTC)", "Coupon", "Canceled At (UTC)", "Cancel At Period End",
          "Ended At (UTC)"], subs)
    truth = {"revenue": revenue / 100, "orders": kept, "customers": n,
             "excluded": {k: {"n": v["n"], "amount": v["amount"] / 100}
                          for k, v in excluded.items() if v["n"]},
             "read": {"orders": len(pays), "customers": n},
             "subscriptions": kept_subs, "subscriptions_never_started": never}
    return PlatformExport("stripe", folder, ["unified_payments.csv", "unified_customers.csv",
                                             "subscriptions.csv"], _AS_OF, truth)


# --------------------------------------------------------------------------- Salesforce

_SF_OPP_HEADER = ["Id", "IsDeleted", "AccountId", "RecordTypeId", "IsPrivate", "Name",
                  "Description", "StageName", "Amount", "Probability", "ExpectedRevenue",
                  "TotalOpportunityQuantity", "CloseDate", "Type", "NextStep", "LeadSource",
                  "IsClosed", "IsWon", "ForecastCategory", "ForecastCategoryName",
                  "CampaignId", "HasOpportunityLineItem", "Pricebook2Id", "OwnerId",
                  "CreatedDate", "CreatedById", "LastModifiedDate", "LastModifiedById",
                  "SystemModstamp", "LastActivityDate", "FiscalQuarter", "FiscalYear",
                  "Fiscal"]
_SF_ACCOUNT_HEADER = ["Id", "IsDeleted", "MasterRecordId", "Name", "Type", "ParentId",
                      "BillingStreet", "BillingCity", "BillingState", "BillingPostalCode",
                      "BillingCountry", "ShippingStreet", "ShippingCity", "Phone", "Fax",
                      "Website", "Industry", "AnnualRevenue", "NumberOfEmployees",
                      "OwnerId", "CreatedDate", "CreatedById", "LastModifiedDate",
                      "LastModifiedById", "SystemModstamp", "LastActivityDate"]
_SF_TASK_HEADER = ["Id", "WhoId", "WhatId", "Subject", "ActivityDate", "Status",
                   "Priority", "OwnerId", "Description", "AccountId", "IsDeleted",
                   "IsClosed", "CallDurationInSeconds", "CallType", "CallDisposition",
                   "CallObject", "TaskSubtype", "CompletedDateTime", "CreatedDate",
                   "CreatedById", "LastModifiedDate", "LastModifiedById", "SystemModstamp"]
_SF_STAGES = [("Closed Won", True, True)] * 5 + [("Closed Lost", True, False)] * 3 + [
    ("Prospecting", False, False), ("Negotiation/Review", False, False),
    ("Proposal/Price Quote", False, False)]


def _sf_id(prefix: str, i: int) -> str:
    return f"{prefix}{5_000_000_000 + i:012d}AAA"[:18]


def _salesforce(folder: Path, rng: np.random.Generator, n: int) -> PlatformExport:
    created = [_when(rng, 380) for _ in range(n)]
    deleted = [i % 9 == 8 for i in range(n)]  # in the recycle bin; no opportunities
    rules = ["deleted record", "not won (lost or open opportunity)", "no account"]
    excluded = {k: {"n": 0, "amount": 0} for k in rules}
    opps, revenue, kept, k = [], 0, 0, 0
    won_accounts: set[int] = set()
    for i in range(n):
        if deleted[i]:
            continue
        for _ in range(int(rng.integers(0, 4))):
            k += 1
            stage, closed, won = _SF_STAGES[int(rng.integers(len(_SF_STAGES)))]
            amount = int(rng.integers(1_000_00, 90_000_00))
            close = created[i] + timedelta(days=int(rng.integers(-30, 300)))
            account = _sf_id("001", i)
            gone = rng.random() < 0.08
            if won and not gone and rng.random() < 0.1:
                account = ""
            rule = ("deleted record" if gone else None) or (
                None if won else "not won (lost or open opportunity)") or (
                None if account else "no account")
            if rule is None:
                revenue += amount
                kept += 1
                won_accounts.add(i)
            else:
                excluded[rule]["n"] += 1
                excluded[rule]["amount"] += amount
            stamp = (close - timedelta(days=15)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
            opps.append({"Id": _sf_id("006", k), "IsDeleted": str(gone).lower(),
                         "AccountId": account, "Name": f"Renewal {k}",
                         "StageName": stage, "Amount": _money(amount),
                         "Probability": "100" if won else ("0" if closed else "40"),
                         "CloseDate": close.strftime("%Y-%m-%d"), "Type": "New Business",
                         "IsClosed": str(closed).lower(), "IsWon": str(won).lower(),
                         "ForecastCategory": "Closed" if won else "Pipeline",
                         "HasOpportunityLineItem": "false", "OwnerId": _sf_id("005", 1),
                         "CreatedDate": stamp, "LastModifiedDate": stamp,
                         "SystemModstamp": stamp, "IsPrivate": "false"})
    _csv(folder / "Opportunity.csv", _SF_OPP_HEADER, opps, newline="\r\n")
    accounts = [{"Id": _sf_id("001", i), "IsDeleted": str(deleted[i]).lower(),
                 "Name": f"{_LAST[i % len(_LAST)]} GmbH", "Type": "Customer",
                 "BillingCity": "Hamburg", "BillingCountry": "Germany",
                 "Phone": f"+49 40 {100000 + i}", "Industry": "Retail",
                 "OwnerId": _sf_id("005", 1),
                 "CreatedDate": created[i].strftime("%Y-%m-%dT%H:%M:%S.000Z")}
                for i in range(n)]
    _csv(folder / "Account.csv", _SF_ACCOUNT_HEADER, accounts, newline="\r\n")
    # activities (drawn from a child generator, so the opportunities above stay as they were)
    trng = np.random.default_rng(int(rng.integers(2**32)))
    task_rules = ["deleted record", "not done (open task)", "no account (a lead's task)"]
    task_excluded = {k: 0 for k in task_rules}
    tasks, kept_tasks, by_channel = [], 0, {}
    for i in range(n):
        if deleted[i]:
            continue
        for _ in range(int(trng.integers(0, 4))):
            day = created[i] + timedelta(days=int(trng.integers(0, 300)))  # before as_of
            subtype = str(trng.choice(["Call", "Email", "Task", "ListEmail"]))
            closed = trng.random() < 0.75
            gone = trng.random() < 0.05
            account = _sf_id("001", i) if trng.random() > 0.06 else ""
            done = day + timedelta(hours=int(trng.integers(8, 18)))
            # older records have no completion time: the activity date stands in
            completed = (done.strftime("%Y-%m-%dT%H:%M:%S.000Z")
                         if closed and trng.random() < 0.7 else "")
            rule = ("deleted record" if gone else None) or (
                None if closed else "not done (open task)") or (
                None if account else "no account (a lead's task)")
            if rule is None:
                kept_tasks += 1
                by_channel[subtype] = by_channel.get(subtype, 0) + 1
            else:
                task_excluded[rule] += 1
            stamp = day.strftime("%Y-%m-%dT%H:%M:%S.000Z")
            tasks.append({"Id": _sf_id("00T", len(tasks) + 1),
                          "WhoId": _sf_id("003", i) if account else _sf_id("00Q", i),
                          "WhatId": account, "Subject": f"{subtype} about the renewal",
                          "ActivityDate": day.strftime("%Y-%m-%d"),
                          "Status": "Completed" if closed else "Not Started",
                          "Priority": "Normal", "OwnerId": _sf_id("005", 1),
                          "AccountId": account, "IsDeleted": str(gone).lower(),
                          "IsClosed": str(closed).lower(), "TaskSubtype": subtype,
                          "CompletedDateTime": completed, "CreatedDate": stamp,
                          "LastModifiedDate": stamp, "SystemModstamp": stamp})
    _csv(folder / "Task.csv", _SF_TASK_HEADER, tasks, newline="\r\n")
    truth = {"revenue": revenue / 100, "orders": kept,
             "customers": n - sum(deleted),
             "excluded": {k2: {"n": v["n"], "amount": v["amount"] / 100}
                          for k2, v in excluded.items() if v["n"]},
             "read": {"orders": len(opps), "customers": n}}
    truth.update({"contacts": kept_tasks, "contacts_by_channel": by_channel,
                  "contacts_excluded": {k: v for k, v in task_excluded.items() if v},
                  "tasks": len(tasks)})
    return PlatformExport("salesforce", folder, ["Opportunity.csv", "Account.csv",
                                                 "Task.csv"], _AS_OF, truth)


# -------------------------------------------------------------------------- WooCommerce

# the documented headings (woocommerce.com, "Import and Export of WooCommerce Orders") as
# far as they were retrieved, then the shipping and line-item columns of the same export
_WOO_HEADER = [
    "order_id", "order_number", "order_date", "paid_date", "status", "shipping_total",
    "shipping_tax_total", "fee_total", "fee_tax_total", "tax_total", "cart_discount",
    "order_discount", "discount_total", "order_total", "order_subtotal", "order_currency",
    "payment_method", "payment_method_title", "transaction_id", "customer_ip_address",
    "customer_user_agent", "shipping_method", "customer_id", "customer_user",
    "customer_email", "billing_first_name", "billing_last_name", "billing_company",
    "billing_email", "billing_phone", "billing_address_1", "billing_address_2",
    "billing_postcode", "billing_city", "billing_state", "billing_country",
    "shipping_first_name", "shipping_last_name", "shipping_company", "shipping_phone",
    "shipping_address_1", "shipping_address_2", "shipping_postcode", "shipping_city",
    "shipping_state", "shipping_country", "customer_note", "line_item_1", "line_item_2",
]
_WOO_UNPAID = "not paid (pending, on hold, failed, cancelled, refunded or draft)"


def _woo_date(d: datetime) -> str:  # MM/DD/YYYY H:i:s as the page shows: 9/6/2016 6:29:00
    return f"{d.month}/{d.day}/{d.year} {d.hour}:{d.minute:02d}:{d.second:02d}"


def _woocommerce(folder: Path, rng: np.random.Generator, n: int) -> PlatformExport:
    people = _people(rng, n)
    statuses = (["completed"] * 8 + ["processing"] * 2 + ["pending", "on-hold", "failed",
                                                          "cancelled", "refunded"])
    rows: list[dict[str, Any]] = []
    excluded = {_WOO_UNPAID: {"n": 0, "amount": 0}, "no e-mail address": {"n": 0, "amount": 0}}
    revenue = kept = 0
    kept_customers: set[int] = set()
    oid = 700
    for cust in range(n):
        account = 0 if cust % 3 == 2 else 40 + cust  # every third buys as a guest
        for _ in range(int(rng.integers(0, 5))):
            oid += 1
            status = statuses[int(rng.integers(len(statuses)))]
            created = _when(rng)
            items = [_PRODUCTS[int(rng.integers(len(_PRODUCTS)))]
                     for _ in range(1 + int(rng.integers(0, 2)))]
            subtotal = sum(p for _, p in items)
            discount = int(rng.choice([0, 0, 250]))
            shipping = 490 if subtotal < 5000 else 0
            total = subtotal - discount + shipping
            email = people[cust]["email"]
            email = str(rng.choice([email, email.upper(), f"{email} "]))
            if rng.random() < 0.05:
                email = ""  # an order keyed in by hand without an address
            rule = None if status in ("completed", "processing") else _WOO_UNPAID
            if rule is None and not email:
                rule = "no e-mail address"
            if rule is None:
                revenue += total
                kept += 1
                kept_customers.add(cust)
            else:
                excluded[rule]["n"] += 1
                excluded[rule]["amount"] += total
            p = people[cust]
            rows.append({
                "order_id": oid, "order_number": oid, "order_date": _woo_date(created),
                "paid_date": _woo_date(created) if status in ("completed", "processing")
                else "", "status": status, "shipping_total": _money(shipping),
                "shipping_tax_total": "0.00", "fee_total": "0.00", "fee_tax_total": "0.00",
                "tax_total": _money(round(total * 19 / 119)),
                "cart_discount": _money(discount), "order_discount": "0.00",
                "discount_total": _money(discount), "order_total": _money(total),
                "order_subtotal": _money(subtotal), "order_currency": "EUR",
                "payment_method": "stripe", "payment_method_title": "Credit card",
                "transaction_id": f"pi_{oid:08d}", "customer_ip_address": "203.0.113.7",
                "customer_user_agent": "Mozilla/5.0", "shipping_method": "Flat rate",
                "customer_id": account, "customer_user": account, "customer_email": email,
                "billing_first_name": p["first"], "billing_last_name": p["last"],
                "billing_email": email, "billing_phone": p["phone"],
                "billing_address_1": "Hauptstrasse 1", "billing_postcode": "10115",
                "billing_city": "Berlin", "billing_country": "DE",
                "shipping_first_name": p["first"], "shipping_last_name": p["last"],
                "shipping_address_1": "Hauptstrasse 1", "shipping_postcode": "10115",
                "shipping_city": "Berlin", "shipping_country": "DE",
                **{f"line_item_{j + 1}": f"name:{name}|quantity:1|total:{_money(price)}"
                   for j, (name, price) in enumerate(items)}})
    _csv(folder / "orders-export.csv", _WOO_HEADER, rows)
    truth = {"revenue": revenue / 100, "orders": kept, "customers": len(kept_customers),
             "excluded": {k: {"n": v["n"], "amount": v["amount"] / 100}
                          for k, v in excluded.items() if v["n"]},
             "read": {"orders": len(rows)}}
    return PlatformExport("woocommerce", folder, ["orders-export.csv"], _AS_OF, truth)


# the Customer / Order / Coupon Export extension's default CSV format (column keys as the
# preset says: not verified against a sample file)
_WOO_COE_HEADER = [
    "order_id", "order_number", "order_number_formatted", "order_date", "status",
    "shipping_total", "shipping_tax_total", "fee_total", "fee_tax_total", "tax_total",
    "cart_discount", "order_discount", "discount_total", "order_total", "refunded_total",
    "order_currency", "payment_method", "shipping_method", "customer_id",
    "billing_first_name", "billing_last_name", "billing_full_name", "billing_company",
    "billing_email", "billing_phone", "billing_address_1", "billing_address_2",
    "billing_postcode", "billing_city", "billing_state", "billing_state_code",
    "billing_country", "shipping_first_name", "shipping_last_name", "shipping_full_name",
    "shipping_address_1", "shipping_address_2", "shipping_postcode", "shipping_city",
    "shipping_state", "shipping_state_code", "shipping_country", "shipping_company",
    "customer_note", "line_items", "shipping_items", "fee_items", "tax_items",
    "coupon_items", "refunds", "order_notes", "download_permissions",
]
_WOO_COE_UNPAID = "not paid (pending, on hold, failed, cancelled or refunded)"


def _woocommerce_coe(folder: Path, rng: np.random.Generator, n: int) -> PlatformExport:
    """Orders with partial refunds: a "completed" order of which part was refunded keeps
    its status; its refunded_total is deducted (to the cent) from its order_total."""
    people = _people(rng, n)
    statuses = (["completed"] * 7 + ["partial"] * 3 + ["processing"] * 2
                + ["pending", "on-hold", "failed", "cancelled", "refunded"])
    rows: list[dict[str, Any]] = []
    excluded = {_WOO_COE_UNPAID: {"n": 0, "amount": 0},
                "no e-mail address": {"n": 0, "amount": 0}}
    revenue = kept = deducted = partial = 0
    kept_customers: set[int] = set()
    oid = 1500
    for cust in range(n):
        account = 0 if cust % 3 == 2 else 60 + cust
        for _ in range(int(rng.integers(0, 5))):
            oid += 1
            status = statuses[int(rng.integers(len(statuses)))]
            created = _when(rng)
            items = [_PRODUCTS[int(rng.integers(len(_PRODUCTS)))]
                     for _ in range(1 + int(rng.integers(0, 3)))]
            subtotal = sum(p for _, p in items)
            discount = int(rng.choice([0, 0, 300]))
            shipping = 490 if subtotal < 5000 else 0
            total = subtotal - discount + shipping
            refunded, refunds = 0, ""
            if status == "partial":
                status = "completed"
                refunded = int(rng.integers(1, total))  # e.g. one item sent back
                back = (created + timedelta(days=9)).strftime("%Y-%m-%d %H:%M:%S")
                refunds = (f"id:{oid + 90000}|date:{back}|amount:{_money(refunded)}"
                           f"|reason:Returned item")
                partial += 1
            elif status == "refunded":
                refunded = total
                refunds = f"id:{oid + 90000}|amount:{_money(total)}|reason:Order refunded"
            email = people[cust]["email"]
            email = str(rng.choice([email, email.upper(), f" {email}"]))
            if rng.random() < 0.05:
                email = ""
            net = total - refunded
            rule = None if status in ("completed", "processing") else _WOO_COE_UNPAID
            if rule is None and not email:
                rule = "no e-mail address"
            if rule is None:
                revenue += net
                deducted += refunded
                kept += 1
                kept_customers.add(cust)
            else:
                excluded[rule]["n"] += 1
                excluded[rule]["amount"] += net
            p = people[cust]
            rows.append({
                "order_id": oid, "order_number": oid, "order_number_formatted": f"#{oid}",
                "order_date": created.strftime("%Y-%m-%d %H:%M:%S"), "status": status,
                "shipping_total": _money(shipping), "shipping_tax_total": "0.00",
                "fee_total": "0.00", "fee_tax_total": "0.00",
                "tax_total": _money(round(total * 19 / 119)),
                "cart_discount": _money(discount), "order_discount": "0.00",
                "discount_total": _money(discount), "order_total": _money(total),
                "refunded_total": _money(refunded), "order_currency": "EUR",
                "payment_method": "stripe", "shipping_method": "Flat rate",
                "customer_id": account, "billing_first_name": p["first"],
                "billing_last_name": p["last"],
                "billing_full_name": f"{p['first']} {p['last']}", "billing_email": email,
                "billing_phone": p["phone"], "billing_address_1": "Hauptstrasse 1",
                "billing_postcode": "10115", "billing_city": "Berlin",
                "billing_country": "DE", "shipping_first_name": p["first"],
                "shipping_last_name": p["last"], "shipping_address_1": "Hauptstrasse 1",
                "shipping_postcode": "10115", "shipping_city": "Berlin",
                "shipping_country": "DE",
                "line_items": ";".join(f"name:{name}|quantity:1|total:{_money(price)}"
                                       for name, price in items),
                "shipping_items": f"method:Flat rate|total:{_money(shipping)}",
                "refunds": refunds})
    _csv(folder / "orders-export-2025-12-31.csv", _WOO_COE_HEADER, rows)
    truth = {"revenue": revenue / 100, "orders": kept, "customers": len(kept_customers),
             "excluded": {k: {"n": v["n"], "amount": v["amount"] / 100}
                          for k, v in excluded.items() if v["n"]},
             "read": {"orders": len(rows)}, "refunds_deducted": deducted / 100,
             "partially_refunded": partial}
    return PlatformExport("woocommerce_coe", folder, ["orders-export-2025-12-31.csv"],
                          _AS_OF, truth)
