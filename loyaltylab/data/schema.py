"""The canonical CRM data model: every table, column, type and meaning, defined once.

Every other module spells column and table names through the constants here, never as
string literals. A client's own names are mapped onto these at load time (see
:func:`loyaltylab.load` and the TOML mapping file).

Conventions
-----------
- Identifiers are strings (``pl.String``), even when a client stores them as numbers, so
  that leading zeros survive and pseudonymised hashes fit the same column.
- Timestamps are ``pl.Datetime("us")`` normalised to UTC and stored without a time zone
  ("naive UTC"); a date without a time is midnight UTC.
- Money is ``pl.Float64`` in the client's currency.
- Categorical attributes (kind, segment, channel, ...) are plain strings.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

__all__ = [
    "Column",
    "TableSpec",
    "TABLES",
    "REQUIRED_TABLES",
    "OPTIONAL_TABLES",
    "PERSONAL_COLUMNS",
    "schema_frame",
    # table names
    "CUSTOMERS", "ORDERS", "CONTACTS", "REFERRALS", "SURVEYS", "COMPLAINTS",
    "SUBSCRIPTIONS", "ASSIGNMENTS", "WEB_SESSIONS",
    # column names
    "CUSTOMER_ID", "ACQUIRED_AT", "KIND", "SEGMENT", "ACQUISITION_CHANNEL", "REGION",
    "ACCOUNT_MANAGER", "ACQUISITION_COST", "REWARD_SCHEME",
    "ORDER_ID", "ORDERED_AT", "AMOUNT", "PRODUCT_LINE", "DISCOUNT",
    "CONTACTED_AT", "CHANNEL", "DIRECTION", "CAMPAIGN", "CONTACT_COST",
    "REFERRER_ID", "REFERRED_ID", "REFERRED_AT",
    "SURVEY", "ITEM", "ANSWERED_AT", "SCORE", "COMMENT", "RESPONSE_SECONDS",
    "OPENED_AT", "RESOLVED_AT", "CATEGORY", "OUTCOME",
    "STARTED_AT", "ENDED_AT", "PLAN",
    "ASSIGNED_FROM", "ASSIGNED_TO", "END_REASON",
    "VISITOR_ID",
    "KINDS", "DIRECTIONS", "MANAGER_LEFT",
]

# ---------------------------------------------------------------- table names
CUSTOMERS = "customers"
ORDERS = "orders"
CONTACTS = "contacts"
REFERRALS = "referrals"
SURVEYS = "surveys"
COMPLAINTS = "complaints"
SUBSCRIPTIONS = "subscriptions"
ASSIGNMENTS = "assignments"
WEB_SESSIONS = "web_sessions"

# ---------------------------------------------------------------- column names
CUSTOMER_ID = "customer_id"
ACQUIRED_AT = "acquired_at"
KIND = "kind"
SEGMENT = "segment"
ACQUISITION_CHANNEL = "acquisition_channel"
REGION = "region"
ACCOUNT_MANAGER = "account_manager"
ACQUISITION_COST = "acquisition_cost"
REWARD_SCHEME = "reward_scheme"

ORDER_ID = "order_id"
ORDERED_AT = "ordered_at"
AMOUNT = "amount"
PRODUCT_LINE = "product_line"
DISCOUNT = "discount"

CONTACTED_AT = "contacted_at"
CHANNEL = "channel"
DIRECTION = "direction"
CAMPAIGN = "campaign"
CONTACT_COST = "cost"

REFERRER_ID = "referrer_id"
REFERRED_ID = "referred_id"
REFERRED_AT = "referred_at"

SURVEY = "survey"
ITEM = "item"
ANSWERED_AT = "answered_at"
SCORE = "score"
COMMENT = "comment"
RESPONSE_SECONDS = "response_seconds"

OPENED_AT = "opened_at"
RESOLVED_AT = "resolved_at"
CATEGORY = "category"
OUTCOME = "outcome"

STARTED_AT = "started_at"
ENDED_AT = "ended_at"
PLAN = "plan"

ASSIGNED_FROM = "assigned_from"
ASSIGNED_TO = "assigned_to"
END_REASON = "end_reason"

VISITOR_ID = "visitor_id"

# ---------------------------------------------------------------- value vocabularies
KINDS = ("consumer", "business partner", "supplier", "distributor", "co-operation partner",
         "employee", "internal client")
"""Usual values of ``customers.kind``; other values are kept as given."""
DIRECTIONS = ("inbound", "outbound")
"""The only allowed values of ``contacts.direction``."""
MANAGER_LEFT = "manager_left"
"""Value of ``assignments.end_reason`` when the account manager left the firm."""

PERSONAL_COLUMNS = ("name", "first_name", "last_name", "full_name", "contact_name",
                    "contact_person", "email", "e_mail", "mail", "phone", "telephone",
                    "mobile", "fax", "address", "street", "house_number", "postcode", "zip",
                    "city", "birth_date", "date_of_birth", "iban", "bank_account",
                    "tax_id", "social_security_number")
"""Typical English names (lower snake case) of columns that hold personal data. They and
their equivalents in German, French, Swedish, Danish, Norwegian, Dutch, Spanish, Italian,
Portuguese and Polish ("Vorname", "Code postal", "Födelsedatum", ...) are recognised by
:func:`loyaltylab.data.privacy.is_personal` and dropped on load unless the user keeps them
explicitly; e-mail addresses, phone numbers and IBANs are also recognised by content."""

_STR = pl.String
_TS = pl.Datetime("us")
_F64 = pl.Float64


@dataclass(frozen=True)
class Column:
    """One canonical column: name, polars type, whether it is required, and its meaning.

    Parameters
    ----------
    name : str
        Canonical column name.
    dtype : polars.DataType
        Type the column is cast to on load.
    required : bool
        Whether a table without it is rejected.
    description : str
        What the column holds, in plain words.
    is_id : bool, default False
        Whether it identifies a person or a record (pseudonymised on load).
    """

    name: str
    dtype: pl.DataType
    required: bool
    description: str
    is_id: bool = False


@dataclass(frozen=True)
class TableSpec:
    """One canonical table: every fact about it, kept in one place.

    Validation, loading, the overview, the metrics and the funnel read a table's event date,
    intervals and customer references from here; adding a table means adding one entry to
    :data:`TABLES`.

    Parameters
    ----------
    name : str
        Canonical table name.
    description : str
        What one row is, in plain words.
    columns : tuple of Column
        The canonical columns, in order.
    key : tuple of str, default ()
        Columns that identify a row (primary key).
    required : bool, default False
        Whether every dataset must have this table.
    event : str, optional
        The timestamp that dates a row (its event); rows dated after ``as_of`` are
        rejected, and it is the date column of the overview and the funnel.
    interval : tuple of (str, str), optional
        (start, end) columns of a spell; the end may be null (still open) but not before
        the start.
    customer_refs : tuple of str, default ()
        Columns naming a customer, who must be in the customers table.

    Examples
    --------
    >>> from loyaltylab.data.schema import TABLES
    >>> TABLES["referrals"].event, TABLES["referrals"].customer_refs
    ('referred_at', ('referrer_id', 'referred_id'))
    >>> TABLES["complaints"].interval
    ('opened_at', 'resolved_at')
    """

    name: str
    description: str
    columns: tuple[Column, ...]
    key: tuple[str, ...] = field(default=())
    required: bool = False
    event: str | None = None
    interval: tuple[str, str] | None = None
    customer_refs: tuple[str, ...] = ()

    @property
    def names(self) -> list[str]:
        """All canonical column names, in order."""
        return [c.name for c in self.columns]

    @property
    def required_names(self) -> list[str]:
        """Names of the columns that must be present."""
        return [c.name for c in self.columns if c.required]

    @property
    def schema(self) -> dict[str, pl.DataType]:
        """Column name -> polars dtype."""
        return {c.name: c.dtype for c in self.columns}

    def column(self, name: str) -> Column:
        """The :class:`Column` called ``name``."""
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"{self.name} has no canonical column {name!r}; columns: {self.names}")


TABLES: dict[str, TableSpec] = {
    CUSTOMERS: TableSpec(
        CUSTOMERS,
        "One row per relationship: consumers, business partners, suppliers, distributors, "
        "employees and other kinds of customer.",
        (
            Column(CUSTOMER_ID, _STR, True, "Unique customer identifier.", is_id=True),
            Column(ACQUIRED_AT, _TS, True, "When the relationship began (first known as a "
                   "suspect or prospect, or first order)."),
            Column(KIND, _STR, False, "Kind of relationship: consumer, business partner, "
                   "supplier, distributor, employee, ..."),
            Column(SEGMENT, _STR, False, "The client's own customer segment."),
            Column(ACQUISITION_CHANNEL, _STR, False, "How the customer was won: advertising, "
                   "partnership, referral, personal relationship, ..."),
            Column(REGION, _STR, False, "Geographic or sales region."),
            Column(ACCOUNT_MANAGER, _STR, False, "Current account manager (history in "
                   "assignments).", is_id=True),
            Column(ACQUISITION_COST, _F64, False, "Cost of winning this customer."),
            Column(REWARD_SCHEME, _STR, False, "Reward scheme the customer is enrolled in, "
                   "e.g. 'every_purchase', 'first_time_discount', 'none'."),
        ),
        key=(CUSTOMER_ID,),
        required=True,
        event=ACQUIRED_AT,
    ),
    ORDERS: TableSpec(
        ORDERS,
        "One row per order (purchase).",
        (
            Column(ORDER_ID, _STR, True, "Unique order identifier.", is_id=True),
            Column(CUSTOMER_ID, _STR, True, "Customer who ordered.", is_id=True),
            Column(ORDERED_AT, _TS, True, "When the order was placed."),
            Column(AMOUNT, _F64, True, "Order value after discount; negative only for "
                   "refunds (allow_refunds=True)."),
            Column(PRODUCT_LINE, _STR, False, "Product or service line."),
            Column(DISCOUNT, _F64, False, "Discount granted on this order, in currency "
                   "(0 when none)."),
        ),
        key=(ORDER_ID,),
        required=True,
        event=ORDERED_AT,
        customer_refs=(CUSTOMER_ID,),
    ),
    CONTACTS: TableSpec(
        CONTACTS,
        "One row per contact between firm and customer.",
        (
            Column(CUSTOMER_ID, _STR, True, "Customer contacted.", is_id=True),
            Column(CONTACTED_AT, _TS, True, "When the contact took place."),
            Column(CHANNEL, _STR, True, "email, phone, visit, meeting, web, ..."),
            Column(DIRECTION, _STR, False, "'inbound' (customer to firm) or 'outbound' "
                   "(firm to customer)."),
            Column(CAMPAIGN, _STR, False, "Campaign the contact belongs to, if any."),
            Column(CONTACT_COST, _F64, False, "Cost of the contact (cost to serve)."),
        ),
        event=CONTACTED_AT,
        customer_refs=(CUSTOMER_ID,),
    ),
    REFERRALS: TableSpec(
        REFERRALS,
        "One row per referral: an existing customer brought in a new one.",
        (
            Column(REFERRER_ID, _STR, True, "Customer who referred.", is_id=True),
            Column(REFERRED_ID, _STR, True, "Customer who was referred.", is_id=True),
            Column(REFERRED_AT, _TS, True, "When the referral happened."),
        ),
        event=REFERRED_AT,
        customer_refs=(REFERRER_ID, REFERRED_ID),
    ),
    SURVEYS: TableSpec(
        SURVEYS,
        "One survey answer per row (long format).",
        (
            Column(CUSTOMER_ID, _STR, True, "Customer who answered.", is_id=True),
            Column(SURVEY, _STR, True, "Survey or wave name, e.g. 'nps_2025q1'."),
            Column(ITEM, _STR, True, "Question (item) identifier, e.g. 'nps', 'csat'."),
            Column(ANSWERED_AT, _TS, True, "When the answer was given."),
            Column(SCORE, _F64, True, "Numeric answer."),
            Column(COMMENT, _STR, False, "Free-text comment (may hold personal data: "
                   "never printed by the library)."),
            Column(RESPONSE_SECONDS, _F64, False, "Time taken for the whole response, for "
                   "speeding checks."),
        ),
        event=ANSWERED_AT,
        customer_refs=(CUSTOMER_ID,),
    ),
    COMPLAINTS: TableSpec(
        COMPLAINTS,
        "One row per complaint.",
        (
            Column(CUSTOMER_ID, _STR, True, "Customer who complained.", is_id=True),
            Column(OPENED_AT, _TS, True, "When the complaint was raised."),
            Column(RESOLVED_AT, _TS, False, "When it was resolved (null while open)."),
            Column(CATEGORY, _STR, False, "What the complaint was about."),
            Column(OUTCOME, _STR, False, "How it ended, e.g. 'resolved', 'refund', "
                   "'rejected'."),
        ),
        event=OPENED_AT,
        interval=(OPENED_AT, RESOLVED_AT),
        customer_refs=(CUSTOMER_ID,),
    ),
    SUBSCRIPTIONS: TableSpec(
        SUBSCRIPTIONS,
        "Contracts of a contractual business, one row per subscription spell.",
        (
            Column(CUSTOMER_ID, _STR, True, "Subscriber.", is_id=True),
            Column(STARTED_AT, _TS, True, "Start of the subscription."),
            Column(ENDED_AT, _TS, False, "End of the subscription (null while open)."),
            Column(PLAN, _STR, False, "Plan or tariff."),
        ),
        event=STARTED_AT,
        interval=(STARTED_AT, ENDED_AT),
        customer_refs=(CUSTOMER_ID,),
    ),
    ASSIGNMENTS: TableSpec(
        ASSIGNMENTS,
        "Account-manager history: who looked after each customer, from when to when.",
        (
            Column(CUSTOMER_ID, _STR, True, "Customer.", is_id=True),
            Column(ACCOUNT_MANAGER, _STR, True, "Account manager.", is_id=True),
            Column(ASSIGNED_FROM, _TS, True, "Start of the assignment."),
            Column(ASSIGNED_TO, _TS, False, "End of the assignment (null while current)."),
            Column(END_REASON, _STR, False, "Why it ended; 'manager_left' when the manager "
                   "left the firm."),
        ),
        event=ASSIGNED_FROM,
        interval=(ASSIGNED_FROM, ASSIGNED_TO),
        customer_refs=(CUSTOMER_ID,),
    ),
    WEB_SESSIONS: TableSpec(
        WEB_SESSIONS,
        "Web sessions, for the online loyalty ladder.",
        (
            Column(VISITOR_ID, _STR, True, "Anonymous visitor (cookie) identifier.",
                   is_id=True),
            Column(CUSTOMER_ID, _STR, False, "Customer, once identified (null while "
                   "anonymous).", is_id=True),
            Column(STARTED_AT, _TS, True, "Start of the session."),
        ),
        event=STARTED_AT,
        customer_refs=(CUSTOMER_ID,),
    ),
}
"""Every canonical table, in validation order: customers first, because the other tables'
``customer_refs`` are checked against it."""

REQUIRED_TABLES = tuple(n for n, t in TABLES.items() if t.required)
OPTIONAL_TABLES = tuple(n for n, t in TABLES.items() if not t.required)


def schema_frame() -> pl.DataFrame:
    """The whole data model as a table, one row per canonical column.

    Returns
    -------
    pl.DataFrame
        - table: canonical table name
        - table_required: whether the table must be supplied
        - column: canonical column name
        - dtype: polars type after loading
        - required: whether the column must be present in the table
        - description: what the column means

    Examples
    --------
    >>> from loyaltylab.data.schema import schema_frame
    >>> df = schema_frame()
    >>> df.filter(df["table"] == "orders")["column"].to_list()
    ['order_id', 'customer_id', 'ordered_at', 'amount', 'product_line', 'discount']
    """
    rows = [
        {
            "table": t.name,
            "table_required": t.required,
            "column": c.name,
            "dtype": str(c.dtype),
            "required": c.required,
            "description": c.description,
        }
        for t in TABLES.values()
        for c in t.columns
    ]
    return pl.DataFrame(rows)


def __dir__() -> list[str]:  # tab completion offers the public names, not np, pl, helpers
    return sorted(__all__)
