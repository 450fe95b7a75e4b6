"""Built-in mapping presets for the exports of common platforms (Shopify, WooCommerce,
HubSpot, Stripe, Salesforce, Typeform, Zendesk, Mailchimp).

A preset is a mapping (TOML, one file per platform in this folder) that encodes the
platform's documented export layout and its revenue rule: which rows count, how the
amount is computed, which column links customers and orders. Each file cites the
documentation page it encodes in its header comment.

Use one in a mapping, for every table it defines or for one table, and override anything:

.. code-block:: toml

    preset = "shopify"            # all of the preset's tables

    [tables.orders]
    preset = "shopify"            # or only this table's part of it
    source = "my_orders.csv"      # settings written here win over the preset's

Tables merge key by key; a list written in the mapping (``where`` rules, ``drop``)
replaces the preset's list as a whole.

:func:`detect_preset` recognises a platform from a file's headers.
"""

from __future__ import annotations

import copy
import json
import tomllib
from functools import cache
from importlib import resources
from typing import Any

from loyaltylab.exceptions import MappingError

__all__ = ["PRESETS", "load_preset", "expand", "detect_preset", "detect_table",
           "translations", "localise",
           "detect_sources", "draft_header_lines", "draft_table_lines"]

PRESETS = ("shopify", "hubspot", "stripe", "salesforce", "typeform", "zendesk",
           "woocommerce", "mailchimp", "woocommerce_coe")
"""Names of the built-in presets."""


@cache
def _read(name: str) -> dict:
    text = resources.files(__name__).joinpath(f"{name}.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


def load_preset(name: str) -> dict:
    """The mapping dict of preset ``name`` (a fresh copy), with its ``[preset]`` metadata.

    Examples
    --------
    >>> p = load_preset("shopify")
    >>> p["preset"]["docs"][0]
    'https://help.shopify.com/en/manual/fulfillment/managing-orders/exporting-orders'
    >>> sorted(p["tables"])
    ['customers', 'orders']
    >>> load_preset("shopfy")
    Traceback (most recent call last):
    ...
    loyaltylab.exceptions.MappingError: mapping: unknown preset 'shopfy'; presets are \
['shopify', 'hubspot', 'stripe', 'salesforce', 'typeform', 'zendesk', 'woocommerce', \
'mailchimp', 'woocommerce_coe']. Did you mean 'shopify'?
    """
    p = copy.deepcopy(_read(_check_name(name, "mapping")))
    labels = translations(name)
    if labels:  # every table reads the export's localised headers under these names
        for t in p.get("tables", {}).values():
            t["headers"] = {**labels, **t.get("headers", {})}
    return p


def translations(name: str) -> dict[str, list[str]]:
    """English header -> its labels in the languages preset ``name`` knows
    (``[preset.labels.<language>]``); empty for a preset whose system does not localise.

    Examples
    --------
    >>> translations("hubspot")["Close Date"]
    ['Abschlussdatum', 'Fecha de cierre', 'Date de fermeture', 'Sluitingsdatum']
    >>> translations("salesforce")
    {}
    """
    out: dict[str, list[str]] = {}
    for lang in sorted(_read(name).get("preset", {}).get("labels", {})):
        for english, local in _read(name)["preset"]["labels"][lang].items():
            if local not in out.setdefault(english, []):
                out[english].append(local)
    return out


def localise(name: str, language: str) -> tuple[dict[str, str], dict[str, str]]:
    """``(headers, values)``: English header -> label, and value -> label, of preset
    ``name`` in ``language`` (both empty for English or an unknown language).

    Examples
    --------
    >>> headers, values = localise("hubspot", "de")
    >>> headers["Deal Stage"], values["Closed Won"]
    ('Deal-Phase', 'Abgeschlossen und gewonnen')
    """
    meta = _read(name).get("preset", {})
    return (dict(meta.get("labels", {}).get(language, {})),
            dict(meta.get("values", {}).get(language, {})))


def _check_name(name: Any, origin: str) -> str:
    if not isinstance(name, str) or name.strip().lower() not in PRESETS:
        from loyaltylab.data.validation import closest
        guess = closest(str(name), list(PRESETS), cutoff=0.4) if isinstance(name, str) \
            else None
        raise MappingError(f"{origin}: unknown preset {name!r}; presets are "
                           f"{list(PRESETS)}." + (f" Did you mean {guess!r}?" if guess
                                                 else ""))
    return name.strip().lower()


def _merge(base: dict, over: dict) -> dict:
    """``over`` on top of ``base``: tables merge key by key, other values are replaced."""
    out = dict(base)
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = _merge(out[k], v)
        else:
            out[k] = v
    return out


def expand(data: dict, origin: str = "mapping") -> dict:
    """Resolve the ``preset`` keys of a mapping dict into plain mapping settings.

    A top-level ``preset = "name"`` (or a list of names) lays the presets' tables and
    defaults under the mapping; ``preset = "name"`` inside ``[tables.<table>]`` lays that
    one table of the preset under it, in place of the top-level preset's version of that
    table. Settings written in the mapping win.

    Examples
    --------
    >>> m = expand({"preset": "shopify",
    ...             "tables": {"orders": {"source": "my_orders.csv"}}})
    >>> m["tables"]["orders"]["source"], m["tables"]["orders"]["lines"]
    ('my_orders.csv', {'key': 'Name', 'amount': 'once'})
    >>> expand({"tables": {"orders": {"preset": "hubspot"}}})["tables"]["orders"][
    ...     "columns"]["ordered_at"]
    'Close Date'
    >>> m = expand({"preset": "shopify", "tables": {"customers": {"preset": "mailchimp"}}})
    >>> m["tables"]["customers"]["source"][0], "orders" in m["tables"]
    ('subscribed_members_export*', True)
    """
    if not isinstance(data, dict):
        return data
    tables = data.get("tables")
    has_table_presets = isinstance(tables, dict) and any(
        isinstance(t, dict) and "preset" in t for t in tables.values())
    if "preset" not in data and not has_table_presets:
        return data
    out = {k: v for k, v in data.items() if k != "preset"}
    if "preset" in data:
        names = data["preset"] if isinstance(data["preset"], list) else [data["preset"]]
        base: dict = {}
        for name in names:
            p = load_preset(_check_name(name, origin))
            p.pop("preset", None)
            base = _merge(base, p)
        out = _merge(base, out)
    tables = out.get("tables")
    own = data.get("tables") if isinstance(data.get("tables"), dict) else {}
    if isinstance(tables, dict):
        new = {}
        for tname, t in tables.items():
            if isinstance(t, dict) and "preset" in t:
                # a table's own preset replaces the top-level preset's table: only the
                # settings written in the mapping go on top of it
                t = own.get(tname, t)
                name = _check_name(t["preset"], origin)
                part = load_preset(name).get("tables", {}).get(tname)
                if part is None:
                    raise MappingError(f"{origin}: [tables.{tname}] preset = {name!r}, but "
                                       f"the {name} preset has no {tname} table; its "
                                       f"tables are {sorted(load_preset(name)['tables'])}")
                t = _merge(part, {k: v for k, v in t.items() if k != "preset"})
            new[tname] = t
        out["tables"] = new
    return out


def _norm(name: str) -> str:
    from loyaltylab.data.validation import normalize_name
    return normalize_name(name)


def detect_table(columns: list[str]) -> tuple[str, str] | None:
    """``(preset, table)`` whose export headers ``columns`` holds, or None.

    Every header the preset lists for the table (``[preset.detect]``), in English or in a
    language of the preset's ``[preset.labels.<language>]``, must be present and
    none it lists under ``[preset.detect_not]`` (case and spacing are forgiven); when
    several match, the one with the most listed headers wins.

    Examples
    --------
    >>> detect_table(["Name", "Email", "Financial Status", "Total", "Created at",
    ...               "Lineitem quantity", "Lineitem name", "Refunded Amount"])
    ('shopify', 'orders')
    >>> detect_table(["Datensatz-ID", "Deal-Name", "Deal-Phase", "Abschlussdatum", "Betrag"])
    ('hubspot', 'orders')
    >>> audience = ["Email Address", "MEMBER_RATING", "OPTIN_TIME", "CONFIRM_TIME", "LEID",
    ...             "EUID"]
    >>> detect_table(audience), detect_table(audience + ["UNSUB_TIME"])
    (('mailchimp', 'customers'), None)
    """
    best: tuple[int, str, str] | None = None
    for name in PRESETS:
        meta = _read(name).get("preset", {})
        english = {_norm(local): en for en, locals_ in translations(name).items()
                   for local in locals_}
        have = {_norm(english.get(_norm(c), c)) for c in columns}
        for table, needed in meta.get("detect", {}).items():
            # headers that mark another file of the same export (``detect_not``)
            if any(_norm(c) in have for c in meta.get("detect_not", {}).get(table, [])):
                continue
            if all(_norm(c) in have for c in needed):
                if best is None or len(needed) > best[0]:
                    best = (len(needed), name, table)
    return None if best is None else (best[1], best[2])


def detect_preset(columns: list[str]) -> str | None:
    """The preset whose export headers ``columns`` holds (see :func:`detect_table`).

    Examples
    --------
    >>> detect_preset(["Record ID", "Deal Name", "Deal Stage", "Close Date", "Amount",
    ...                "Pipeline"])
    'hubspot'
    >>> detect_preset(["order_id", "customer_id"]) is None
    True
    """
    hit = detect_table(columns)
    return None if hit is None else hit[0]


# ------------------------------------------------------------------ init-mapping drafts

def detect_sources(frames: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """Source name -> ``(preset, table)`` for the sources whose headers a preset knows.

    ``frames`` maps source names (files, sheets) to frames, or to an exception for a
    source that could not be read (skipped). A platform's customers export counts only
    beside its orders export (the preset links them by its own key).

    Examples
    --------
    >>> import polars as pl
    >>> customers = pl.DataFrame(schema=["First Name", "Last Name", "Email",
    ...                                  "Total Spent", "Total Orders"])
    >>> detect_sources({"customers.csv": customers})
    {}
    >>> orders = pl.DataFrame(schema=["Name", "Email", "Financial Status", "Total",
    ...     "Created at", "Lineitem quantity", "Lineitem name", "Refunded Amount"])
    >>> detect_sources({"customers.csv": customers, "orders.csv": orders})
    {'customers.csv': ('shopify', 'customers'), 'orders.csv': ('shopify', 'orders')}
    """
    out = {}
    for name, raw in frames.items():
        frame = getattr(raw, "frame", raw)
        columns = getattr(frame, "columns", None)
        if columns is None:
            continue
        hit = detect_table(list(columns))
        if hit is not None:
            out[name] = hit
    # a platform's other exports are taken only with its orders export: the preset's key
    # that links them (an e-mail hash, a contact id) is defined by both together
    with_orders = {p for p, t in out.values() if t == "orders"}
    return {n: (p, t) for n, (p, t) in out.items()
            if p in with_orders or "orders" not in _read(p).get("tables", {})}


def draft_header_lines(found: dict[str, tuple[str, str]]) -> list[str]:
    """Top-level lines of a draft mapping: ``preset = "..."`` when one platform was
    recognised (several platforms are set per table by :func:`draft_table_lines`)."""
    names = sorted({p for p, _ in found.values()})
    if len(names) != 1:
        return []
    title = _read(names[0])["preset"]["title"]
    return [f"preset = \"{names[0]}\"  # recognised from the headers: {title}. The preset "
            f"says what counts (its rules are in loyaltylab/data/presets/{names[0]}.toml); "
            f"settings below override it. CHECK", ""]


def draft_table_lines(found: dict[str, tuple[str, str]], name: str,
                      columns: list[str]) -> list[str]:
    """Lines of a draft's ``[tables.<table>]`` for source ``name`` recognised as a preset's
    export (instead of column guesses)."""
    preset, table = found[name]
    out = []
    if len({p for p, _ in found.values()}) > 1:
        out.append(f"preset = \"{preset}\"  # recognised from the headers; CHECK")
    out.append(f"# the {preset} preset maps this {table} export (see "
               f"loyaltylab/data/presets/{preset}.toml)")
    wide = _read(preset).get("tables", {}).get(table, {}).get("wide")
    if wide is not None:
        known = {_norm(c) for c in _read(preset)["preset"]["detect"].get(table, [])}
        known |= {_norm(c) for c in _read(preset)["tables"][table].get("columns", {})
                  .values()}
        out.append("")
        out.append(f"[tables.{table}.wide.questions]  # each question column = its item "
                   f"name (nps, csat, ...); REQUIRED, CHECK")
        for c in columns:
            if _norm(c) not in known:  # client text: quoted with escapes, one line
                out.append(f"# {json.dumps(c, ensure_ascii=False)} = \"<item>\"")
    out.append("")
    return out


def __dir__() -> list[str]:  # tab completion offers the public names, not np, pl, helpers
    return sorted(__all__)
