"""The ledger's invariants, checked from the database and the market's own tables (never
from what the bank answered): what ``tests/test_ledger.py`` asserts after every step."""

import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_CEILING, ROUND_DOWN, Decimal

from sqlalchemy import Engine, text
from sqlmodel import Session, col, select

from core.money import CENT, to_cents
from models import Asset, BankAccount, BankIncome, DerivativeTransaction, Instruction, Transaction

FX_MARGIN = Decimal("0.005")
"""The bank's published margin on conversions: the customer's rate is the mid rate less 0.5%."""
OPTION_COMMISSION = Decimal("0.65")
"""The published commission per option contract."""
SIX_PLACES = Decimal("0.000001")


@dataclass
class Market:
    """The bank's day and its prices, read from the market's tables, not from the bank."""

    day: date
    closes: dict[str, Decimal]
    usd: dict[str, Decimal]

    def mid(self, source: str, target: str) -> Decimal:
        return (self.usd[source] / self.usd[target]).quantize(SIX_PLACES)


def read_market(engine: Engine) -> Market:
    with Session(engine) as session:
        day = session.execute(text("SELECT MAX(price_date) FROM instrument_prices")).scalar_one()
        day = day if isinstance(day, date) else date.fromisoformat(day)
        closes = {
            symbol: Decimal(close).scaleb(-6)
            for symbol, close in session.execute(
                text("SELECT symbol, close FROM instrument_prices WHERE price_date = :day"),
                {"day": day},
            )
        }
        usd = {"USD": Decimal(1)}
        for (currency,) in session.execute(text("SELECT DISTINCT currency FROM fx_rates")):
            rate = session.execute(
                text(
                    "SELECT usd_per_unit FROM fx_rates WHERE currency = :c AND rate_date <= :day "
                    "ORDER BY rate_date DESC LIMIT 1"
                ),
                {"c": currency, "day": day},
            ).scalar_one()
            usd[currency] = Decimal(rate).scaleb(-6)
    return Market(day, closes, usd)


@dataclass
class Ledger:
    """What the checks read: accounts, holdings, and every instruction with its rows."""

    accounts: dict[int, BankAccount]
    holdings: dict[tuple[str, str], Decimal]
    instructions: list[Instruction]
    rows: dict[int, list[Transaction]]
    income: dict[int, list[BankIncome]]
    positions: dict[int, DerivativeTransaction]


def read_ledger(engine: Engine) -> Ledger:
    with Session(engine) as session:
        accounts = {a.id or 0: a for a in session.exec(select(BankAccount))}
        holdings = {(a.customer_oid, a.symbol): a.quantity for a in session.exec(select(Asset))}
        instructions = list(session.exec(select(Instruction).order_by(col(Instruction.id))))
        rows: dict[int, list[Transaction]] = defaultdict(list)
        booked = select(Transaction).where(col(Transaction.instruction_id).is_not(None))
        for row in session.exec(booked.order_by(col(Transaction.id))):
            rows[row.instruction_id or 0].append(row)
        income: dict[int, list[BankIncome]] = defaultdict(list)
        for earned in session.exec(select(BankIncome)):
            income[earned.instruction_id].append(earned)
        positions = {d.id or 0: d for d in session.exec(select(DerivativeTransaction))}
    return Ledger(accounts, holdings, instructions, rows, income, positions)


def earned(income: list[BankIncome], kind: str) -> Decimal:
    return sum((i.amount for i in income if i.kind == kind), Decimal(0))


class Flows:
    """Money that left or reached the customers' accounts, by currency and by reason."""

    def __init__(self) -> None:
        self.by_reason: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))

    def add(self, reason: str, currency: str, amount: Decimal) -> None:
        self.by_reason[reason][currency] += amount


def check_transfer(
    instruction: Instruction,
    rows: list[Transaction],
    income: list[BankIncome],
    market: Market,
    flows: Flows,
) -> Decimal:
    """A transfer's two legs; what it counts against the daily limit, in USD."""
    details = json.loads(instruction.request)
    source, target = rows
    assert source.account_id == details["from_account_id"] and source.amount < 0
    assert target.account_id == details["to_account_id"] and target.amount > 0
    sent, received, amount = -source.amount, target.amount, Decimal(details["amount"])
    if source.currency == target.currency:
        assert sent == received == amount and not income
    else:
        mid = market.mid(source.currency, target.currency)
        rate = (mid * (1 - FX_MARGIN)).quantize(SIX_PLACES, ROUND_DOWN)
        if details["currency"] == source.currency:
            assert sent == amount and received == (sent * rate).quantize(CENT, ROUND_DOWN)
        else:
            assert received == amount and sent == (received / rate).quantize(CENT, ROUND_CEILING)
        # A spread of nothing (a conversion of a cent or two) books no income row.
        assert {(i.kind, i.currency) for i in income} <= {("fx_spread", target.currency)}
        spread = earned(income, "fx_spread")
        assert spread == to_cents(sent * mid) - received >= 0
        flows.add("converted at the mid rate", target.currency, to_cents(sent * mid))
        flows.add("converted at the mid rate", source.currency, -sent)
        flows.add("bank income", target.currency, -spread)
    counted = to_cents(sent * market.usd[source.currency])
    assert instruction.counted_usd == counted
    return counted


def check_payment(
    instruction: Instruction,
    rows: list[Transaction],
    income: list[BankIncome],
    market: Market,
    flows: Flows,
) -> Decimal:
    details = json.loads(instruction.request)
    amount = Decimal(details["amount"])
    assert not income
    if instruction.status == "executed":
        [row] = rows
        assert row.account_id == details["from_account_id"] and row.amount == -amount
        assert instruction.execute_on == market.day
        flows.add("payments sent", row.currency, -amount)
    else:
        assert not rows and instruction.execute_on > market.day
    counted = to_cents(amount * market.usd[details["currency"]])
    assert instruction.counted_usd == counted
    return counted


def check_trade(
    rows: list[Transaction],
    income: list[BankIncome],
    market: Market,
    flows: Flows,
) -> None:
    trade, fee_row = rows
    assert trade.transaction_type in ("buy", "sell") and fee_row.transaction_type == "fee"
    assert trade.quantity is not None and trade.price is not None and trade.symbol is not None
    quantity, price, close = trade.quantity, trade.price, market.closes[trade.symbol]
    buy = trade.transaction_type == "buy"
    gross = to_cents(quantity * price)
    assert trade.amount == (-gross if buy else gross) and gross > 0
    assert price >= close if buy else price <= close
    at_close = to_cents(quantity * close)
    fee, spread = earned(income, "fee"), earned(income, "dealing_spread")
    assert fee == -fee_row.amount > 0 and spread >= 0
    assert {i.kind for i in income} <= {"fee", "dealing_spread"}
    cash = trade.amount + fee_row.amount
    assert cash == (-(at_close + spread + fee) if buy else at_close - spread - fee)
    flows.add("traded at the close", trade.currency, -at_close if buy else at_close)
    flows.add("bank income", trade.currency, -(fee + spread))


def check_close(
    instruction: Instruction,
    rows: list[Transaction],
    income: list[BankIncome],
    market: Market,
    flows: Flows,
    ledger: Ledger,
) -> None:
    premium, fee_row = rows
    assert premium.transaction_type == "option_premium" and fee_row.transaction_type == "fee"
    position = json.loads(instruction.effects)["position"]
    closed = ledger.positions[position["derivative_id"]]
    assert closed.status == "closed" and closed.closed_on == market.day
    units = closed.contracts * closed.multiplier
    assert position["units"] == units
    at_model = to_cents(units * Decimal(str(position["model_value"])))
    fee, spread = earned(income, "fee"), earned(income, "dealing_spread")
    assert fee == -fee_row.amount == OPTION_COMMISSION * closed.contracts and spread >= 0
    cash = premium.amount + fee_row.amount
    long = premium.amount > 0
    assert cash == (at_model - spread - fee if long else -(at_model + spread + fee))
    flows.add("traded at the model value", premium.currency, at_model if long else -at_model)
    flows.add("bank income", premium.currency, -(fee + spread))


def check_ledger(
    opening: Ledger, now: Ledger, market: Market, daily_limit: dict[str, Decimal]
) -> None:
    """Every balance and holding is its opening one plus what instructions booked; every
    instruction's legs add up; money moved only as income, payments, trades, conversions."""
    booked: dict[int, Decimal] = defaultdict(Decimal)
    filled: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for rows in now.rows.values():
        for row in rows:
            booked[row.account_id or 0] += row.amount
            if row.transaction_type in ("buy", "sell") and row.quantity is not None:
                sign = 1 if row.transaction_type == "buy" else -1
                filled[(row.customer_oid, row.symbol or "")] += sign * row.quantity
    for account_id, account in now.accounts.items():
        assert account.balance == opening.accounts[account_id].balance + booked[account_id]
        assert account.balance >= -account.overdraft_limit, account
    for key in set(now.holdings) | set(opening.holdings) | set(filled):
        expected = opening.holdings.get(key, Decimal(0)) + filled[key]
        assert now.holdings.get(key, Decimal(0)) == expected, key
        assert key not in now.holdings or now.holdings[key] > 0, key

    flows = Flows()
    used: dict[tuple[str, date], Decimal] = defaultdict(Decimal)
    for instruction in now.instructions:
        number = instruction.id or 0
        rows, income = now.rows.get(number, []), now.income.get(number, [])
        counted = Decimal(0)
        if instruction.kind == "transfer":
            counted = check_transfer(instruction, rows, income, market, flows)
        elif instruction.kind == "payment":
            counted = check_payment(instruction, rows, income, market, flows)
        elif json.loads(instruction.request)["side"] == "close":
            check_close(instruction, rows, income, market, flows, now)
        else:
            check_trade(rows, income, market, flows)
        if instruction.status != "cancelled":
            used[(instruction.customer_oid, instruction.execute_on)] += counted
    for (oid, _), total in used.items():
        assert total <= daily_limit[oid]

    change: dict[str, Decimal] = defaultdict(Decimal)
    for account_id, account in now.accounts.items():
        change[account.currency] += account.balance - opening.accounts[account_id].balance
    explained: dict[str, Decimal] = defaultdict(Decimal)
    for by_currency in flows.by_reason.values():
        for currency, amount in by_currency.items():
            explained[currency] += amount
    for currency in set(change) | set(explained):
        assert change[currency] == explained[currency], (currency, dict(flows.by_reason))
