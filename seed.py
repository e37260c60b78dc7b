"""Sample data: deterministic market data and the five sample customers of the contract.

``python seed.py`` fills an empty database and leaves a full one as it is:
market data is loaded when the bank has none, and each sample customer is
added only when its CustomerOID is not taken. Everything here is generated
from fixed seeds, so two fresh installs agree to the cent.
"""

import argparse
import random
import time as clock
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlmodel import Session, select

from db import create_db_engine, create_schema
from market_model import (
    AS_OF,
    CRYPTO_EXCHANGE,
    GLOBAL_BANK,
    GLOBAL_BANK_CODES,
    INVESTMENT_CORP,
    MarketData,
    bank_iban,
    load_institutions,
    load_market_data,
    month_starts,
    monthly_spending,
)
from models import (
    AccountType,
    Asset,
    BankAccount,
    Customer,
    DerivativeStatus,
    DerivativeTransaction,
    Spending,
    Transaction,
    TransactionType,
)
from money import to_cents
from services.customers import add_customer

SAMPLE_BANK_CODES = {**GLOBAL_BANK_CODES, "DE": "37040044"}
"""The samples' German IBANs carry another bank code than the synthetic ones; kept as published."""

# --- The five sample customers ----------------------------------------------


@dataclass(frozen=True)
class AccountSpec:
    key: str
    institution: str
    account_type: AccountType
    currency: str
    opening_balance: str
    opened_on: date
    iban_country: str | None = None


@dataclass(frozen=True)
class TradeSpec:
    account: str
    symbol: str
    side: TransactionType
    quantity: str
    on: date


@dataclass(frozen=True)
class DerivativeSpec:
    account: str
    instrument_type: str
    underlying: str
    side: str
    contracts: int
    multiplier: int
    trade_date: date
    expiry_date: date
    status: DerivativeStatus
    option_type: str | None = None
    strategy: str | None = None
    strike: str | None = None
    premium: str | None = None
    closed_on: date | None = None


@dataclass(frozen=True)
class SampleCustomer:
    customer_oid: str
    name: str
    income_account: str
    monthly_income: str
    income_description: str
    spending_account: str
    monthly_spending: dict[str, str]
    """Typical spending per category and month; each month varies around it."""
    accounts: tuple[AccountSpec, ...]
    trades: tuple[TradeSpec, ...]
    derivatives: tuple[DerivativeSpec, ...] = ()


BUY, SELL = TransactionType.buy, TransactionType.sell
CHECKING, SAVINGS = AccountType.checking, AccountType.savings
BROKERAGE, CRYPTO = AccountType.brokerage, AccountType.crypto

SAMPLE_CUSTOMERS: tuple[SampleCustomer, ...] = (
    SampleCustomer(
        customer_oid="550e8400-e29b-41d4-a716-446655440001",
        name="John Doe",
        income_account="checking",
        monthly_income="8500.00",
        income_description="Salary - Acme Engineering Inc.",
        spending_account="checking",
        monthly_spending={
            "groceries": "620.00",
            "dining": "310.00",
            "transport": "180.00",
            "utilities": "240.00",
            "entertainment": "150.00",
        },
        accounts=(
            AccountSpec("checking", GLOBAL_BANK, CHECKING, "USD", "12000.00", date(2019, 3, 4)),
            AccountSpec(
                "eur",
                GLOBAL_BANK,
                SAVINGS,
                "EUR",
                "15000.00",
                date(2021, 6, 1),
                iban_country="DE",
            ),
            AccountSpec(
                "brokerage", INVESTMENT_CORP, BROKERAGE, "USD", "90000.00", date(2020, 1, 15)
            ),
            AccountSpec("crypto", CRYPTO_EXCHANGE, CRYPTO, "USD", "60000.00", date(2022, 5, 9)),
        ),
        trades=(
            TradeSpec("brokerage", "AAPL", BUY, "60", date(2024, 11, 4)),
            TradeSpec("brokerage", "AAPL", BUY, "60", date(2025, 4, 7)),
            TradeSpec("brokerage", "AAPL", SELL, "20", date(2026, 2, 17)),
            TradeSpec("brokerage", "GOOGL", BUY, "50", date(2025, 1, 13)),
            TradeSpec("brokerage", "US5Y", BUY, "150", date(2024, 12, 2)),
            TradeSpec("brokerage", "SPY", BUY, "40", date(2025, 3, 10)),
            TradeSpec("brokerage", "SPY", BUY, "15", date(2026, 1, 5)),
            TradeSpec("eur", "SAP", BUY, "25", date(2025, 9, 15)),
            TradeSpec("crypto", "BTC", BUY, "0.15", date(2025, 2, 3)),
            TradeSpec("crypto", "BTC", BUY, "0.1", date(2026, 3, 2)),
        ),
        derivatives=(
            DerivativeSpec(
                "brokerage",
                "option",
                "AAPL",
                "short",
                1,
                100,
                date(2026, 8, 17),
                date(2026, 10, 16),
                DerivativeStatus.open,
                option_type="call",
                strategy="covered_call",
                strike="240.00",
                premium="4.35",
            ),
            DerivativeSpec(
                "brokerage",
                "option",
                "SPY",
                "short",
                1,
                100,
                date(2026, 6, 22),
                date(2026, 8, 21),
                DerivativeStatus.expired,
                option_type="put",
                strategy="cash_secured_put",
                strike="540.00",
                premium="6.10",
                closed_on=date(2026, 8, 21),
            ),
        ),
    ),
    SampleCustomer(
        customer_oid="550e8400-e29b-41d4-a716-446655440002",
        name="Jane Smith",
        income_account="checking",
        monthly_income="11200.00",
        income_description="Salary - Northwind Capital LLC",
        spending_account="checking",
        monthly_spending={
            "dining": "720.00",
            "travel": "900.00",
            "shopping": "640.00",
            "groceries": "480.00",
            "transport": "260.00",
        },
        accounts=(
            AccountSpec("checking", GLOBAL_BANK, CHECKING, "USD", "9000.00", date(2018, 9, 10)),
            AccountSpec(
                "brokerage", INVESTMENT_CORP, BROKERAGE, "USD", "120000.00", date(2019, 2, 1)
            ),
            AccountSpec("crypto", CRYPTO_EXCHANGE, CRYPTO, "USD", "140000.00", date(2021, 1, 20)),
        ),
        trades=(
            TradeSpec("brokerage", "TSLA", BUY, "80", date(2024, 10, 14)),
            TradeSpec("brokerage", "TSLA", SELL, "30", date(2025, 12, 8)),
            TradeSpec("brokerage", "NVDA", BUY, "200", date(2024, 10, 21)),
            TradeSpec("brokerage", "NVDA", BUY, "100", date(2025, 7, 14)),
            TradeSpec("brokerage", "MSFT", BUY, "40", date(2025, 5, 5)),
            TradeSpec("crypto", "BTC", BUY, "0.4", date(2024, 11, 18)),
            TradeSpec("crypto", "ETH", BUY, "6", date(2025, 1, 6)),
            TradeSpec("crypto", "ETH", SELL, "2", date(2026, 5, 11)),
        ),
        derivatives=(
            DerivativeSpec(
                "brokerage",
                "option",
                "NVDA",
                "long",
                5,
                100,
                date(2026, 7, 20),
                date(2026, 12, 18),
                DerivativeStatus.open,
                option_type="call",
                strategy="long_call",
                strike="140.00",
                premium="9.80",
            ),
            DerivativeSpec(
                "brokerage",
                "future",
                "GC",
                "long",
                1,
                100,
                date(2026, 8, 3),
                date(2026, 12, 29),
                DerivativeStatus.open,
                strategy="long_future",
            ),
            DerivativeSpec(
                "brokerage",
                "option",
                "TSLA",
                "long",
                2,
                100,
                date(2026, 1, 12),
                date(2026, 3, 20),
                DerivativeStatus.closed,
                option_type="put",
                strategy="long_put",
                strike="230.00",
                premium="12.40",
                closed_on=date(2026, 3, 2),
            ),
        ),
    ),
    SampleCustomer(
        customer_oid="550e8400-e29b-41d4-a716-446655440003",
        name="Robert Johnson",
        income_account="checking",
        monthly_income="6400.00",
        income_description="Pension - State Teachers Retirement",
        spending_account="checking",
        monthly_spending={
            "groceries": "540.00",
            "healthcare": "420.00",
            "utilities": "310.00",
            "insurance": "280.00",
        },
        accounts=(
            AccountSpec("checking", GLOBAL_BANK, CHECKING, "USD", "18000.00", date(2009, 5, 12)),
            AccountSpec("savings", GLOBAL_BANK, SAVINGS, "USD", "85000.00", date(2011, 8, 30)),
            AccountSpec(
                "brokerage", INVESTMENT_CORP, BROKERAGE, "USD", "160000.00", date(2012, 4, 2)
            ),
        ),
        trades=(
            TradeSpec("brokerage", "US10Y", BUY, "400", date(2024, 10, 7)),
            TradeSpec("brokerage", "US10Y", BUY, "200", date(2025, 10, 6)),
            TradeSpec("brokerage", "CB-JNJ-2033", BUY, "250", date(2024, 11, 11)),
            TradeSpec("brokerage", "CB-VZ-2032", BUY, "200", date(2025, 2, 10)),
            TradeSpec("brokerage", "SPY", BUY, "60", date(2024, 12, 16)),
            TradeSpec("brokerage", "JNJ", BUY, "120", date(2025, 3, 3)),
            TradeSpec("brokerage", "JNJ", SELL, "20", date(2026, 6, 1)),
        ),
    ),
    SampleCustomer(
        customer_oid="550e8400-e29b-41d4-a716-446655440004",
        name="ABC Corporation",
        income_account="operating",
        monthly_income="185000.00",
        income_description="Customer receipts - consolidated",
        spending_account="operating",
        monthly_spending={
            "office": "14500.00",
            "utilities": "6200.00",
            "marketing": "38000.00",
            "software": "12500.00",
            "travel": "9800.00",
        },
        accounts=(
            AccountSpec("operating", GLOBAL_BANK, CHECKING, "USD", "450000.00", date(2015, 2, 2)),
            AccountSpec(
                "gbp",
                GLOBAL_BANK,
                CHECKING,
                "GBP",
                "120000.00",
                date(2020, 10, 1),
                iban_country="GB",
            ),
            AccountSpec(
                "treasury", INVESTMENT_CORP, BROKERAGE, "USD", "2500000.00", date(2016, 7, 1)
            ),
        ),
        trades=(
            TradeSpec("treasury", "AAPL", BUY, "1500", date(2024, 10, 1)),
            TradeSpec("treasury", "MSFT", BUY, "900", date(2024, 10, 1)),
            TradeSpec("treasury", "MSFT", SELL, "200", date(2026, 4, 13)),
            TradeSpec("treasury", "CB-AAPL-2031", BUY, "5000", date(2025, 1, 21)),
            TradeSpec("treasury", "QQQ", BUY, "800", date(2025, 6, 2)),
        ),
        derivatives=(
            DerivativeSpec(
                "treasury",
                "option",
                "QQQ",
                "long",
                8,
                100,
                date(2026, 7, 1),
                date(2026, 10, 16),
                DerivativeStatus.open,
                option_type="put",
                strategy="protective_put",
                strike="460.00",
                premium="8.25",
            ),
        ),
    ),
    SampleCustomer(
        customer_oid="550e8400-e29b-41d4-a716-446655440005",
        name="Michael Chen",
        income_account="checking",
        monthly_income="15800.00",
        income_description="Salary - Chen & Partners Advisory",
        spending_account="checking",
        monthly_spending={
            "dining": "950.00",
            "travel": "1400.00",
            "shopping": "880.00",
            "groceries": "560.00",
            "entertainment": "300.00",
        },
        accounts=(
            AccountSpec("checking", GLOBAL_BANK, CHECKING, "USD", "30000.00", date(2016, 11, 7)),
            AccountSpec(
                "brokerage", INVESTMENT_CORP, BROKERAGE, "USD", "150000.00", date(2017, 3, 15)
            ),
            AccountSpec("crypto", CRYPTO_EXCHANGE, CRYPTO, "USD", "60000.00", date(2020, 12, 1)),
        ),
        trades=(
            TradeSpec("brokerage", "AMZN", BUY, "150", date(2024, 10, 28)),
            TradeSpec("brokerage", "AMZN", BUY, "50", date(2025, 8, 4)),
            TradeSpec("brokerage", "VTI", BUY, "250", date(2025, 1, 27)),
            TradeSpec("crypto", "ETH", BUY, "12", date(2024, 12, 9)),
            TradeSpec("crypto", "ETH", SELL, "4.5", date(2026, 7, 6)),
        ),
    ),
)

MERCHANTS: dict[str, tuple[str, ...]] = {
    "groceries": ("Whole Foods Market", "Trader Joe's", "Safeway"),
    "dining": ("Blue Bottle Coffee", "Chipotle", "The Capital Grille"),
    "transport": ("Uber", "Shell", "MTA MetroCard"),
    "utilities": ("ConEdison", "Verizon Fios", "City Water Services"),
    "entertainment": ("Netflix", "AMC Theatres", "Spotify"),
    "travel": ("Delta Air Lines", "Marriott Hotels", "Hertz"),
    "shopping": ("Amazon.com", "Apple Store", "Nordstrom"),
    "healthcare": ("CVS Pharmacy", "Mount Sinai Medical", "Quest Diagnostics"),
    "insurance": ("State Farm", "MetLife"),
    "office": ("WeWork", "Staples Business", "Regus"),
    "marketing": ("Google Ads", "LinkedIn Marketing", "Meta Ads"),
    "software": ("Salesforce", "Atlassian", "Amazon Web Services"),
}

SPENDING_MONTHS = 6
INCOME_MONTHS = 12


def account_number(customer_index: int, account_index: int) -> str:
    return f"40{customer_index:06d}{account_index:04d}"


def add_sample_customer(
    session: Session,
    sample: SampleCustomer,
    customer_index: int,
    market: MarketData,
    institutions: dict[str, int],
) -> None:
    """Add one sample customer; balances, holdings and spending follow from its transactions."""
    rng = random.Random(f"sample:{sample.customer_oid}")
    # A fixed registration time keeps two fresh installs identical to the byte.
    registered = datetime.combine(min(a.opened_on for a in sample.accounts), time(9), UTC)
    add_customer(session, sample.customer_oid, sample.name, registered)

    accounts: dict[str, BankAccount] = {}
    for index, spec in enumerate(sample.accounts, start=1):
        number = account_number(customer_index, index)
        account = BankAccount(
            customer_oid=sample.customer_oid,
            institution_id=institutions[spec.institution],
            account_number=number,
            iban=bank_iban(spec.iban_country, number, SAMPLE_BANK_CODES),
            account_type=spec.account_type.value,
            currency=spec.currency,
            balance=Decimal(spec.opening_balance),
            opened_on=spec.opened_on,
        )
        session.add(account)
        accounts[spec.key] = account
    session.flush()

    transactions: list[Transaction] = []

    def book(account_key: str, amount: Decimal, **fields: Any) -> None:
        account = accounts[account_key]
        transactions.append(
            Transaction(
                customer_oid=sample.customer_oid,
                account_id=account.id,
                currency=account.currency,
                amount=amount,
                **fields,
            )
        )
        account.balance += amount

    for first in month_starts(AS_OF, INCOME_MONTHS):
        book(
            sample.income_account,
            transaction_date=first,
            transaction_type=TransactionType.deposit.value,
            description=sample.income_description,
            category="income",
            amount=Decimal(sample.monthly_income),
        )

    for first in month_starts(AS_OF, SPENDING_MONTHS):
        for category, typical in sample.monthly_spending.items():
            month_total = Decimal(typical) * Decimal(rng.randint(80, 120)) / 100
            payments = rng.randint(1, 3)
            for n in range(payments):
                share = to_cents(month_total / payments)
                book(
                    sample.spending_account,
                    transaction_date=first + timedelta(days=rng.randint(0, 27)),
                    transaction_type=TransactionType.card_payment.value,
                    description=MERCHANTS[category][n % len(MERCHANTS[category])],
                    category=category,
                    amount=-share,
                )

    holdings: dict[str, Decimal] = defaultdict(Decimal)
    held_in: dict[str, str] = {}
    for trade in sample.trades:
        traded_on, price = market.close_on_or_before(trade.symbol, trade.on)
        quantity = Decimal(trade.quantity)
        gross = to_cents(quantity * price)
        buying = trade.side == TransactionType.buy
        book(
            trade.account,
            transaction_date=traded_on,
            transaction_type=trade.side.value,
            description=f"{'Buy' if buying else 'Sell'} {trade.quantity} {trade.symbol} @ {price}",
            category="investment",
            amount=-gross if buying else gross,
            symbol=trade.symbol,
            quantity=quantity,
            price=price,
        )
        holdings[trade.symbol] += quantity if buying else -quantity
        held_in[trade.symbol] = trade.account

    for symbol, quantity in holdings.items():
        if quantity:
            session.add(
                Asset(
                    customer_oid=sample.customer_oid,
                    account_id=accounts[held_in[symbol]].id,
                    symbol=symbol,
                    quantity=quantity,
                )
            )

    for deriv in sample.derivatives:
        trade_price = None
        if deriv.instrument_type == "future":
            trade_price = market.close_on_or_before(deriv.underlying, deriv.trade_date)[1]
        session.add(
            DerivativeTransaction(
                customer_oid=sample.customer_oid,
                account_id=accounts[deriv.account].id,
                instrument_type=deriv.instrument_type,
                underlying_symbol=deriv.underlying,
                option_type=deriv.option_type,
                side=deriv.side,
                strategy=deriv.strategy,
                contracts=deriv.contracts,
                multiplier=deriv.multiplier,
                strike=Decimal(deriv.strike) if deriv.strike else None,
                premium=Decimal(deriv.premium) if deriv.premium else None,
                trade_price=trade_price,
                currency="USD",
                trade_date=deriv.trade_date,
                expiry_date=deriv.expiry_date,
                status=deriv.status.value,
                closed_on=deriv.closed_on,
            )
        )

    transactions.sort(key=lambda t: (t.transaction_date, t.transaction_type, t.description))
    session.add_all(transactions)
    for spending in summarize_spending(sample.customer_oid, transactions):
        session.add(spending)
    for account in accounts.values():
        if account.balance < 0:
            raise ValueError(f"sample account {account.account_number} would be overdrawn")


def summarize_spending(customer_oid: str, transactions: list[Transaction]) -> Iterator[Spending]:
    """Monthly spending per category: the sum of that month's card payments."""
    bookings = (
        (t.transaction_date.strftime("%Y-%m"), t.transaction_type, t.category, t.currency, t.amount)
        for t in transactions
    )
    for month, category, currency, amount, count in monthly_spending(bookings):
        yield Spending(
            customer_oid=customer_oid,
            month=month,
            category=category,
            amount=amount,
            currency=currency,
            transaction_count=count,
        )


def seed_sample_data(engine: Engine) -> list[str]:
    """Load market data and every missing sample customer; return the names added."""
    added = []
    with Session(engine) as session, session.begin():
        market = load_market_data(session)
        institutions = load_institutions(session)
        taken = set(session.exec(select(Customer.customer_oid)))
        for index, sample in enumerate(SAMPLE_CUSTOMERS, start=1):
            if sample.customer_oid not in taken:
                add_sample_customer(session, sample, index, market, institutions)
                added.append(sample.name)
    return added


def prepare_database(engine: Engine, *, load_samples: bool = True) -> list[str]:
    """Create the schema and, on a new database, the sample data; return the names added.

    Several workers may start on one new database at once: whichever loses the
    race to create a table or a sample customer finds the work done, and goes on.
    """
    for attempt in range(5):
        try:
            if create_schema(engine) and load_samples:
                return seed_sample_data(engine)
            return []
        except (OperationalError, IntegrityError):
            if attempt == 4:
                raise
            clock.sleep(0.2 * (attempt + 1))
    return []


def main() -> None:
    from settings import get_settings

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=get_settings().database_url)
    parser.add_argument(
        "--customers",
        type=int,
        default=0,
        help="top the bank up to this many synthetic customers (beside the five samples)",
    )
    parser.add_argument("--seed", type=int, default=1, help="seed of the synthetic customers")
    parser.add_argument("--batch-size", type=int, default=1000, help="customers per transaction")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args()
    if args.customers < 0 or args.batch_size < 1:
        parser.error("--customers must be 0 or more and --batch-size at least 1")

    engine = create_db_engine(args.database_url)
    create_schema(engine)
    # Unlike a server's start, which seeds only a new database, this adds back any sample
    # customer that is missing (deleted through the API, say).
    added = seed_sample_data(engine)
    if added:
        print(f"Added {len(added)} sample customers: {', '.join(added)}")
    elif not args.customers:
        print("Every sample customer is already there; nothing changed.")
    if args.customers:
        # Serving the API imports this module too; it needs none of the bulk loader's imports.
        from bulk_load import load_synthetic, peak_memory_mib

        report = load_synthetic(
            engine, args.customers, args.seed, batch_size=args.batch_size, progress=not args.quiet
        )
        size = f"{report.database_bytes / 2**20:,.1f} MiB" if report.database_bytes else "n/a"
        print(
            f"Synthetic customers added: {report.customers:,} (seed {args.seed})\n"
            f"Rows written: {report.rows:,} in {report.seconds:,.1f} s "
            f"= {report.rows_per_second:,.0f} rows/s\n"
            "Peak memory: {:,.0f} MiB writer + {:,.0f} MiB generator; database size: {}".format(
                *peak_memory_mib(), size
            )
        )
    engine.dispose()


if __name__ == "__main__":
    main()
