"""The exports that come beside a shop's orders: Typeform survey answers, Zendesk
tickets and a Mailchimp audience with its e-mail activity."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import numpy as np

from loyaltylab.datasets._platform_base import _AS_OF, _csv, _people, PlatformExport, _START, _when
from loyaltylab.datasets._platform_shops import _shopify

__all__ = ["TYPEFORM_QUESTIONS", "make_survey_export", "make_ticket_export",
           "MAILCHIMP_MAPPING", "make_email_export"]


# ----------------------------------------------------------------------------- Typeform

TYPEFORM_QUESTIONS = {
    "How likely are you to recommend us to a friend or colleague?": "nps",
    "How satisfied are you with your last delivery?": "csat",
}
"""The questions :func:`make_survey_export` asks, with the item each one is mapped to."""


def make_survey_export(path: str | Path, *, n_customers: int = 40,
                       seed: int = 0) -> PlatformExport:
    """Write a Typeform responses download (wide: one column per question) beside
    canonical customers and orders files; return the truth.

    Some responses are partial (no submit date), some questions left blank. The truth
    holds ``answers`` (answers a faithful load keeps), ``mean`` (item -> mean score of
    the kept answers), ``partial`` (responses not submitted) and ``blank`` (questions
    left blank in submitted responses).

    Parameters
    ----------
    path : str or Path
        Folder to write the export into (created if missing).
    n_customers : int, default 40
        Number of simulated people.
    seed : int, default 0
        Seed of the random generator: the same seed writes the same files.

    Returns
    -------
    PlatformExport
        The folder, the files written, the extract date and the truth a faithful load
        must reproduce.

    Examples
    --------
    >>> import tempfile, loyaltylab as ll
    >>> exp = make_survey_export(tempfile.mkdtemp(), n_customers=10)
    >>> data = ll.load(exp.path, as_of=exp.as_of, mapping={"tables": {"surveys": {
    ...     "preset": "typeform", "wide": {"questions": TYPEFORM_QUESTIONS}}}})
    >>> data.surveys.height == exp.truth["answers"]
    True
    """
    folder = Path(path)
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    ids = [f"C{i:04d}" for i in range(n_customers)]
    created = [_when(rng, 380) for _ in ids]
    _csv(folder / "customers.csv", ["customer_id", "acquired_at"],
         [{"customer_id": c, "acquired_at": d.strftime("%Y-%m-%d")}
          for c, d in zip(ids, created)])
    _csv(folder / "orders.csv", ["order_id", "customer_id", "ordered_at", "amount"],
         [{"order_id": f"O{i:04d}", "customer_id": c,
           "ordered_at": (d + timedelta(days=3)).strftime("%Y-%m-%d"), "amount": "20.00"}
          for i, (c, d) in enumerate(zip(ids, created))])
    questions = list(TYPEFORM_QUESTIONS)
    header = ["#"] + questions + ["customer_id", "Start Date (UTC)", "Submit Date (UTC)",
                                  "Network ID"]
    rows, kept = [], {item: [] for item in TYPEFORM_QUESTIONS.values()}
    partial = blank = 0
    for i, c in enumerate(ids):
        if rng.random() < 0.3:
            continue  # not everybody answers
        start = created[i] + timedelta(days=int(rng.integers(10, 300)))
        submitted = rng.random() > 0.15
        nps = int(rng.integers(0, 11))
        csat = int(rng.integers(1, 6)) if rng.random() > 0.2 else None
        row = {"#": "".join(rng.choice(list("abcdefghijklmnopqrstuvwxyz0123456789"), 32)),
               questions[0]: nps, questions[1]: csat, "customer_id": c,
               "Start Date (UTC)": start.strftime("%Y-%m-%d %H:%M:%S"),
               "Submit Date (UTC)": (start + timedelta(minutes=2)).strftime(
                   "%Y-%m-%d %H:%M:%S") if submitted else "",
               "Network ID": "0f3a9c2b1d"}
        rows.append(row)
        if not submitted:
            partial += 1
            continue
        kept["nps"].append(nps)
        if csat is None:
            blank += 1
        else:
            kept["csat"].append(csat)
    _csv(folder / "responses.csv", header, rows)
    truth = {"answers": sum(len(v) for v in kept.values()),
             "mean": {k: float(np.mean(v)) for k, v in kept.items() if v},
             "partial": partial, "blank": blank, "responses": len(rows),
             "revenue": 20.0 * n_customers}
    return PlatformExport("typeform", folder, ["customers.csv", "orders.csv",
                                               "responses.csv"], _AS_OF, truth)


# ------------------------------------------------------------------------------ Zendesk

_ZENDESK_HEADER = [
    "Summation column", "Id", "Requester", "Requester id", "Requester external id",
    "Requester email", "Requester domain", "Submitter", "Assignee", "Group", "Subject",
    "Tags", "Status", "Priority", "Via", "Ticket type", "Created at", "Updated at",
    "Assigned at", "Organization", "Due date", "Initially assigned at", "Solved at",
    "Resolution time", "Satisfaction Score", "Group stations", "Assignee stations",
    "Reopens", "Replies", "First reply time in minutes",
    "First reply time in minutes within business hours",
    "First resolution time in minutes",
    "First resolution time in minutes within business hours",
    "Full resolution time in minutes",
    "Full resolution time in minutes within business hours",
    "Agent wait time in minutes", "Agent wait time in minutes within business hours",
    "Requester wait time in minutes",
    "Requester wait time in minutes within business hours", "On hold time in minutes",
    "On hold time in minutes within business hours",
]


def make_ticket_export(path: str | Path, *, n_customers: int = 40,
                       seed: int = 0) -> PlatformExport:
    """Write a Zendesk tickets CSV export beside canonical customers and orders files;
    return the truth.

    Tickets of end-users without an external id (not synced with the CRM) cannot be
    linked; open tickets have no solved date. The truth holds ``complaints`` (tickets a
    faithful load keeps), ``unlinked`` (tickets without an external id), ``open`` (kept
    tickets not solved) and ``by_type`` (ticket type -> kept tickets).

    Parameters
    ----------
    path : str or Path
        Folder to write the export into (created if missing).
    n_customers : int, default 40
        Number of simulated people.
    seed : int, default 0
        Seed of the random generator: the same seed writes the same files.

    Returns
    -------
    PlatformExport
        The folder, the files written, the extract date and the truth a faithful load
        must reproduce.

    Examples
    --------
    >>> import tempfile, loyaltylab as ll
    >>> exp = make_ticket_export(tempfile.mkdtemp(), n_customers=10)
    >>> data = ll.load(exp.path, as_of=exp.as_of, mapping={"tables": {"complaints": {
    ...     "preset": "zendesk"}}})
    >>> data.complaints.height == exp.truth["complaints"]
    True
    """
    folder = Path(path)
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    people = _people(rng, n_customers)
    ids = [f"CRM-{i:05d}" for i in range(n_customers)]
    created = [_when(rng, 380) for _ in ids]
    _csv(folder / "customers.csv", ["customer_id", "acquired_at"],
         [{"customer_id": c, "acquired_at": d.strftime("%Y-%m-%d")}
          for c, d in zip(ids, created)])
    _csv(folder / "orders.csv", ["order_id", "customer_id", "ordered_at", "amount"],
         [{"order_id": f"O{i:04d}", "customer_id": c,
           "ordered_at": (d + timedelta(days=1)).strftime("%Y-%m-%d"), "amount": "20.00"}
          for i, (c, d) in enumerate(zip(ids, created))])
    rows, kept, unlinked, still_open = [], 0, 0, 0
    by_type: dict[str, int] = {}
    tid = 100
    for i in range(n_customers):
        for _ in range(int(rng.integers(0, 4))):
            tid += 1
            opened = created[i] + timedelta(hours=int(rng.integers(24, 250 * 24)))
            status = str(rng.choice(["solved", "closed", "closed", "open", "pending"]))
            solved = (opened + timedelta(hours=int(rng.integers(1, 200)))
                      if status in ("solved", "closed") else None)
            ttype = str(rng.choice(["problem", "incident", "question", "task", ""]))
            external = ids[i] if rng.random() > 0.12 else ""
            if external:
                kept += 1
                still_open += solved is None
                by_type[ttype] = by_type.get(ttype, 0) + 1
            else:
                unlinked += 1
            p = people[i]
            rows.append({"Summation column": len(rows) + 1, "Id": tid,
                         "Requester": f"{p['first']} {p['last']}",
                         "Requester id": 360_000_000 + i, "Requester external id": external,
                         "Requester email": p["email"],
                         "Requester domain": "example.com", "Submitter": p["first"],
                         "Assignee": "Support Agent", "Group": "Support",
                         "Subject": f"Order problem {tid}", "Tags": "order",
                         "Status": status, "Priority": "normal", "Via": "Mail",
                         "Ticket type": ttype,
                         "Created at": opened.strftime("%Y-%m-%d %H:%M:%S"),
                         "Updated at": (solved or opened).strftime("%Y-%m-%d %H:%M:%S"),
                         "Solved at": solved.strftime("%Y-%m-%d %H:%M:%S") if solved
                         else "", "Satisfaction Score": "Not Offered", "Reopens": 0,
                         "Replies": int(rng.integers(1, 5))})
    _csv(folder / "tickets.csv", _ZENDESK_HEADER, rows)
    truth = {"complaints": kept, "unlinked": unlinked, "open": still_open,
             "by_type": by_type, "revenue": 20.0 * n_customers}
    return PlatformExport("zendesk", folder, ["customers.csv", "orders.csv", "tickets.csv"],
                          _AS_OF, truth)


# ---------------------------------------------------------------------------- Mailchimp

_MC_AUDIENCE_HEADER = [
    "Email Address", "First Name", "Last Name", "MEMBER_RATING", "OPTIN_TIME", "OPTIN_IP",
    "CONFIRM_TIME", "CONFIRM_IP", "LATITUDE", "LONGITUDE", "GMTOFF", "DSTOFF", "TIMEZONE",
    "CC", "REGION", "LAST_CHANGED", "LEID", "EUID", "NOTES", "TAGS"]
_MC_UNSUB_EXTRA = ["UNSUB_TIME", "UNSUB_CAMPAIGN_TITLE", "UNSUB_CAMPAIGN_ID", "UNSUB_REASON",
                   "UNSUB_REASON_OTHER"]
_MC_CLEAN_EXTRA = ["CLEAN_TIME", "CLEAN_CAMPAIGN_TITLE", "CLEAN_CAMPAIGN_ID"]
_MC_ACTIVITY_HEADER = ["campaign_id", "list_id", "email_id", "email_address", "action",
                       "type", "timestamp", "url", "ip"]
_MC_RULES = ["bounced (the e-mail never arrived)", "no e-mail address"]

MAILCHIMP_MAPPING = """preset = "shopify"

[tables.customers]
preset = "mailchimp"

[tables.contacts]
preset = "mailchimp"
"""
"""The mapping of :func:`make_email_export`'s folder: the shop's orders, the Mailchimp
audience as customers and the e-mail activity as contacts."""


def make_email_export(path: str | Path, *, n_customers: int = 40,
                      seed: int = 0) -> PlatformExport:
    """Write a Mailchimp audience export and campaign e-mail activity beside the Shopify
    orders export of the same people (linked by e-mail address); return the truth.

    The audience ZIP's three files are written (subscribed, unsubscribed and cleaned
    members); some subscribers never bought, some buyers never subscribed (guests), some
    members were imported (no OPTIN_TIME). The activity holds one row per open, click or
    bounce; rows of permanently deleted members have no address. The truth holds
    ``contacts`` (opens and clicks a faithful load keeps), ``by_action`` (action -> kept
    rows), ``contacts_excluded`` (rule -> rows), ``customers`` (the audience's subscribed
    members, plus buyers and engaged people missing from it), ``activity`` (rows in the
    activity file) and the shop's ``revenue`` and ``orders``.

    Parameters
    ----------
    path : str or Path
        Folder to write the export into (created if missing).
    n_customers : int, default 40
        Number of simulated people.
    seed : int, default 0
        Seed of the random generator: the same seed writes the same files.

    Returns
    -------
    PlatformExport
        The folder, the files written, the extract date and the truth a faithful load
        must reproduce.

    Examples
    --------
    >>> import tempfile, tomllib, loyaltylab as ll
    >>> exp = make_email_export(tempfile.mkdtemp(), n_customers=12)
    >>> data = ll.load(exp.path, mapping=tomllib.loads(MAILCHIMP_MAPPING), as_of=exp.as_of)
    >>> data.contacts.height == exp.truth["contacts"]
    True
    """
    folder = Path(path)
    folder.mkdir(parents=True, exist_ok=True)
    n = n_customers
    shop = _shopify(folder, np.random.default_rng(seed), n)
    (folder / "customers_export.csv").unlink()   # the audience stands for the customers
    extra = max(2, n // 4)                        # subscribers who never bought
    people = _people(np.random.default_rng(seed), n + extra)  # the shop's n come first
    rng = np.random.default_rng([seed, 17])
    campaigns = [(f"{''.join(rng.choice(list('0123456789abcdef'), 10))}",
                  _START + timedelta(days=30 + 60 * k, hours=int(rng.integers(8, 18))))
                 for k in range(11)]
    groups: dict[str, list] = {"subscribed": [], "unsubscribed": [], "cleaned": []}
    rows, by_action = [], {"open": 0, "click": 0}
    excluded = {k: 0 for k in _MC_RULES}
    engaged: set[int] = set()
    for i, p in enumerate(people):
        if i < n and i % 5 == 1:
            continue                              # a buyer who never subscribed
        status = ("cleaned" if i % 11 == 7 else "unsubscribed" if i % 7 == 3
                  else "subscribed")
        joined = _when(rng, 500)
        imported = i % 6 == 0                     # imported: no opt-in time recorded
        member = {"Email Address": p["email"], "First Name": p["first"],
                  "Last Name": p["last"], "MEMBER_RATING": int(rng.integers(1, 6)),
                  "OPTIN_TIME": "" if imported else joined.strftime("%Y-%m-%d %H:%M:%S"),
                  "OPTIN_IP": "" if imported else "198.51.100.23",
                  "CONFIRM_TIME": (joined + timedelta(minutes=3)).strftime(
                      "%Y-%m-%d %H:%M:%S"),
                  "CONFIRM_IP": "198.51.100.23", "GMTOFF": 1, "DSTOFF": 2,
                  "TIMEZONE": "Europe/Berlin", "CC": "DE", "REGION": "BE",
                  "LAST_CHANGED": (joined + timedelta(days=2)).strftime("%Y-%m-%d %H:%M:%S"),
                  "LEID": 100_000 + i, "EUID": f"{i * 7919:010x}", "NOTES": "",
                  "TAGS": '"Newsletter"' if i % 2 else ""}
        ended = None
        if status != "subscribed":
            ended = joined + timedelta(days=int(rng.integers(60, 400)))
            when = ended.strftime("%Y-%m-%d %H:%M:%S")
            member.update({"UNSUB_TIME": when, "UNSUB_REASON": "NORMAL",
                           "UNSUB_CAMPAIGN_TITLE": "Spring offers", "CLEAN_TIME": when})
        groups[status].append(member)
        for cid, sent in campaigns:
            if sent < joined or (ended is not None and sent > ended):
                continue
            if status == "cleaned" and ended is not None and sent > ended - timedelta(
                    days=90):
                rows.append({"campaign_id": cid, "list_id": "a1b2c3d4e5",
                             "email_id": f"{i:032x}", "email_address": p["email"],
                             "action": "bounce", "type": "hard",
                             "timestamp": sent.strftime("%Y-%m-%dT%H:%M:%S+00:00")})
                excluded[_MC_RULES[0]] += 1
                continue
            if rng.random() < 0.45:
                t_open = sent + timedelta(minutes=int(rng.integers(5, 3000)))
                acts = [("open", t_open)]
                if rng.random() < 0.35:
                    acts.append(("click", t_open + timedelta(seconds=40)))
                for action, t in acts:
                    gone = rng.random() < 0.03    # member deleted: address removed
                    rows.append({"campaign_id": cid, "list_id": "a1b2c3d4e5",
                                 "email_id": f"{i:032x}",
                                 "email_address": "" if gone else p["email"],
                                 "action": action, "type": "",
                                 "timestamp": t.strftime("%Y-%m-%dT%H:%M:%S+00:00"),
                                 "url": "https://shop.example.com/offers"
                                 if action == "click" else "", "ip": "198.51.100.23"})
                    if gone:
                        excluded[_MC_RULES[1]] += 1
                    else:
                        by_action[action] += 1
                        engaged.add(i)
    lid = "a1b2c3d4e5"
    _csv(folder / f"subscribed_members_export_{lid}.csv", _MC_AUDIENCE_HEADER,
         groups["subscribed"])
    _csv(folder / f"unsubscribed_members_export_{lid}.csv",
         _MC_AUDIENCE_HEADER + _MC_UNSUB_EXTRA, groups["unsubscribed"])
    _csv(folder / f"cleaned_members_export_{lid}.csv", _MC_AUDIENCE_HEADER + _MC_CLEAN_EXTRA,
         groups["cleaned"])
    _csv(folder / f"email_activity_{lid}.csv", _MC_ACTIVITY_HEADER, rows)
    subscribed = {p["Email Address"] for p in groups["subscribed"]}
    customers = subscribed | {people[i]["email"] for i in shop.truth["buyers"]} | {
        people[i]["email"] for i in engaged}
    truth = dict(shop.truth)
    truth.pop("customers_undated", None)
    truth.update({"contacts": sum(by_action.values()), "by_action": by_action,
                  "contacts_excluded": {k: v for k, v in excluded.items() if v},
                  "customers": len(customers), "activity": len(rows),
                  "audience": {k: len(v) for k, v in groups.items()}})
    files = ["orders_export_1.csv", f"subscribed_members_export_{lid}.csv",
             f"unsubscribed_members_export_{lid}.csv", f"cleaned_members_export_{lid}.csv",
             f"email_activity_{lid}.csv"]
    return PlatformExport("mailchimp", folder, files, _AS_OF, truth)
