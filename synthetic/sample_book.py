"""How a sample customer becomes rows: its accounts, then its transactions, step by step.

Balances, holdings and monthly spending all follow from the transactions; only
the card spending draws from a random stream (one per sample, seeded by its
CustomerOID), so two fresh installs agree to the cent.
"""

import json
import random
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlmodel import Session

from analysis.pricing import premium_cents
from core.money import PRICE_SCALE, to_cents
from market.calendars import month_end, on_or_after, on_or_before
from market.institutions import bank_iban
from market.merchants import Merchant, local_merchants
from market.model import (
    AS_OF,
    SPECS,
    MarketData,
    month_starts,
    monthly_spending,
    payouts,
)
from market.trading import commission, execution_price
from models import (
    Asset,
    BankAccount,
    CustomerProfile,
    DerivativeStatus,
    DerivativeTransaction,
    Spending,
    Transaction,
    TransactionType,
)
from services.customers import add_customer
from synthetic.samples import (
    BILLED_MONTHLY,
    INCOME_MONTHS,
    SAMPLE_BANK_CODES,
    SAMPLE_HOUSING,
    SAVINGS,
    SAVINGS_RATE,
    SPENDING_MONTHS,
    DerivativeSpec,
    SampleCustomer,
    TradeSpec,
)

_SHOPS = local_merchants()


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
    session.add(sample_profile(sample))
    book = SampleBook(session, sample, open_accounts(session, sample, customer_index, institutions))
    book.pay_income()
    for first in month_starts(AS_OF, INCOME_MONTHS):
        book.pay_housing(first)
        book.save(first)
    book.spend(rng)
    for trade in sample.trades:
        book.trade(trade, market)
    for deriv in sample.derivatives:
        book.add_derivative(deriv, market)
    book.pay_out()
    book.write()


def sample_profile(sample: SampleCustomer) -> CustomerProfile:
    """The profile the sample declared, as its row."""
    declared = sample.profile
    return CustomerProfile(
        customer_oid=sample.customer_oid,
        kind=declared.kind,
        date_of_birth=declared.date_of_birth,
        founded_on=declared.founded_on,
        email=declared.email,
        phone=declared.phone,
        risk_tolerance=declared.risk_tolerance,
        investment_experience=declared.investment_experience,
        investment_goals=json.dumps(list(declared.investment_goals)),
        time_horizon=declared.time_horizon,
        communication_method=declared.communication_method,
        portfolio_style=declared.portfolio_style,
        esg_investing=declared.esg_investing,
    )


def open_accounts(
    session: Session, sample: SampleCustomer, customer_index: int, institutions: dict[str, int]
) -> dict[str, BankAccount]:
    """The sample's accounts at their opening balances, by key, with their ids."""
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
    return accounts


class SampleBook:
    """One sample customer's transactions as they are booked, and the holdings they leave.

    Each step books in a fixed order; ``write`` adds the rows to the session at the end.
    """

    def __init__(
        self, session: Session, sample: SampleCustomer, accounts: dict[str, BankAccount]
    ) -> None:
        self.session, self.sample, self.accounts = session, sample, accounts
        self.transactions: list[Transaction] = []
        self.institution_names = {spec.key: spec.institution for spec in sample.accounts}
        self.saved = {
            key: Decimal(spec.opening_balance)
            for key, spec in ((a.key, a) for a in sample.accounts)
            if spec.account_type == SAVINGS
        }
        """What each savings account holds, as its monthly interest is worked out."""
        self.holdings: dict[str, Decimal] = defaultdict(Decimal)
        self.held_in: dict[str, str] = {}
        self.bought: dict[str, list[tuple[date, Decimal]]] = defaultdict(list)

    def book(self, account_key: str, amount: Decimal, **fields: Any) -> None:
        account = self.accounts[account_key]
        self.transactions.append(
            Transaction(
                customer_oid=self.sample.customer_oid,
                account_id=account.id,
                currency=account.currency,
                amount=amount,
                **fields,
            )
        )
        account.balance += amount

    def pay_income(self) -> None:
        """Paid twice a month, on the 15th and the last day, or the business day before."""
        sample = self.sample
        payer = sample.income_description.split(" - ", 1)[-1]
        half_pay = to_cents(Decimal(sample.monthly_income) / 2)
        for first in month_starts(AS_OF, INCOME_MONTHS):
            for due in (first + timedelta(14), month_end(first)):
                paid = on_or_before("US", due)
                self.book(
                    sample.income_account,
                    half_pay,
                    transaction_date=paid,
                    transaction_type=TransactionType.deposit.value,
                    description=f"{sample.income_description.upper()} PPD",
                    category="income",
                    merchant=payer,
                    channel="ach",
                    booking_date=paid,
                    value_date=paid,
                )

    def pay_housing(self, first: date) -> None:
        """Rent or a mortgage on the first business day of the month, by ACH."""
        day = on_or_after("US", first)
        housing = SAMPLE_HOUSING.get(self.sample.customer_oid)
        if housing is not None:
            category, payee, monthly = housing
            self.book(
                self.sample.spending_account,
                -Decimal(monthly),
                transaction_date=day,
                transaction_type=TransactionType.withdrawal.value,
                description=f"{payee.upper()} {category.upper()} PMT",
                category=category,
                merchant=payee,
                channel="ach",
                booking_date=day,
                value_date=day,
            )

    def save(self, first: date) -> None:
        """Savings earn interest at the month's end, on what the account holds then (a
        transfer after payday adds to it)."""
        saved = self.saved
        for key in saved:
            if key == "savings":
                moved = Decimal("500.00")
                for account_key, sign, text in (
                    (self.sample.income_account, -1, "TRANSFER TO SAVINGS"),
                    (key, 1, "TRANSFER FROM CHECKING"),
                ):
                    self.book(
                        account_key,
                        sign * moved,
                        transaction_date=on_or_after("US", first + timedelta(15)),
                        transaction_type=TransactionType.transfer.value,
                        description=text,
                        category="transfer",
                        channel="transfer",
                        booking_date=on_or_after("US", first + timedelta(15)),
                        value_date=on_or_after("US", first + timedelta(15)),
                    )
                saved[key] += moved
            interest = to_cents(saved[key] * SAVINGS_RATE / 12)
            end = month_end(first)
            self.book(
                key,
                interest,
                transaction_date=end,
                transaction_type=TransactionType.interest.value,
                description=f"INTEREST PAID {SAVINGS_RATE * 100:.2f}% APY",
                category="interest",
                channel="internal",
                booking_date=end,
                value_date=end,
            )
            saved[key] += interest

    def spend(self, rng: random.Random) -> None:
        """Card payments: each month's typical spending per category, varied, at a few shops."""
        sample = self.sample
        for first in month_starts(AS_OF, SPENDING_MONTHS):
            last = min(month_end(first), AS_OF)
            for category, typical in sample.monthly_spending.items():
                shops = sample_merchants(category)
                month_total = to_cents(Decimal(typical) * Decimal(rng.randint(80, 120)) / 100)
                payments = rng.randint(3, 9) if len(shops) > 2 else rng.randint(1, 2)
                if category in BILLED_MONTHLY:
                    # One insurer, one bill a month.
                    shops, payments = shops[:1], 1
                weights = [rng.uniform(0.3, 1.7) for _ in range(payments)]
                left = month_total
                for n, weight in enumerate(weights):
                    share = (
                        left
                        if n == payments - 1
                        else to_cents(month_total * Decimal(weight / sum(weights)))
                    )
                    left -= share
                    merchant = shops[min(int(rng.random() ** 2 * len(shops)), len(shops) - 1)]
                    day = first + timedelta(rng.randrange((last - first).days + 1))
                    self.book(
                        sample.spending_account,
                        -share,
                        transaction_date=day,
                        transaction_type=TransactionType.card_payment.value,
                        description=merchant.description,
                        category=category,
                        merchant=merchant.name,
                        merchant_category_code=merchant.mcc,
                        channel=merchant.channel,
                        booking_date=min(on_or_after("US", day + timedelta(1)), AS_OF),
                        value_date=day,
                    )

    def trade(self, trade: TradeSpec, market: MarketData) -> None:
        """A buy or a sell at that day's close plus half the spread, and its commission."""
        traded_on, close = market.close_on_or_before(trade.symbol, trade.on)
        asset_type = SPECS[trade.symbol].asset_type.value
        buying = trade.side == TransactionType.buy
        price = Decimal(
            execution_price(int(close.scaleb(PRICE_SCALE)), asset_type, buy=buying)
        ).scaleb(-PRICE_SCALE)
        quantity = Decimal(trade.quantity)
        gross = to_cents(quantity * price)
        broker = self.institution_names[trade.account]
        verb = "BUY" if buying else "SELL"
        self.book(
            trade.account,
            -gross if buying else gross,
            transaction_date=traded_on,
            transaction_type=trade.side.value,
            description=f"{verb} {trade.quantity} {trade.symbol} @ {price:.2f}",
            category="investment",
            symbol=trade.symbol,
            quantity=quantity,
            price=price,
            merchant=broker,
            channel="internal",
            booking_date=traded_on,
            value_date=min(on_or_after("US", traded_on + timedelta(1)), AS_OF),
        )
        self.book(
            trade.account,
            -sample_commission(asset_type, quantity, gross),
            transaction_date=traded_on,
            transaction_type=TransactionType.fee.value,
            description=f"COMMISSION {verb} {trade.quantity} {trade.symbol}",
            category="fees",
            merchant=broker,
            channel="internal",
            booking_date=traded_on,
            value_date=traded_on,
        )
        self.holdings[trade.symbol] += quantity if buying else -quantity
        self.held_in[trade.symbol] = trade.account
        self.bought[trade.symbol].append((traded_on, quantity if buying else -quantity))

    def held_before(self, symbol: str, day: date) -> Decimal:
        return sum((q for traded, q in self.bought[symbol] if traded < day), Decimal(0))

    def add_derivative(self, deriv: DerivativeSpec, market: MarketData) -> None:
        """A future at that day's price, or an option and what became of it; then its row."""
        account = self.accounts[deriv.account]
        trade_price, premium, status = None, None, deriv.status
        if deriv.instrument_type == "future":
            trade_price = market.close_on_or_before(deriv.underlying, deriv.trade_date)[1]
        else:
            premium, status = self.option(deriv, market)
        self.session.add(
            DerivativeTransaction(
                customer_oid=self.sample.customer_oid,
                account_id=account.id,
                instrument_type=deriv.instrument_type,
                underlying_symbol=deriv.underlying,
                option_type=deriv.option_type,
                side=deriv.side,
                strategy=deriv.strategy,
                contracts=deriv.contracts,
                multiplier=deriv.multiplier,
                strike=Decimal(deriv.strike) if deriv.strike else None,
                premium=premium,
                trade_price=trade_price,
                currency="USD",
                trade_date=deriv.trade_date,
                expiry_date=deriv.expiry_date,
                status=status.value,
                closed_on=deriv.closed_on
                or (deriv.expiry_date if deriv.expiry_date <= AS_OF else None),
            )
        )

    def option(self, deriv: DerivativeSpec, market: MarketData) -> tuple[Decimal, DerivativeStatus]:
        """Book an option's premium and commission, and its close, exercise or expiry.

        Returns the premium per unit and the option's status.
        """
        assert deriv.strike and deriv.option_type
        status = deriv.status
        broker = self.institution_names[deriv.account]
        units = deriv.contracts * deriv.multiplier
        strike = Decimal(deriv.strike)
        spot = market.close_on_or_before(deriv.underlying, deriv.trade_date)[1]
        years = (deriv.expiry_date - deriv.trade_date).days / 365
        volatility = SPECS[deriv.underlying].annual_volatility
        cents = premium_cents(deriv.option_type, float(spot), float(strike), years, volatility)
        premium = Decimal(cents).scaleb(-2)
        sign = 1 if deriv.side == "short" else -1
        label = f"{deriv.underlying} {deriv.expiry_date:%d%b%y}".upper()
        label += f" {strike:.0f} {deriv.option_type[0].upper()}"
        opening = "STO" if deriv.side == "short" else "BTO"
        for amount, text, kind, day in (
            (sign * premium * units, f"{opening} {deriv.contracts} {label} @ {premium}",
             TransactionType.option_premium, deriv.trade_date),
            (-Decimal("0.65") * deriv.contracts, f"OPTIONS COMMISSION {deriv.contracts}",
             TransactionType.fee, deriv.trade_date),
        ):  # fmt: skip
            self.book(
                deriv.account,
                amount,
                transaction_date=day,
                transaction_type=kind.value,
                description=text,
                category="derivatives" if kind == TransactionType.option_premium else "fees",
                merchant=broker,
                channel="internal",
                booking_date=day,
                value_date=day,
                symbol=deriv.underlying if kind == TransactionType.option_premium else None,
            )
        if deriv.status == DerivativeStatus.closed and deriv.closed_on:
            # Closed early at that day's Black-Scholes value.
            closing = "BTC" if deriv.side == "short" else "STC"
            spot_then = market.close_on_or_before(deriv.underlying, deriv.closed_on)[1]
            remaining = (deriv.expiry_date - deriv.closed_on).days / 365
            value = Decimal(
                premium_cents(
                    deriv.option_type, float(spot_then), float(strike), remaining, volatility
                )
            ).scaleb(-2)
            self.book(
                deriv.account,
                -sign * value * units,
                transaction_date=deriv.closed_on,
                transaction_type=TransactionType.option_premium.value,
                description=f"{closing} {deriv.contracts} {label} @ {value}",
                category="derivatives",
                merchant=broker,
                channel="internal",
                booking_date=deriv.closed_on,
                value_date=deriv.closed_on,
                symbol=deriv.underlying,
            )
        elif deriv.expiry_date <= AS_OF:
            settle = market.close_on_or_before(deriv.underlying, deriv.expiry_date)[1]
            call = deriv.option_type == "call"
            if (settle > strike) if call else (settle < strike):
                status = DerivativeStatus.exercised
                self.exercise(deriv, strike, label)
            else:
                status = DerivativeStatus.expired
        return premium, status

    def exercise(self, deriv: DerivativeSpec, strike: Decimal, label: str) -> None:
        """Shares change hands at the strike: to a call's holder, or to a put's writer."""
        units = deriv.contracts * deriv.multiplier
        buys = (deriv.option_type == "call") == (deriv.side == "long")
        verb = "BUY" if buys else "SELL"
        self.book(
            deriv.account,
            -strike * units if buys else strike * units,
            transaction_date=deriv.expiry_date,
            transaction_type="buy" if buys else "sell",
            description=f"{verb} {units} {deriv.underlying} @ {strike:.2f} ({label})",
            category="investment",
            symbol=deriv.underlying,
            quantity=Decimal(units),
            price=strike,
            merchant=self.institution_names[deriv.account],
            channel="internal",
            booking_date=deriv.expiry_date,
            value_date=deriv.expiry_date,
        )
        self.holdings[deriv.underlying] += units if buys else -units
        self.held_in.setdefault(deriv.underlying, deriv.account)
        self.bought[deriv.underlying].append(
            (deriv.expiry_date, Decimal(units if buys else -units))
        )

    def pay_out(self) -> None:
        """Dividends and coupons on what was held on each ex-date."""
        for payout in payouts():
            if (
                payout.symbol not in self.holdings
                or payout.pay_date < month_starts(AS_OF, INCOME_MONTHS)[0]
            ):
                continue
            held = self.held_before(payout.symbol, payout.ex_date)
            if held <= 0:
                continue
            dividend = payout.kind == "dividend"
            self.book(
                self.held_in[payout.symbol],
                to_cents(held * payout.per_unit),
                transaction_date=payout.pay_date,
                transaction_type="dividend" if dividend else "interest",
                description=f"{'DIVIDEND' if dividend else 'COUPON'} {payout.symbol} "
                f"{payout.per_unit.normalize():f} x {held.normalize():f}",
                category="dividends" if dividend else "interest",
                symbol=payout.symbol,
                merchant=payout.symbol,
                channel="internal",
                booking_date=payout.pay_date,
                value_date=payout.pay_date,
            )

    def write(self) -> None:
        """Add the holdings, the transactions in date order and the monthly spending."""
        session, sample = self.session, self.sample
        for symbol, quantity in self.holdings.items():
            if quantity:
                session.add(
                    Asset(
                        customer_oid=sample.customer_oid,
                        account_id=self.accounts[self.held_in[symbol]].id,
                        symbol=symbol,
                        quantity=quantity,
                    )
                )
        transactions = self.transactions
        transactions.sort(key=lambda t: (t.transaction_date, t.transaction_type, t.description))
        session.add_all(transactions)
        for spending in summarize_spending(sample.customer_oid, transactions):
            session.add(spending)
        for account in self.accounts.values():
            if account.balance < 0:
                raise ValueError(f"sample account {account.account_number} would be overdrawn")


def sample_merchants(category: str) -> list[Merchant]:
    """The samples live in New York: its shops, and the online ones, of a category."""
    found = _SHOPS.get(("US", "NEW YORK", category), []) + _SHOPS.get(("US", None, category), [])
    if found:
        return found[:8]
    biller = f"New York {category.title()} Services"
    return [
        Merchant(biller, f"{biller.upper()} AUTOPAY", category, "4900", "online", 0, "US", None)
    ]


def sample_commission(asset_type: str, quantity: Decimal, gross: Decimal) -> Decimal:
    """The samples trade through US brokers' schedules (``market.trading``)."""
    return commission(asset_type, "US", quantity, gross)


def account_number(customer_index: int, account_index: int) -> str:
    return f"40{customer_index:06d}{account_index:04d}"


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
