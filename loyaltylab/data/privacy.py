"""Privacy on load: personal data stops at the door; identifiers can be pseudonymised.

What happens to personal data when a table is loaded (:func:`screen_personal`):

- **By header.** Columns whose name denotes personal data are dropped, with a note in the
  load report, unless the user lists them in ``keep_personal`` (see :func:`is_personal`:
  names, first and last names, contact persons, e-mail, phone, mobile and fax numbers,
  street and postal addresses, postcodes, cities, birth dates, bank accounts, tax and
  social-security numbers, in English, German, French, Swedish, Danish, Norwegian, Dutch,
  Spanish, Italian, Portuguese and Polish).
- **By content.** Every text column that is kept, other than the canonical identifier,
  date and number columns, is looked at for e-mail addresses, phone numbers and IBANs
  (see :func:`personal_values`). A non-canonical column whose sample is mostly such
  values is dropped ("dropped column 'Kontakt' (holds e-mail addresses)"); in any other
  text column the cells that hold one are replaced by ``"(personal data removed)"`` and
  counted in the load report (the values are never shown). ``keep_personal`` keeps a
  column as it is.
- **Rejected rows written to files** (:meth:`LoadReport.write_rejects
  <loyaltylab.data.crmdata.LoadReport.write_rejects>`) leave out personal columns, mask
  personal values and neutralise spreadsheet formulas (:func:`neutralize_formulas`).

``pseudonymize=True`` replaces every identifier column (``Column.is_id`` in the schema:
customer, order, referrer, referred, visitor and account-manager ids) by a salted SHA-256
hash of the value (16 hex digits of ``sha256(salt + "\\x1f" + value)``, computed in bulk by
DuckDB). The same value hashes alike in every table and column, so joins still work (a
referrer id equals the hashed id of the same customer), and the same salt gives the same
hashes on every load. Without a salt a random one is drawn, so the hashes cannot be
linked to another load.

Notes
-----
Header rules. A header is folded (accents removed by Unicode NFKD, ``ß`` -> ``ss``, ``ø``
-> ``o``, ``ł`` -> ``l``, lower case) and cut into words (at spaces, punctuation, camel
case and digits). It is personal when its words split into personal terms ("e-mail",
"Vorname", "code postal", "data di nascita") and qualifiers that only say whose or which
one ("customer", "Kunden", "privat", "number", "2", "de"), with at least one personal
term. German-style compounds are split the same way ("Kundentelefon", "Rechnungsadresse",
"Handynummer"). So "Nom du client" and "Kontakt E-Mail" are personal, but "Nombre de
commandes", "campaign_name", "Company name", "Firmenname", "Kundennummer" and
"email_campaign" are not: a word that names a business thing (campaign, company,
orders) makes the column a business column. Decisions on ambiguous headers:

- "Nombre" alone is personal (Spanish for first name); the French count columns always
  say what they count ("Nombre de commandes") and are kept.
- "Ort", "Ortsteil", "Stadtteil" and other place-of-residence words are personal (part of
  a postal address); "Region", "Land", "Bundesland", "Standort" are not.
- A company name is not personal data; a contact or account-manager name is.
- "Kontakt"/"Contact" alone is not personal by header (it is often the channel); its
  content is checked instead.

Content rules (all whole-value checks on text, never on identifier, date or number
columns):

- e-mail: ``local@domain.tld`` anywhere in the cell;
- phone: a cell that is a phone number in international form (``+49 30 1234567``,
  ``+33 (0)1 23 45 67 89``; 8 to 16 digits after a ``+``, also found inside text), in
  national form with a trunk 0 and separators (``030 1234567``, ``06 12 34 56 78``,
  ``070-123 45 67``; 9 to 13 digits), or in North-American form (``(555) 123-4567``).
  Plain digit strings (``01711234567``), which cannot be told from identifiers with
  leading zeros, and national numbers without a trunk 0 (Spanish ``612 345 678``), which
  cannot be told from amounts with space thousands separators, are not recognised;
- IBAN: two letters, two check digits and 11 to 30 letters or digits (grouped by four or
  not) that pass the ISO 13616 mod-97 checksum.

Content checks look at a sample (the first 1,000 values and 2,000 spread over the
column). A column that looks categorical (few distinct values in the sample) is then
checked exhaustively on its distinct values; other columns are checked in full only when
the sample has a hit or a cell holds an ``@``. A phone number or IBAN in a single cell of a
large free-text column that the sample misses is therefore not masked.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import unicodedata
from functools import lru_cache

import polars as pl

from loyaltylab.data import schema as S

__all__ = ["is_personal", "header_kind", "personal_columns", "drop_personal", "id_columns",
           "pseudonymize_frames", "hash_id", "hash_series", "personal_values",
           "personal_kinds", "mask_personal_values", "screen_personal",
           "neutralize_formulas", "PLACEHOLDER", "PSEUDONYM_SEPARATOR"]

PLACEHOLDER = "(personal data removed)"
"""What a cell that held personal data (an e-mail address, phone number or IBAN) reads
after loading."""

# ------------------------------------------------------------------ header vocabulary
# Folded words (see _fold) and multi-word terms written without spaces ("dateofbirth").
_TERMS: dict[str, tuple[str, ...]] = {
    "name": (
        # en
        "name", "fullname", "firstname", "lastname", "surname", "givenname", "familyname",
        "forename", "middlename", "maidenname", "username", "displayname",
        # de
        "vorname", "nachname", "familienname", "zuname", "rufname", "geburtsname",
        # fr
        "nom", "prenom", "nomdefamille", "nomcomplet", "interlocuteur",
        # sv, da, no
        "namn", "fornamn", "efternamn", "mellannamn", "tilltalsnamn", "navn", "fornavn",
        "efternavn", "etternavn", "mellemnavn", "mellomnavn",
        # nl
        "naam", "voornaam", "achternaam", "tussenvoegsel", "roepnaam",
        # es, it, pt
        "nombre", "apellido", "apellidos", "nombrecompleto", "nome", "cognome",
        "nomecompleto", "sobrenome", "apelido", "apelidos",
        # pl
        "imie", "nazwisko", "imiona",
        # contact persons
        "contactperson", "contactname", "ansprechpartner", "ansprechpartnerin",
        "ansprechperson", "kontaktperson", "kontaktpersonen", "personnedecontact",
        "contactpersoon", "personadecontacto", "personadicontatto", "referente",
        "pessoadecontato", "pessoadecontacto", "osobakontaktowa",
    ),
    "e-mail": (
        "email", "mail", "emailaddress", "courriel", "correo", "correoelectronico",
        "epost", "epostadress", "epostadresse", "mejl", "mejladress", "postaelettronica",
        "indirizzoemail", "mailadresse", "emailadresse", "emailadres", "adresemail",
    ),
    "phone": (
        "phone", "phonenumber", "telephone", "tel", "telefon", "telefono", "telefone",
        "telefoon", "tlf", "tfn", "mobile", "mobil", "mob", "mobiltelefon", "handy",
        "cellphone", "cellular", "cellnumber", "cellulare", "movil", "telemovel",
        "celular", "komorka", "gsm", "fax", "telefax", "natel",
    ),
    "address": (
        "address", "addressline", "streetaddress", "adresse", "adres", "adress",
        "anschrift", "postanschrift", "street", "strasse", "str", "hausnummer",
        "housenumber", "huisnummer", "husnummer", "hausnr", "housenr", "huisnr", "husnr",
        "gatuadress", "gata", "gade",
        "gateadresse", "gatenavn", "straat", "straatnaam", "calle", "direccion",
        "domicilio", "indirizzo", "rua", "morada", "endereco", "logradouro", "ulica",
        "postbox", "postfach",
    ),
    "postcode": (
        "postcode", "postalcode", "zip", "zipcode", "postleitzahl", "plz", "codepostal",
        "postnummer", "postnr", "codigopostal", "cap", "cep", "kodpocztowy",
    ),
    "city": (
        "city", "town", "ort", "wohnort", "ortschaft", "ortsteil", "stadtteil", "stadt",
        "ville", "localite", "stad", "postort", "by", "bydel", "poststed", "plaats",
        "woonplaats", "ciudad", "localidad", "poblacion", "citta", "localita", "cidade",
        "localidade", "miasto", "miejscowosc",
    ),
    "birth date": (
        "dateofbirth", "birthdate", "birthday", "dob", "birth", "birthplace",
        "placeofbirth", "birthyear", "geburtsdatum", "geburtstag", "geburtsort",
        "geburtsjahr", "datedenaissance", "naissance", "lieudenaissance", "fodelsedatum",
        "fodelsedag", "fodselsdato", "fodselsdag", "geboortedatum", "geboorteplaats",
        "fechadenacimiento", "fechanacimiento", "nacimiento", "datadinascita", "nascita",
        "luogodinascita", "datadenascimento", "nascimento", "dataurodzenia", "urodzenia",
        "urodziny",
    ),
    "bank account": (
        "iban", "bankaccount", "bankaccountnumber", "bankverbindung", "kontonummer",
        "kontonr", "bankkonto", "rekeningnummer", "rekeningnr", "numerodecuenta",
        "cuentabancaria", "contocorrente", "contabancaria", "numerkonta",
        "numerrachunku", "rachunekbankowy", "rib", "creditcard", "creditcardnumber",
        "kreditkarte", "kreditkartennummer", "cartebancaire",
    ),
    "national id": (
        "ssn", "socialsecurity", "socialsecuritynumber", "nationalid", "nationalidnumber",
        "nationalinsurancenumber", "taxid", "taxnumber", "tin", "passport",
        "passportnumber", "sozialversicherungsnummer", "steuernummer", "steuerid",
        "steueridentifikationsnummer", "personalausweis", "ausweisnummer", "passnummer",
        "reisepass", "numerodesecuritesociale", "securitesociale", "personnummer",
        "samordningsnummer", "cpr", "cprnummer", "cprnr", "fodselsnummer", "bsn",
        "burgerservicenummer", "sofinummer", "dni", "nif", "nie", "nss", "codicefiscale",
        "cpf", "pesel", "nip",
    ),
}

_CONCEPTS: dict[str, str] = {w: kind for kind, words in _TERMS.items() for w in words}

# Words that only say whose or which one: the column stays personal when they qualify a
# personal term ("customer e-mail", "Telefon privat", "Nom du client", "phone 2").
_QUALIFIERS = frozenset({
    # en
    "customer", "client", "contact", "person", "personal", "private", "home", "work",
    "business", "office", "main", "primary", "secondary", "other", "alt", "alternative",
    "number", "nr", "no", "num", "nbr", "line", "billing", "shipping", "delivery",
    "invoice", "postal", "mailing", "full", "first", "last", "given", "family", "middle",
    "sur", "user", "member", "buyer", "owner", "holder", "recipient", "manager",
    "accountmanager", "rep", "salesrep",
    "agent", "employee", "the", "of", "and", "for", "current", "new", "old", "preferred",
    "code", "date", "e", "day", "place", "year", "phone", "mobile", "cell", "portable",
    # de
    "kunde", "kunden", "kontakt", "privat", "geschaftlich", "dienstlich", "buro",
    "nummer", "vollstandiger", "vollstandig", "haupt", "rechnung", "rechnungs",
    "liefer", "lieferung", "post", "der", "die", "das", "des", "von", "und", "zu",
    "mitarbeiter", "berater", "betreuer", "sachbearbeiter", "vertreter", "kundenbetreuer",
    "ansprech",
    # fr
    "personne", "numero", "n", "de", "du", "la", "le", "l", "d", "et", "domicile",
    "travail", "professionnel", "personnel", "principal", "facturation", "livraison",
    "complet", "postale", "fixe",
    # sv, da, no
    "kund", "arbete", "arbejde", "jobb", "hem", "hjem", "fullstandigt", "fullt", "fulde",
    "och", "og", "til", "av", "af", "leverans", "levering", "faktura",
    # nl
    "klant", "prive", "werk", "volledige", "van", "het", "en", "factuur", "aflever",
    # es
    "cliente", "contacto", "del", "el", "y", "completo", "particular", "trabajo",
    "facturacion", "envio", "primer", "segundo", "fijo",
    # it
    "contatto", "di", "della", "personale", "privato", "lavoro", "ufficio",
    "principale", "fatturazione", "spedizione",
    # pt
    "contato", "do", "da", "pessoal", "residencial", "faturacao", "entrega",
    # pl
    "klient", "klienta", "kontaktowy", "numer", "i", "w", "z", "pelne", "prywatny",
    "sluzbowy", "domowy", "glowny", "zamieszkania", "komorkowy",
})

# Parts of compound words ("Kunden|telefon", "Rechnungs|adresse", "Handy|nummer"): all
# personal terms of four letters or more, a few short ones, and these qualifiers.
_COMPOUND_QUALIFIERS = frozenset({
    "kunden", "kunde", "kund", "klant", "kontakt", "contact", "customer", "client",
    "user", "privat", "prive", "rechnung", "liefer", "haupt", "post", "nummer", "nr",
    "no", "wohn", "dienst", "geschafts", "arbeits", "home", "work", "billing",
    "shipping", "member", "hjem", "hem", "jobb", "mitarbeiter", "numer", "numero",
    "full", "mobil", "handy", "telefon", "e",
})
_COMPOUND_TERMS = frozenset(w for w in _CONCEPTS if len(w) >= 4) | {"ort", "plz", "tel",
                                                                     "fax", "rib"}
_LINKS = ("", "s", "n", "en")  # German linking letters: Rechnung-s-adresse

_FOLD_TABLE = str.maketrans({"ß": "ss", "ẞ": "SS", "ø": "o", "Ø": "O", "æ": "ae",
                             "Æ": "AE", "œ": "oe", "Œ": "OE", "ł": "l", "Ł": "L",
                             "đ": "d", "Đ": "D", "ı": "i", "þ": "th", "Þ": "TH",
                             "ð": "d", "Ð": "D"})


def _fold(text: str) -> str:
    """Accents removed (NFKD), ß -> ss and the like; case kept."""
    s = unicodedata.normalize("NFKD", str(text).translate(_FOLD_TABLE))
    return "".join(ch for ch in s if not unicodedata.combining(ch))


def _words(name: str) -> tuple[str, ...]:
    """Folded lower-case words of a header: at punctuation, camel case and digits."""
    s = _fold(name).replace("\ufeff", "")
    s = re.sub(r"([a-z])([A-Z])", r"\1 \2", s)
    return tuple(re.findall(r"[^\W\d_]+|\d+", s.lower()))


def _norm_key(name: str) -> str:
    """The name as ``keep_personal`` matches it: folded lower snake case."""
    return "_".join(_words(name))


@lru_cache(maxsize=4096)
def _compound(word: str) -> int:
    """Split a compound word into known parts: 2 if one part is a personal term, 1 if
    all parts are qualifiers, 0 if it does not split."""
    n = len(word)
    if n < 5:
        return 0
    best = [-1] * (n + 1)  # best[i]: outcome for word[i:] (-1 unknown)
    best[n] = 1

    def solve(i: int) -> int:
        if best[i] >= 0:
            return best[i]
        out = 0
        for j in range(i + 2, n + 1):
            part = word[i:j]
            is_term = part in _COMPOUND_TERMS
            if not is_term and part not in _COMPOUND_QUALIFIERS:
                continue
            if (i, j) == (0, n):  # the whole word is not a compound
                continue
            for link in _LINKS:
                k = j + len(link)
                if k > n or word[j:k] != link or (link and k == n):
                    continue
                rest = solve(k)
                if rest:
                    out = max(out, 2 if (is_term or rest == 2) else 1)
        best[i] = out
        return out

    return solve(0)


@lru_cache(maxsize=4096)
def _header_kind(words: tuple[str, ...]) -> str | None:
    """The kind of personal data a header names, or None (see the module notes)."""
    n = len(words)
    if n == 0 or n > 12:
        return None
    # reach[i]: None unreachable, "" reached with qualifiers only, else a kind
    reach: list[str | None] = [None] * (n + 1)
    reach[0] = ""
    for i in range(n):
        if reach[i] is None:
            continue
        for j in range(i + 1, min(i + 4, n) + 1):
            piece = "".join(words[i:j])
            kind = _CONCEPTS.get(piece)
            if kind is None and j == i + 1:
                if piece in _QUALIFIERS or piece.isdigit():
                    kind = ""
                else:
                    split = _compound(piece)
                    kind = None if split == 0 else ("compound" if split == 2 else "")
            elif kind is None and piece in _QUALIFIERS:
                kind = ""
            if kind is None:
                continue
            if kind == "compound":
                kind = _compound_kind(piece)
            got = reach[i] or kind
            if reach[j] is None or (not reach[j] and got):
                reach[j] = got
    return reach[n] or None


def _compound_kind(word: str) -> str:
    """The kind of the first personal term inside a compound word."""
    for size in range(len(word), 2, -1):
        for start in range(0, len(word) - size + 1):
            part = word[start:start + size]
            if part in _COMPOUND_TERMS:
                return _CONCEPTS[part]
    return "name"


def is_personal(name: str) -> bool:
    """Whether a column name denotes personal data, in any of eleven languages.

    See the module notes for the rules. Canonical column names are never personal.

    Parameters
    ----------
    name : str
        A column header as the client wrote it.

    Returns
    -------
    bool

    Examples
    --------
    >>> is_personal("E-Mail"), is_personal("phone_number"), is_personal("campaign_name")
    (True, True, False)
    >>> is_personal("Straße"), is_personal("Code postal"), is_personal("Nombre de pedidos")
    (True, True, False)
    >>> is_personal("Kundentelefon"), is_personal("Kundennummer")
    (True, False)
    """
    return _header_kind(_words(name)) is not None


def header_kind(name: str) -> str | None:
    """What kind of personal data a column name denotes, or None when it is not personal.

    Kinds: ``"name"`` (also contact persons), ``"e-mail"``, ``"phone"``, ``"address"``,
    ``"postcode"``, ``"city"``, ``"birth date"``, ``"bank account"``, ``"national id"``.

    Examples
    --------
    >>> header_kind("Kundentelefon"), header_kind("Date de naissance"), header_kind("Umsatz")
    ('phone', 'birth date', None)
    """
    return _header_kind(_words(name))


def personal_columns(columns: list[str], *, keep: tuple[str, ...] | list[str] = ()
                     ) -> list[str]:
    """The columns of ``columns`` whose header is personal and that are not in ``keep``
    (matched after folding case, accents and punctuation: ``"e_mail"`` keeps
    ``"E-Mail"``).

    Examples
    --------
    >>> personal_columns(["customer_id", "Vorname", "E-Mail", "Umsatz"], keep=["e_mail"])
    ['Vorname']
    """
    keep_n = {_norm_key(k) for k in keep}
    return [c for c in columns if is_personal(c) and _norm_key(c) not in keep_n]


def drop_personal(frame: pl.DataFrame, *, keep: tuple[str, ...] | list[str] = (),
                  protected: tuple[str, ...] | list[str] = ()
                  ) -> tuple[pl.DataFrame, list[str]]:
    """Drop columns with a personal header (except ``keep`` and canonical ``protected``
    ones).

    Returns the frame and the names dropped.

    Examples
    --------
    >>> df = pl.DataFrame({"customer_id": ["C1"], "Nachname": ["Muster"]})
    >>> drop_personal(df)[1]
    ['Nachname']
    """
    drop = [c for c in personal_columns(frame.columns, keep=keep) if c not in protected]
    return (frame.drop(drop) if drop else frame), drop


# ------------------------------------------------------------------ content detection
_EMAIL_RE = r"[\w.%+\-]+@[\w\-]+(?:\.[\w\-]+)*\.[^\W\d_]{2,}"
# international: "+" and a country code, then digits and separators; not part of a
# longer number or word, not followed by a decimal part ("+12.345.678,90" is an amount)
_INTL_RE = r"(?:^|[^\w+])(\+[1-9][\d ()./\-]{6,}\d)(?:$|[^\d,.])"
# national: trunk 0 (area code, optionally in parentheses), then groups after separators
_NATIONAL_RE = r"^(?:\(0\d{1,5}\)|0\d{1,5})(?:[ ./\-]{1,3}\(?\d{2,}\)?)+$"
_US_RE = r"^(?:\+?1[ .\-]?)?(?:\(\d{3}\)[ .\-]?|\d{3}[.\-])\d{3}[ .\-]\d{4}$"
_IBAN_RE = r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?\b"

_KIND_WORDS = {"email": "e-mail addresses", "phone": "phone numbers", "iban": "IBANs"}


def _iban_ok(candidate: str) -> bool:
    """ISO 13616 check: length 15-34, country letters, mod-97 of the rearranged number is 1.

    >>> _iban_ok("DE89 3704 0044 0532 0130 00"), _iban_ok("DE88 3704 0044 0532 0130 00")
    (True, False)
    """
    s = candidate.replace(" ", "").upper()
    if not 15 <= len(s) <= 34 or not s[:2].isalpha() or not s[2:4].isdigit():
        return False
    digits = "".join(str(int(ch, 36)) for ch in s[4:] + s[:4])
    return int(digits) % 97 == 1


def _phone_expr(e: pl.Expr) -> pl.Expr:
    t = e.str.strip_chars()
    digits = t.str.count_matches(r"\d")
    national = t.str.contains(_NATIONAL_RE) & digits.is_between(9, 13)
    us = t.str.contains(_US_RE)
    intl = t.str.extract(_INTL_RE, 1).str.count_matches(r"\d").is_between(8, 16)
    return (national | us | intl.fill_null(False)).fill_null(False)


def _valid_ibans(values: pl.Series) -> list[str]:
    """The distinct IBAN-shaped substrings of ``values`` that pass the checksum."""
    cands = (values.str.extract_all(_IBAN_RE).explode().drop_nulls().unique())
    return [c for c in cands.to_list() if _iban_ok(c)]


def _flags(values: pl.Series) -> pl.DataFrame:
    """Per value (text): ``email``, ``phone`` and ``iban`` booleans (nulls are False)."""
    v = values.cast(pl.String).rename("v")
    frame = v.to_frame().select(
        pl.col("v").str.contains(_EMAIL_RE).fill_null(False).alias("email"),
        _phone_expr(pl.col("v")).alias("phone"))
    valid = _valid_ibans(v)
    iban = (v.str.contains_any(valid).fill_null(False) if valid
            else pl.Series(values=[False] * v.len(), dtype=pl.Boolean))
    return frame.with_columns(iban.alias("iban"))


def personal_values(values: pl.Series) -> pl.Series:
    """Which values hold an e-mail address, are a phone number or hold a valid IBAN.

    Vectorised over the series; see the module notes for the exact rules.

    Parameters
    ----------
    values : pl.Series
        Text values (other types are cast to text).

    Returns
    -------
    pl.Series
        Boolean, one per value (null values are False).

    Examples
    --------
    >>> s = pl.Series(["ann@example.org", "+49 30 1234567", "030 1234567",
    ...                "DE89 3704 0044 0532 0130 00", "DE88 3704 0044 0532 0130 00",
    ...                "-12.50", "2025-03-01", "01.03.2025", "C000123", "gold", None])
    >>> personal_values(s).to_list()
    [True, True, True, True, False, False, False, False, False, False, False]
    """
    f = _flags(values)
    return (f["email"] | f["phone"] | f["iban"]).rename(values.name)


def personal_kinds(values: pl.Series) -> dict[str, int]:
    """How many values hold each kind of personal data (``e-mail addresses``, ``phone
    numbers``, ``IBANs``); kinds with no value are left out.

    Examples
    --------
    >>> personal_kinds(pl.Series(["a@b.de", "x", "+41 44 668 18 00"]))
    {'e-mail addresses': 1, 'phone numbers': 1}
    """
    f = _flags(values)
    out = {}
    for key, word in _KIND_WORDS.items():
        n = int(f[key].sum())
        if n:
            out[word] = n
    return out


def _sample(values: pl.Series, head: int = 1000, spread: int = 2000) -> pl.Series:
    """The first ``head`` values and ``spread`` more spread evenly over the rest, without
    nulls or blanks (no pass over the whole column)."""
    n = values.len()
    if n <= head + spread:
        s = values
    else:
        step = max(1, (n - head) // spread)
        s = pl.concat([values.head(head), values.slice(head).gather_every(step).head(spread)])
    s = s.drop_nulls()
    return s.filter(s.str.strip_chars() != "")


def _kinds_text(kinds: dict[str, int]) -> str:
    words = sorted(kinds, key=lambda k: -kinds[k])
    return " and ".join(words) if len(words) <= 2 else ", ".join(words[:-1]) + \
        " and " + words[-1]


_HASH_SEED = 20261204


def _find_personal_cells(values: pl.Series, sample: pl.Series
                         ) -> tuple[pl.Series | None, dict[str, int]]:
    """(boolean mask of the personal cells or None when there are none, count per kind).

    Categorical-looking columns are checked on their distinct values; others in full
    only when the sample or a cheap scan for "@" shows a possible hit.
    """
    if sample.n_unique() <= 200:
        # one value per distinct 64-bit hash: half the cost of ``unique`` on strings (two
        # different values sharing a hash, odds about n_distinct**2 / 2**64, would leave
        # one of them unchecked)
        first = values.hash(_HASH_SEED).arg_unique()
        if first.len() <= 20_000:
            distinct = values.gather(first).drop_nulls()
            f = _flags(distinct)
            hit = f["email"] | f["phone"] | f["iban"]
            if not hit.any():
                return None, {}
            bad = distinct.filter(hit)
            mask = values.is_in(bad.implode()).fill_null(False)
            kinds = {}
            for key, word in _KIND_WORDS.items():
                sel = distinct.filter(f[key])
                if sel.len():
                    kinds[word] = int(values.is_in(sel.implode()).sum())
            return mask, kinds
    sample_hit = bool(personal_values(sample).any()) if sample.len() else False
    if not sample_hit and not bool(values.str.contains("@", literal=True).any()):
        return None, {}
    f = _flags(values)
    mask = f["email"] | f["phone"] | f["iban"]
    if not mask.any():
        return None, {}
    kinds = {w: int(f[k].sum()) for k, w in _KIND_WORDS.items() if f[k].any()}
    return mask, kinds


def mask_personal_values(frame: pl.DataFrame, *, columns: list[str] | None = None,
                         ) -> tuple[pl.DataFrame, dict[str, int]]:
    """Replace every text cell holding personal data by :data:`PLACEHOLDER`.

    Parameters
    ----------
    frame : pl.DataFrame
    columns : list of str, optional
        Text columns to look at; default: every text column.

    Returns
    -------
    (frame, counts)
        The new frame and the number of cells replaced per column (columns with none
        left out).

    Examples
    --------
    >>> df = pl.DataFrame({"segment": ["gold", "ann@example.org", "gold"]})
    >>> out, n = mask_personal_values(df)
    >>> out["segment"].to_list(), n
    (['gold', '(personal data removed)', 'gold'], {'segment': 1})
    """
    if columns is None:
        columns = [c for c, t in frame.schema.items() if t == pl.String]
    counts = {}
    for c in columns:
        values = frame.get_column(c)
        mask, _ = _find_personal_cells(values, _sample(values))
        if mask is not None:
            counts[c] = int(mask.sum())
            frame = frame.with_columns(
                pl.when(mask).then(pl.lit(PLACEHOLDER)).otherwise(pl.col(c)).alias(c))
    return frame, counts


def screen_personal(frame: pl.DataFrame, table: str, *,
                    keep: tuple[str, ...] | list[str] = (),
                    original: dict[str, str] | None = None
                    ) -> tuple[pl.DataFrame, list[str]]:
    """Keep personal data out of a table on load (columns already renamed to canonical
    names).

    1. Non-canonical columns with a personal header are dropped.
    2. Non-canonical text columns whose sample is mostly e-mail addresses, phone numbers
       or IBANs are dropped.
    3. In the remaining text columns (canonical categories and free text, never
       identifier, date or number columns) cells holding such values are replaced by
       :data:`PLACEHOLDER` and counted.

    Columns named in ``keep`` (client or canonical names, matched after folding case,
    accents and punctuation) are left as they are.

    Parameters
    ----------
    frame : pl.DataFrame
        The table as read, canonical columns under their canonical names.
    table : str
        Canonical table name.
    keep : sequence of str
        Columns to keep as they are (``keep_personal``).
    original : dict, optional
        Canonical column -> the client's name for it, so that ``keep`` may name either.

    Returns
    -------
    (frame, notes)
        The screened frame and notes for the load report (column names and cell counts,
        never values).

    Examples
    --------
    >>> df = pl.DataFrame({"customer_id": ["C1", "C2"], "acquired_at": ["2025-01-01"] * 2,
    ...                    "segment": ["gold", "bo@example.org"], "Vorname": ["Ann", "Bo"],
    ...                    "Kontakt": ["ann@example.org", "bo@example.org"]})
    >>> out, notes = screen_personal(df, "customers")
    >>> out.columns, out["segment"].to_list()
    (['customer_id', 'acquired_at', 'segment'], ['gold', '(personal data removed)'])
    >>> for n in notes:
    ...     print(n)
    dropped personal columns ['Vorname'] (to keep one: --keep-personal NAME, or ...
    dropped column 'Kontakt' (holds e-mail addresses); to keep it: --keep-personal ...
    segment: 1 cell held personal data (e-mail addresses) and now reads '(personal data ...
    """
    spec = S.TABLES[table]
    notes: list[str] = []
    frame, dropped = drop_personal(frame, keep=tuple(keep), protected=tuple(spec.names))
    if dropped:
        notes.append(f"dropped personal columns {dropped} (to keep one: --keep-personal "
                     f"NAME, or keep_personal=[...] in Python)")
    keep_n = {_norm_key(k) for k in keep}
    kept = {c for c in frame.columns if _norm_key(c) in keep_n
            or _norm_key((original or {}).get(c, c)) in keep_n}
    checked = [c for c, t in frame.schema.items()
               if t == pl.String and c not in kept
               and (c not in spec.names or spec.column(c).dtype == pl.String
                    and not spec.column(c).is_id)]
    drop: list[str] = []
    masked: list[str] = []
    for c in checked:
        values = frame.get_column(c)
        sample = _sample(values)
        if sample.len() == 0:
            continue
        canonical = c in spec.names
        if not canonical:
            kinds = personal_kinds(sample)
            if kinds and sum(kinds.values()) >= 0.5 * sample.len():
                drop.append(c)
                notes.append(f"dropped column {c!r} (holds {_kinds_text(kinds)}); to keep "
                             f"it: --keep-personal {c!r}, or keep_personal=[{c!r}] in "
                             f"Python")
                continue
        mask, kinds = _find_personal_cells(values, sample)
        if mask is None:
            continue
        n = int(mask.sum())
        frame = frame.with_columns(
            pl.when(mask).then(pl.lit(PLACEHOLDER)).otherwise(pl.col(c)).alias(c))
        label = c if canonical else repr(c)
        masked.append(f"{label}: {n:,} {'cell' if n == 1 else 'cells'} held personal data "
                     f"({_kinds_text(kinds)}) and now {'reads' if n == 1 else 'read'} "
                     f"{PLACEHOLDER!r}")
    if drop:
        frame = frame.drop(drop)
    return frame, notes + masked


# ------------------------------------------------------------------ spreadsheet formulas
_FORMULA_START = r"^[=+\-@\t\r]"
_PLAIN_NUMBER = r"^[+\-]?(?:\d+(?:[.,]\d+)*|[.,]\d+)(?:[eE][+\-]?\d+)?$"


def _neutral(text: str) -> str:
    if re.match(_FORMULA_START, text) and not re.match(_PLAIN_NUMBER, text):
        return "'" + text
    return text


def neutralize_formulas(frame: pl.DataFrame) -> pl.DataFrame:
    """Make every text cell and column name safe to open in a spreadsheet.

    A text cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return
    would be run as a formula by Excel, LibreOffice or Google Sheets (OWASP, "CSV
    Injection"); such cells get a leading single quote, which spreadsheets show as text.
    Cells that are a plain number (``-12.50``, ``+3``, ``-1.234,56``, ``1e-5``) are left
    as they are: they are read as numbers, not run. Column names get the same treatment.
    Text means String and Categorical columns (an Enum column becomes String, as it
    cannot take the quoted values); other columns are unchanged.

    Parameters
    ----------
    frame : pl.DataFrame

    Returns
    -------
    pl.DataFrame
        A new frame; the input is not changed.

    References
    ----------
    OWASP, "CSV Injection", https://owasp.org/www-community/attacks/CSV_Injection

    Examples
    --------
    >>> df = pl.DataFrame({"v": ["=HYPERLINK(\\"http://x\\")", "-12.50", "-2+3", "@SUM(A1)",
    ...                          "\\tx", "plain", None], "n": [1, -2, 3, 4, 5, 6, 7]})
    >>> neutralize_formulas(df)["v"].to_list()
    ['\\'=HYPERLINK("http://x")', '-12.50', "'-2+3", "'@SUM(A1)", "'\\tx", 'plain', None]
    """
    out = frame
    exprs = []
    for c, dtype in frame.schema.items():
        if dtype == pl.String:
            e = pl.col(c)
        elif dtype == pl.Categorical or isinstance(dtype, pl.Enum):
            e = pl.col(c).cast(pl.String)
        else:
            continue
        e = (pl.when(e.str.contains(_FORMULA_START) & ~e.str.contains(_PLAIN_NUMBER))
             .then(pl.lit("'") + e).otherwise(e))
        if dtype == pl.Categorical:  # an Enum cannot take new values: it becomes text
            e = e.cast(pl.Categorical)
        exprs.append(e.alias(c))
    if exprs:
        out = frame.with_columns(exprs)
    names = {c: _neutral(c) for c in out.columns}
    if any(c != n for c, n in names.items()) and len(set(names.values())) == len(names):
        out = out.rename(names)
    return out


# ------------------------------------------------------------------ pseudonyms

def id_columns(table: str) -> list[str]:
    """Canonical identifier columns of a table (``Column.is_id``)."""
    return [c.name for c in S.TABLES[table].columns if c.is_id]


_SEP = "\x1f"  # unit separator between salt and value: no salt/value pair can run together
PSEUDONYM_SEPARATOR = _SEP
"""The character between the salt and the value in :func:`hash_id` (the ASCII unit
separator), for code that computes the same pseudonyms elsewhere (inside a database)."""


def hash_id(value: str, salt: str) -> str:
    """The pseudonym of one identifier: the first 16 hex digits of
    ``sha256(salt + "\\x1f" + value)`` (UTF-8).

    :func:`pseudonymize_frames` computes the same value for whole columns at once.

    Examples
    --------
    >>> hash_id("C001", "s3cret") == hash_id("C001", "s3cret")
    True
    >>> hash_id("C001", "s3cret") == hash_id("C001", "other")
    False
    >>> len(hash_id("C001", "s3cret"))
    16
    """
    return hashlib.sha256((salt + _SEP + value).encode("utf-8")).hexdigest()[:16]


def hash_series(values: pl.Series, salt: str) -> pl.Series:
    """:func:`hash_id` of every value of a column (nulls stay null), computed by DuckDB's
    vectorised ``sha256`` (about 2 s for 10 million values on two cores, four times a
    Python loop over ``hashlib``).

    Examples
    --------
    >>> import polars as pl
    >>> out = hash_series(pl.Series("id", ["C001", None]), "s3cret")
    >>> out.to_list() == [hash_id("C001", "s3cret"), None]
    True
    """
    import duckdb

    text = values.cast(pl.String)
    if text.len() == 0:
        return text
    con = duckdb.connect()
    try:
        con.register("ids", pl.DataFrame({"v": text}).to_arrow())
        table = con.sql("SELECT left(sha256(? || v), 16) AS h FROM ids",
                        params=[salt + _SEP]).to_arrow_table()
    finally:
        con.close()
    return pl.Series(values.name, table.column("h"), dtype=pl.String)


def pseudonymize_frames(frames: dict[str, pl.DataFrame | None], *,
                        salt: str | None = None,
                        columns: dict[str, list[str]] | None = None
                        ) -> tuple[dict[str, pl.DataFrame | None], str]:
    """Replace identifier values by salted hashes, consistently across all frames.

    Every value is replaced by :func:`hash_id` of its text, so the same id gets the same
    pseudonym in every table, column and call with the same salt: tables can be
    pseudonymised one at a time.

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

    Examples
    --------
    >>> import polars as pl
    >>> frames = {"customers": pl.DataFrame({"customer_id": ["C1", "C2"]}),
    ...           "orders": pl.DataFrame({"order_id": ["O1"], "customer_id": ["C2"]})}
    >>> out, _ = pseudonymize_frames(frames, salt="s3cret")
    >>> out["orders"]["customer_id"][0] == out["customers"]["customer_id"][1]
    True
    """
    salt = salt if salt is not None else secrets.token_hex(16)
    out = dict(frames)
    for name, frame in frames.items():
        if frame is None:
            continue
        wanted = (columns or {}).get(name, id_columns(name) if name in S.TABLES else [])
        for c in [c for c in wanted if c in frame.columns]:
            frame = frame.with_columns(hash_series(frame.get_column(c), salt).alias(c))
        out[name] = frame
    return out, salt


def __dir__() -> list[str]:  # tab completion offers the public names, not np, pl, helpers
    return sorted(__all__)
