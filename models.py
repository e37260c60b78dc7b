"""The bank's tables (SQLModel).

Every table that belongs to a customer carries an indexed ``customer_oid``
with a real foreign key to ``users`` that cascades on delete, so one
``DELETE`` of a customer removes all of its rows in one statement. Amounts,
prices and quantities are exact (see ``core/money.py``); dates are ``date``.
"""

from datetime import UTC, date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    BigInteger,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy import false as sa_false
from sqlmodel import Field, SQLModel

from core.money import MONEY_SCALE, PRICE_SCALE, QUANTITY_SCALE, ScaledDecimal


class AssetType(StrEnum):
    stock = "stock"
    etf = "etf"
    bond = "bond"
    crypto = "crypto"
    commodity = "commodity"


class InstitutionType(StrEnum):
    bank = "bank"
    broker = "broker"
    crypto_exchange = "crypto_exchange"


class AccountType(StrEnum):
    checking = "checking"
    savings = "savings"
    brokerage = "brokerage"
    crypto = "crypto"


class TransactionType(StrEnum):
    deposit = "deposit"
    withdrawal = "withdrawal"
    buy = "buy"
    sell = "sell"
    dividend = "dividend"
    interest = "interest"
    fee = "fee"
    card_payment = "card_payment"
    transfer = "transfer"
    option_premium = "option_premium"
    settlement = "settlement"


class AccountStatus(StrEnum):
    open = "open"
    closed = "closed"


class DerivativeStatus(StrEnum):
    open = "open"
    closed = "closed"
    expired = "expired"
    exercised = "exercised"


class ProfileKind(StrEnum):
    person = "person"
    company = "company"


class RiskTolerance(StrEnum):
    conservative = "conservative"
    moderate = "moderate"
    aggressive = "aggressive"


class InvestmentExperience(StrEnum):
    none = "none"
    beginner = "beginner"
    intermediate = "intermediate"
    advanced = "advanced"


class TimeHorizon(StrEnum):
    """How long the money may stay invested: short is under 3 years, medium 3 to 10, long over
    10."""

    short = "short"
    medium = "medium"
    long = "long"


class CommunicationMethod(StrEnum):
    email = "email"
    phone = "phone"
    sms = "sms"
    mail = "mail"


class PortfolioStyle(StrEnum):
    preservation = "preservation"
    income = "income"
    balanced = "balanced"
    growth = "growth"


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _customer_fk(*, index: bool = True) -> Any:
    # Tables whose unique key or composite index starts with customer_oid need no index of its own.
    return Field(foreign_key="users.customer_oid", ondelete="CASCADE", index=index, max_length=36)


def _account_fk() -> Any:
    # Indexed so that deleting an account does not scan the child table.
    return Field(default=None, foreign_key="bank_accounts.id", ondelete="CASCADE", index=True)


class Institution(SQLModel, table=True):
    __tablename__ = "institutions"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100, unique=True)
    institution_type: str = Field(sa_type=String(20))
    country: str = Field(max_length=2, description="ISO 3166-1 alpha-2 country code")
    routing_number: str | None = Field(
        default=None, max_length=9, description="ABA routing number (US institutions)"
    )
    bic: str | None = Field(default=None, max_length=11, description="SWIFT/BIC code")


class Instrument(SQLModel, table=True):
    __tablename__ = "instruments"

    symbol: str = Field(primary_key=True, max_length=16)
    name: str = Field(max_length=100)
    asset_type: str = Field(sa_type=String(16))
    currency: str = Field(max_length=3, description="ISO 4217 currency of the price")


class InstrumentPrice(SQLModel, table=True):
    """Daily close of an instrument; an asset is valued at its instrument's latest close."""

    __tablename__ = "instrument_prices"

    symbol: str = Field(foreign_key="instruments.symbol", primary_key=True, max_length=16)
    price_date: date = Field(primary_key=True)
    close: Decimal = Field(sa_type=ScaledDecimal(PRICE_SCALE))


class FxRate(SQLModel, table=True):
    """Daily value of one unit of ``currency`` in US dollars."""

    __tablename__ = "fx_rates"

    currency: str = Field(primary_key=True, max_length=3)
    rate_date: date = Field(primary_key=True)
    usd_per_unit: Decimal = Field(sa_type=ScaledDecimal(PRICE_SCALE))


class Customer(SQLModel, table=True):
    __tablename__ = "users"

    id: int | None = Field(default=None, primary_key=True)
    customer_oid: str = Field(max_length=36, unique=True, index=True)
    name: str = Field(max_length=100)
    created_at: datetime = Field(default_factory=_utcnow)


class BankAccount(SQLModel, table=True):
    __tablename__ = "bank_accounts"

    id: int | None = Field(default=None, primary_key=True)
    customer_oid: str = _customer_fk()
    institution_id: int = Field(foreign_key="institutions.id")
    account_number: str = Field(max_length=34, unique=True)
    iban: str | None = Field(default=None, max_length=34)
    account_type: str = Field(sa_type=String(16))
    currency: str = Field(max_length=3)
    balance: Decimal = Field(sa_type=ScaledDecimal(MONEY_SCALE))
    opened_on: date
    status: str = Field(
        default=AccountStatus.open,
        sa_type=String(8),
        sa_column_kwargs={"server_default": AccountStatus.open.value},
        description="open or closed: a closed account takes no instruction",
    )
    overdraft_limit: Decimal = Field(
        default=Decimal(0),
        sa_type=ScaledDecimal(MONEY_SCALE),
        sa_column_kwargs={"server_default": "0"},
        description="How far below zero instructions may take the balance; 0 for none",
    )


class Asset(SQLModel, table=True):
    """A holding: how much of one instrument a customer owns, in which account."""

    __tablename__ = "assets"
    __table_args__ = (UniqueConstraint("customer_oid", "symbol"),)

    id: int | None = Field(default=None, primary_key=True)
    customer_oid: str = _customer_fk(index=False)
    account_id: int | None = _account_fk()
    symbol: str = Field(foreign_key="instruments.symbol", max_length=16)
    quantity: Decimal = Field(sa_type=ScaledDecimal(QUANTITY_SCALE))


class Transaction(SQLModel, table=True):
    """A booked movement of money. ``amount`` is signed: negative leaves the account."""

    __tablename__ = "transactions"
    __table_args__ = (
        Index("ix_transactions_customer_date", "customer_oid", "transaction_date", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    customer_oid: str = _customer_fk(index=False)
    account_id: int | None = _account_fk()
    transaction_date: date
    transaction_type: str = Field(sa_type=String(16))
    description: str = Field(max_length=200)
    category: str | None = Field(default=None, max_length=40)
    amount: Decimal = Field(sa_type=ScaledDecimal(MONEY_SCALE))
    currency: str = Field(max_length=3)
    symbol: str | None = Field(default=None, foreign_key="instruments.symbol", max_length=16)
    quantity: Decimal | None = Field(default=None, sa_type=ScaledDecimal(QUANTITY_SCALE))
    price: Decimal | None = Field(default=None, sa_type=ScaledDecimal(PRICE_SCALE))
    merchant: str | None = Field(default=None, max_length=100)
    merchant_category_code: str | None = Field(default=None, max_length=4)
    channel: str | None = Field(default=None, sa_type=String(8))
    booking_date: date | None = None
    value_date: date | None = None
    instruction_id: int | None = Field(
        default=None, foreign_key="instructions.id", ondelete="CASCADE", index=True
    )
    """The instruction this row was booked for (``Instruction.id``); None for the history."""


class Spending(SQLModel, table=True):
    """What a customer spent in one category in one calendar month."""

    __tablename__ = "spending"
    __table_args__ = (UniqueConstraint("customer_oid", "month", "category", "currency"),)

    id: int | None = Field(default=None, primary_key=True)
    customer_oid: str = _customer_fk(index=False)
    month: str = Field(max_length=7, description="YYYY-MM")
    category: str = Field(max_length=40)
    amount: Decimal = Field(sa_type=ScaledDecimal(MONEY_SCALE))
    currency: str = Field(max_length=3)
    transaction_count: int


class DerivativeTransaction(SQLModel, table=True):
    """An option or futures position, opened on ``trade_date``."""

    __tablename__ = "derivative_transactions"

    id: int | None = Field(default=None, primary_key=True)
    customer_oid: str = _customer_fk()
    account_id: int | None = _account_fk()
    instrument_type: str = Field(sa_type=String(8), description="option or future")
    underlying_symbol: str = Field(foreign_key="instruments.symbol", max_length=16)
    option_type: str | None = Field(default=None, sa_type=String(4), description="call or put")
    side: str = Field(sa_type=String(5), description="long or short")
    strategy: str | None = Field(default=None, max_length=40)
    contracts: int
    multiplier: int = Field(description="units of the underlying per contract")
    strike: Decimal | None = Field(default=None, sa_type=ScaledDecimal(PRICE_SCALE))
    premium: Decimal | None = Field(default=None, sa_type=ScaledDecimal(PRICE_SCALE))
    trade_price: Decimal | None = Field(default=None, sa_type=ScaledDecimal(PRICE_SCALE))
    currency: str = Field(max_length=3)
    trade_date: date
    expiry_date: date
    status: str = Field(sa_type=String(10))
    closed_on: date | None = None


class KeptBook(SQLModel, table=True):
    """A customer's kept figures: what every read would otherwise derive from the whole
    statement, kept by the writes that book the rows (``services/books.py``). Numbers are
    exact decimal strings inside the JSON."""

    __tablename__ = "kept_books"

    customer_oid: str = Field(
        primary_key=True, foreign_key="users.customer_oid", ondelete="CASCADE", max_length=36
    )
    transaction_count: int = Field(default=0, sa_type=BigInteger)
    trades: str = Field(
        default="{}", sa_type=Text, description="By symbol: [day, signed quantity, price]"
    )
    income: str = Field(
        default="[]", sa_type=Text, description="[day, category, currency, amount, symbol]"
    )
    card_spending: str = Field(
        default="[]", sa_type=Text, description="Summed per [day, category, currency, amount]"
    )
    book_stale: bool = Field(
        default=False,
        sa_column_kwargs={"server_default": sa_false()},
        description="Set by a trigger when the customer's rows change outside the bank's own "
        "writes: the figures are derived from the rows again until rebuilt",
    )
    summary: str | None = Field(
        default=None, sa_type=Text, description="The portfolio summary's JSON, as last computed"
    )
    statement: bytes | None = Field(
        default=None,
        sa_type=LargeBinary,
        description="Every transaction, newest first, as /user-portfolio sends them: JSON, "
        "compressed with zlib; kept and dropped with the summary",
    )
    summary_key: str | None = Field(
        default=None,
        max_length=100,
        description="What the summary was computed with (market data, analysis, base "
        "currency): it is used only while these are the same",
    )


class CustomerProfile(SQLModel, table=True):
    """What a customer declared about itself: who it is, how to reach it, how it invests.

    Generated with the synthetic and sample customers, given at registration for the others;
    a customer registered without one has no row. Income and net worth are not here: they are
    read from the books when asked for. The vocabularies are the StrEnums above.
    """

    __tablename__ = "customer_profiles"

    customer_oid: str = Field(
        primary_key=True, foreign_key="users.customer_oid", ondelete="CASCADE", max_length=36
    )
    kind: str = Field(sa_type=String(8), description="person or company")
    date_of_birth: date | None = Field(default=None, description="A person's; null for a company")
    founded_on: date | None = Field(default=None, description="A company's; null for a person")
    email: str | None = Field(default=None, max_length=254)
    phone: str | None = Field(default=None, max_length=16, description="E.164: +, then digits")
    risk_tolerance: str | None = Field(default=None, sa_type=String(12))
    investment_experience: str | None = Field(default=None, sa_type=String(12))
    investment_goals: str | None = Field(
        default=None, sa_type=Text, description="A JSON array of strings"
    )
    time_horizon: str | None = Field(default=None, sa_type=String(6))
    communication_method: str | None = Field(default=None, sa_type=String(5))
    portfolio_style: str | None = Field(default=None, sa_type=String(12))
    esg_investing: bool | None = None
    persona: str | None = Field(
        default=None, max_length=24, description="The synthetic persona; null when registered"
    )


class InstructionKind(StrEnum):
    transfer = "transfer"
    payment = "payment"
    order = "order"


class InstructionStatus(StrEnum):
    executed = "executed"
    scheduled = "scheduled"
    """A payment dated after the bank's day: it runs on that day (nothing is booked yet)."""
    cancelled = "cancelled"
    refused = "refused"
    """A scheduled payment the bank could not make on its day (no money, account closed):
    nothing was booked; ``effects`` says why."""


class Instruction(SQLModel, table=True):
    """Something a customer told the bank to do: a transfer, a payment or an order.

    ``request`` is the instruction as accepted (JSON, every field resolved: accounts, amounts,
    dates); ``effects`` is what executing it did (JSON: rows booked, rate, fill, fees). The
    statement rows it booked point back here (``Transaction.instruction_id``).
    """

    __tablename__ = "instructions"
    __table_args__ = (Index("ix_instructions_customer_kind", "customer_oid", "kind", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    customer_oid: str = _customer_fk(index=False)
    kind: str = Field(sa_type=String(8))
    status: str = Field(sa_type=String(10))
    created_at: datetime = Field(default_factory=_utcnow, sa_type=DateTime(timezone=True))
    booked_on: date = Field(description="The bank's day when the instruction was accepted")
    execute_on: date = Field(description="The day it runs: booked_on, or a payment's date")
    counted_usd: Decimal = Field(
        default=Decimal(0),
        sa_type=ScaledDecimal(MONEY_SCALE),
        description="What it counts against the daily limit, in US dollars at the mid rate",
    )
    request: str = Field(sa_type=Text)
    effects: str = Field(default="{}", sa_type=Text)


class BankIncome(SQLModel, table=True):
    """What the bank earned on an instruction: a fee, its FX spread or its dealing spread.

    The only place money goes that is neither the customer's nor sent on the customer's
    order: with these rows every instruction's legs add up (see ``services/instructions``).
    """

    __tablename__ = "bank_income"

    id: int | None = Field(default=None, primary_key=True)
    instruction_id: int = Field(foreign_key="instructions.id", ondelete="CASCADE", index=True)
    kind: str = Field(sa_type=String(16), description="fee, fx_spread or dealing_spread")
    amount: Decimal = Field(sa_type=ScaledDecimal(MONEY_SCALE))
    currency: str = Field(max_length=3)


class IdempotencyRecord(SQLModel, table=True):
    """The first answer to an instruction sent with an ``Idempotency-Key``: a retry with the
    same key and body gets it again instead of a second instruction."""

    __tablename__ = "idempotency_keys"

    customer_oid: str = Field(
        primary_key=True, foreign_key="users.customer_oid", ondelete="CASCADE", max_length=36
    )
    key: str = Field(primary_key=True, max_length=255)
    fingerprint: str = Field(max_length=64, description="SHA-256 of the method, path and body")
    status_code: int
    response: str = Field(sa_type=Text)
    created_at: datetime = Field(
        default_factory=_utcnow, sa_type=DateTime(timezone=True), index=True
    )


INSTRUCTION_TABLES = (Instruction, BankIncome, IdempotencyRecord)
"""The tables of what customers instructed (not generated: written by the API alone)."""


class CustomerNameToken(SQLModel, table=True):
    """One word of a customer's name, case-folded and without accents: the name search index."""

    __tablename__ = "customer_name_tokens"

    # Byte order on PostgreSQL too, so a prefix is a range of the index (as on SQLite).
    token: str = Field(
        primary_key=True, sa_type=String(100).with_variant(String(100, collation="C"), "postgresql")
    )
    customer_id: int = Field(
        foreign_key="users.id", ondelete="CASCADE", primary_key=True, index=True
    )


class Counter(SQLModel, table=True):
    """Counts kept up to date by the writes themselves, so no request has to count rows."""

    __tablename__ = "counters"

    name: str = Field(primary_key=True, max_length=64)
    value: int = Field(default=0, sa_type=BigInteger)


CUSTOMER_COUNTER = "customers"


class BankSecret(SQLModel, table=True):
    """Keys the bank made for itself at its first start, kept with its data so that every
    worker and every restart signs (page cursors, question ids) with the same one."""

    __tablename__ = "bank_secrets"

    name: str = Field(primary_key=True, max_length=64)
    value: str = Field(max_length=128)


SIGNING_SECRET = "signing"
"""The secret that signs page cursors and question ids, unless BANK_CURSOR_SECRET is set."""


class Change(SQLModel, table=True):
    """One committed write, logged in the same transaction: how every worker learns what to
    forget. ``subject_oid`` names the customer whose answers changed (an id, no data of
    theirs: it outlives a deleted customer as an audit line would); NULL means anything may
    have changed (market data, a bulk load)."""

    __tablename__ = "changes"

    # SQLite numbers rows itself (INTEGER PRIMARY KEY; in commit order, its writes being
    # serialised); on PostgreSQL the bank numbers them from ``BankEventCounter.changes_last``.
    seq: int | None = Field(
        default=None, primary_key=True, sa_type=BigInteger().with_variant(Integer(), "sqlite")
    )
    subject_oid: str | None = Field(default=None, max_length=36)


class BankEvent(SQLModel, table=True):
    """One change of the public feed (``GET /changes``), written in the transaction of the
    write it reports (``services/events.py``). ``seq`` comes from ``BankEventCounter``, so
    it grows in commit order with no gaps. Like ``changes``, it names a customer without a
    foreign key: the record of a deleted customer's changes stays."""

    __tablename__ = "bank_events"
    __table_args__ = (Index("ix_bank_events_customer_seq", "customer_oid", "seq"),)

    seq: int = Field(
        primary_key=True, sa_type=BigInteger, sa_column_kwargs={"autoincrement": False}
    )
    type: str = Field(sa_type=String(32), description="A ``schemas.changes.ChangeType``")
    customer_oid: str | None = Field(default=None, max_length=36)
    occurred_on: date = Field(description="The bank's day it happened on")
    recorded_at: datetime = Field(sa_type=DateTime(timezone=True))
    label: str | None = Field(default=None, max_length=100)
    data: str = Field(
        default="{}",
        sa_type=Text,
        description="The ids and figures (``ChangeIds``) as JSON, amounts as exact decimal strings",
    )


class BankEventCounter(SQLModel, table=True):
    """The writes' one counter row: the last ``seq`` handed out to the public feed
    (``last``) and, on PostgreSQL, to the workers' change log (``changes_last``; SQLite's
    serialised writes number the log by its rows), and this database's feed id.

    A writer takes its numbers with ``UPDATE ... RETURNING`` and holds the row until it
    commits, so numbers are committed in the order they were taken: a reader that sees a
    change sees every change numbered before it. One row for both logs: a write that records
    both waits once, and two writers cannot take them in opposite orders. ``feed_id`` is
    drawn when the table is made; a cursor carries it, so one from a database made again is
    refused, not misread."""

    __tablename__ = "bank_event_counter"

    id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    last: int = Field(default=0, sa_type=BigInteger)
    feed_id: str = Field(max_length=32)
    changes_last: int = Field(default=0, sa_type=BigInteger)


CUSTOMER_TABLES = (
    CustomerProfile,
    BankAccount,
    Asset,
    Transaction,
    Spending,
    DerivativeTransaction,
    KeptBook,
)
"""The tables whose rows belong to one customer (each has ``customer_oid``)."""


class Sandbox(SQLModel, table=True):
    """A sandbox bank: an isolated copy of a prepared template, kept in the main database so
    that every worker of the server can find it. ``generation`` names the current copy: each
    reset serves from a fresh one, so a request sees the state before a reset or after it."""

    __tablename__ = "sandboxes"

    sandbox_id: str = Field(primary_key=True, max_length=24)
    label: str = Field(default="", max_length=100)
    seed: int = Field(sa_type=BigInteger)
    customers: int
    generation: int = 0
    created_at: datetime = Field(default_factory=_utcnow)
    reset_at: datetime = Field(default_factory=_utcnow)
    expires_at: datetime = Field(index=True)
    faults: str = Field(default="", sa_type=Text)
    """The fault plan as JSON (``sandboxes.faults.FaultPlan``); empty for none. Here, not in
    the sandbox's copy, so that a reset keeps the rules and restarts their sequence."""
    allow_writes: bool = Field(default=False, sa_column_kwargs={"server_default": sa_false()})
    """Whether its sandbox key may give instructions and call the MCP write tools there."""
    key_hash: str | None = Field(default=None, max_length=64)
    """SHA-256 (hex) of the sandbox key, the agent's key to this sandbox alone; the key
    itself is shown once, at creation. None for a sandbox made before keys existed."""
    script: str = Field(default="", sa_type=Text, sa_column_kwargs={"server_default": ""})
    """The scripted events as JSON (``sandboxes.scripts.Script``); empty for none. Here, like
    the fault plan, so that a reset replays them."""


class SandboxClock(SQLModel, table=True):
    """A sandbox's clock, in the sandbox's own copy (one row, made by its first advance):
    the day it has reached. The bank's day is the market's last close, which the advance
    moves with it; the default bank has no row and never moves (``sandboxes/clock.py``)."""

    __tablename__ = "sandbox_clock"

    id: int = Field(default=1, primary_key=True)
    seed: int = Field(sa_type=BigInteger, description="The sandbox's seed: the market's draws")
    started_on: date = Field(description="The history's last day, where the clock started")
    today: date = Field(description="The last day run")


class BookKeeping(SQLModel, table=True):
    """One row: whether the writing transaction keeps the books of what it writes itself
    (a sandbox clock's advance sets it for its own transaction alone), so that the
    triggers marking kept books stale row by row let its rows be (migration 0017)."""

    __tablename__ = "book_keeping"

    id: int = Field(default=1, primary_key=True)
    by_writer: bool = Field(default=False, sa_column_kwargs={"server_default": sa_false()})


class StatementTexture(SQLModel, table=True):
    """A customer's statement texture (``synthetic/texture.py``), learned once from the rows
    up to ``until`` and kept compressed (``synthetic/texture_store.py``): a sandbox's
    template learns them when it is built, and its clock reads them back."""

    __tablename__ = "statement_textures"

    customer_oid: str = Field(
        primary_key=True, foreign_key="users.customer_oid", ondelete="CASCADE", max_length=36
    )
    until: date = Field(description="The last day of the rows it was learned from")
    texture: bytes = Field(sa_type=LargeBinary)


class SandboxCall(SQLModel, table=True):
    """One call made in a sandbox (the trace), kept in the sandbox's own copy: every worker
    sees it, and a reset empties it. ``number`` counts from 1 in each fresh copy."""

    __tablename__ = "sandbox_calls"

    number: int | None = Field(
        default=None, primary_key=True, sa_type=BigInteger().with_variant(Integer(), "sqlite")
    )
    called_at: datetime
    method: str = Field(max_length=10)
    path: str = Field(max_length=1000)
    target: str | None = Field(default=None, max_length=250)
    """What fault rules match: ``METHOD /path`` (no query string), or ``mcp <tool>``."""
    target_number: int | None = None
    """Place of the call among the calls of its target since creation or reset, from 1:
    with the seed and the rule, it decides whether the call fails."""
    mcp_method: str | None = Field(default=None, max_length=100)
    tool: str | None = Field(default=None, max_length=100)
    arguments: str | None = Field(default=None, sa_type=Text)
    status: int | None = None
    result_status: str | None = Field(default=None, max_length=10)
    """For an MCP call: ``ok``, or ``error`` when the agent got an error back."""
    latency_ms: float | None = None
    fault: str | None = Field(default=None, max_length=250)
    fault_rule: int | None = None

    __table_args__ = (Index("ix_sandbox_calls_target", "target", "target_number"),)


class EvalTaskSet(SQLModel, table=True):
    """Tasks handed to an evaluation harness (``GET /eval/tasks``) with what grading needs:
    each task's gold end state, the state of its customers before the agent acted, and a
    fingerprint of the rest of the bank. Kept in the database it was made in (a sandbox's
    copy, so that a reset clears it); only the full key's /eval routes read it."""

    __tablename__ = "eval_task_sets"

    token: str = Field(primary_key=True, max_length=32)
    """Random: sealed into the ids the harness is given, never shown as it is."""
    created_at: datetime = Field(default_factory=_utcnow, sa_type=DateTime(timezone=True))
    as_of: date = Field(description="The bank's day the tasks were drawn on")
    seed: int = Field(sa_type=BigInteger)
    tasks: str = Field(sa_type=Text)
    """The tasks as issued (JSON): text, gold calls and expected changes."""
    baseline: str = Field(sa_type=Text)
    """The tasks' customers as they were (JSON): accounts, holdings, positions, instructions."""
    fingerprint: str = Field(sa_type=Text)
    """Everyone else, cheaply (JSON): row counts, last ids, each customer's sums."""


class Webhook(SQLModel, table=True):
    """A URL that is sent a sandbox's changes (``sandboxes/webhooks.py``). Kept in the main
    database beside its sandbox, so that a reset keeps it (and its delivery log), and the
    sandbox's delete takes it along. ``position`` is the last change of the sandbox's feed
    it has looked at, in the copy ``generation`` names: a reset starts a new feed, and the
    webhook follows it from its beginning."""

    __tablename__ = "webhooks"

    webhook_id: str = Field(primary_key=True, max_length=24)
    sandbox_id: str = Field(
        foreign_key="sandboxes.sandbox_id", ondelete="CASCADE", index=True, max_length=24
    )
    url: str = Field(max_length=2048)
    event_types: str = Field(max_length=1000)
    """The change types it wants, comma-separated; ``*`` for all."""
    description: str = Field(default="", max_length=200)
    secret: str = Field(max_length=64)
    """The key its deliveries are signed with: kept to sign, shown once at registration."""
    created_at: datetime = Field(sa_type=DateTime(timezone=True))
    position: int = Field(default=0, sa_type=BigInteger)
    generation: int = 0


class DeliveryStatus(StrEnum):
    pending = "pending"
    delivered = "delivered"
    failed = "failed"


class WebhookDelivery(SQLModel, table=True):
    """One change sent to one webhook, and the record of trying (``sandboxes/delivery.py``).
    ``delivery_id`` is the same on every attempt: a receiver deduplicates on it. A worker
    sends an attempt only while it holds the lease (``lease_until``), taken by a conditional
    UPDATE, so that two workers never send the same attempt at once."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("webhook_id", "generation", "seq"),
        Index("ix_webhook_deliveries_webhook_status", "webhook_id", "status", "number"),
    )

    number: int | None = Field(
        default=None, primary_key=True, sa_type=BigInteger().with_variant(Integer(), "sqlite")
    )
    """The order deliveries were queued in, which is the order they are sent in."""
    delivery_id: str = Field(max_length=24, unique=True)
    webhook_id: str = Field(foreign_key="webhooks.webhook_id", ondelete="CASCADE", max_length=24)
    generation: int
    seq: int = Field(sa_type=BigInteger)
    type: str = Field(max_length=32)
    body: str = Field(sa_type=Text)
    """The JSON sent, exactly: every attempt sends the same bytes."""
    status: str = Field(default=DeliveryStatus.pending, max_length=10)
    attempts: int = 0
    created_at: datetime = Field(sa_type=DateTime(timezone=True))
    next_attempt_at: datetime = Field(sa_type=DateTime(timezone=True))
    last_attempt_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    delivered_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    last_status_code: int | None = None
    last_error: str | None = Field(default=None, max_length=300)
    lease_until: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    lease_owner: str | None = Field(default=None, max_length=32)
