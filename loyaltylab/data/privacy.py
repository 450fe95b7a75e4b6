"""Privacy on load: drop personal columns, pseudonymise identifiers with a salted hash.

- Personal columns (names, e-mail addresses, phone numbers, postal addresses, birth dates,
  bank accounts; see :data:`loyaltylab.data.schema.PERSONAL_COLUMNS`) are dropped when a
  table is loaded, with a note in the load report, unless the user lists them in
  ``keep_personal``.
- ``pseudonymize=True`` replaces every identifier column (``Column.is_id`` in the schema:
  customer, order, referrer, referred, visitor and account-manager ids) by a keyed
  BLAKE2b hash of the value. The same value hashes alike in every table and column, so
  joins still work (a referrer id equals the hashed id of the same customer), and the same
  salt gives the same hashes on every load. Without a salt a random one is drawn, so the
  hashes cannot be linked to another load.
"""

from __future__ import annotations

import hashlib
import secrets

import polars as pl

from loyaltylab.data import schema as S

__all__ = ["is_personal", "personal_columns", "drop_personal", "id_columns",
           "pseudonymize_frames", "hash_id"]

_PERSONAL = frozenset(S.PERSONAL_COLUMNS)
# tokens that mark a personal column even inside a longer name (phone_number, email_2)
_PERSONAL_TOKENS = frozenset({"email", "phone", "telephone", "mobile", "street", "iban",
                              "postcode", "firstname", "lastname", "surname", "birthday",
                              "birthdate", "address"})


def _norm(name: str) -> str:
    from loyaltylab.data.validation import normalize_name
    return normalize_name(name)


def is_personal(name: str) -> bool:
    """Whether a column name denotes personal data.

    Examples
    --------
    >>> is_personal("E-Mail"), is_personal("phone_number"), is_personal("campaign_name")
    (True, True, False)
    """
    n = _norm(name)
    if n in _PERSONAL:
        return True
    tokens = n.split("_")
    return bool(_PERSONAL_TOKENS.intersection(tokens)) or n.replace("_", "") in _PERSONAL


def personal_columns(columns: list[str], *, keep: tuple[str, ...] | list[str] = ()
                     ) -> list[str]:
    """The columns of ``columns`` that are personal and not listed in ``keep``."""
    keep_n = {_norm(k) for k in keep}
    return [c for c in columns if is_personal(c) and _norm(c) not in keep_n]


def drop_personal(frame: pl.DataFrame, *, keep: tuple[str, ...] | list[str] = (),
                  protected: tuple[str, ...] | list[str] = ()
                  ) -> tuple[pl.DataFrame, list[str]]:
    """Drop personal columns (except ``keep`` and canonical ``protected`` ones).

    Returns the frame and the names dropped.
    """
    drop = [c for c in personal_columns(frame.columns, keep=keep) if c not in protected]
    return (frame.drop(drop) if drop else frame), drop


def id_columns(table: str) -> list[str]:
    """Canonical identifier columns of a table (``Column.is_id``)."""
    return [c.name for c in S.TABLES[table].columns if c.is_id]


def hash_id(value: str, salt: str) -> str:
    """The pseudonym of one identifier: 16 hex digits of BLAKE2b keyed with the salt.

    Examples
    --------
    >>> hash_id("C001", "s3cret") == hash_id("C001", "s3cret")
    True
    >>> hash_id("C001", "s3cret") == hash_id("C001", "other")
    False
    """
    key = salt.encode("utf-8")[:64]
    return hashlib.blake2b(value.encode("utf-8"), key=key, digest_size=8).hexdigest()


def pseudonymize_frames(frames: dict[str, pl.DataFrame | None], *,
                        salt: str | None = None,
                        columns: dict[str, list[str]] | None = None
                        ) -> tuple[dict[str, pl.DataFrame | None], str]:
    """Replace identifier values by salted hashes, consistently across all frames.

    Parameters
    ----------
    frames : dict
        Table name -> frame (None entries are passed through).
    salt : str, optional
        Secret salt; a random one is drawn when None.
    columns : dict, optional
        Table name -> columns to hash; default: the schema's id columns present.

    Returns
    -------
    (frames, salt)
    """
    salt = salt if salt is not None else secrets.token_hex(16)
    cols = {}
    for name, frame in frames.items():
        if frame is None:
            continue
        wanted = (columns or {}).get(name, id_columns(name) if name in S.TABLES else [])
        cols[name] = [c for c in wanted if c in frame.columns]
    uniques = [frames[n].get_column(c).cast(pl.String) for n, cs in cols.items() for c in cs]
    if not uniques:
        return frames, salt
    values = pl.concat(uniques).drop_nulls().unique()
    key = salt.encode("utf-8")[:64]
    hashed = [hashlib.blake2b(v.encode("utf-8"), key=key, digest_size=8).hexdigest()
              for v in values.to_list()]
    lookup = pl.DataFrame({"__raw": values, "__hash": pl.Series(hashed, dtype=pl.String)})
    out = dict(frames)
    for name, cs in cols.items():
        frame = frames[name]
        for c in cs:
            frame = (frame.with_columns(pl.col(c).cast(pl.String))
                     .join(lookup.rename({"__raw": c}), on=c, how="left",
                           maintain_order="left")
                     .with_columns(pl.col("__hash").alias(c)).drop("__hash"))
        out[name] = frame
    return out, salt
