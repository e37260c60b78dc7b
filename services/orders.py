"""Orders: buy or sell an instrument at the day's close, or close an open option position.

A fill is the close plus (buying) or minus (selling) half the instrument's spread, with the
broker's commission (``market.trading``); the cash moves in the brokerage account in the
instrument's currency (the crypto account for crypto), the holding with it, and the bank
books the commission and the distance between the fill and the close as its income. The
statement rows are those of the generated history (BUY/SELL with quantity and price, then
the commission), so the cost basis follows from them as it does for every other trade.
"""

from datetime import timedelta
from decimal import ROUND_FLOOR, Decimal

from sqlmodel import Session, col, select

from analysis.pricing import black_scholes
from analysis.valuation import DEFAULT_VOLATILITY
from core.errors import Refused
from core.money import to_cents
from market.calendars import on_or_after
from market.model import SPECS
from market.trading import OPTION_COMMISSION, commission, fill_price, option_fill
from models import (
    AccountStatus,
    AccountType,
    Asset,
    BankAccount,
    DerivativeStatus,
    DerivativeTransaction,
    InstructionKind,
    InstructionStatus,
    TransactionType,
)
from schemas.instructions import Fill, HoldingAfter, InstructionOut, OrderIn, PositionClosed
from services.idempotency import Retry
from services.instructions import (
    Booking,
    broker_country,
    own_account,
    require_funds,
    run_instruction,
)
from services.market import InstrumentInfo, MarketSnapshot, market_snapshot

QUANTITY_PLACES = {"bond": 0, "crypto": 8}
"""Decimal places a quantity may have, by asset type; four for the others (fractional shares)."""
UNIT_PLACES = Decimal("0.0001")
"""Option values to four places, as the portfolio's derivative section shows them."""


def place_order(
    session: Session, raw_oid: str, order: OrderIn, retry: Retry | None = None
) -> InstructionOut:
    """Fill a market order at the day's close, or close an open option position."""
    plan = plan_close if order.side == "close" else plan_trade
    return run_instruction(
        session, raw_oid, retry, lambda oid: (plan(session, oid, order), InstructionStatus.executed)
    )


def tradable(market: MarketSnapshot, symbol: str, field_name: str = "symbol") -> InstrumentInfo:
    """The instrument, if it has a close on the bank's day; ``Refused`` otherwise."""
    info = market.instruments.get(symbol.strip().upper())
    if info is None or info.symbol not in market.prices:
        raise Refused(
            "unknown_instrument", f"{field_name}: the bank lists no instrument '{symbol[:16]}'"
        )
    last = market.prices[info.symbol].dates[-1]
    if last != market.as_of:
        raise Refused(
            "market_closed",
            f"{field_name}: {info.symbol} does not trade on {market.as_of} (its market is closed; "
            f"its last close is of {last})",
        )
    return info


def settlement_account(
    session: Session, oid: str, info: InstrumentInfo, order: OrderIn, held: Asset | None
) -> BankAccount:
    kind = AccountType.crypto if info.asset_type == "crypto" else AccountType.brokerage
    if order.account_id is not None:
        # Someone else's account is refused as unknown before anything is said about it.
        own_account(session, oid, order.account_id, "account_id")
    if held is not None and held.account_id is not None:
        if order.account_id is not None and order.account_id != held.account_id:
            raise Refused(
                "wrong_account",
                f"account_id: {info.symbol} is held in account {held.account_id}; "
                "orders for it settle there",
            )
        return own_account(session, oid, held.account_id, "account_id", (kind,))
    if order.account_id is not None:
        account = own_account(session, oid, order.account_id, "account_id", (kind,))
        if account.currency != info.currency:
            raise Refused(
                "wrong_currency",
                f"account_id: account {account.id} is in {account.currency}; "
                f"{info.symbol} trades in {info.currency}",
            )
        return account
    found = settlement_default(session, oid, kind, info.currency)
    if found is None:
        raise Refused(
            "no_brokerage_account",
            f"symbol: this customer has no open {kind} account in {info.currency} "
            f"to trade {info.symbol} in",
        )
    return found


def settlement_default(session: Session, oid: str, kind: str, currency: str) -> BankAccount | None:
    """The customer's first open account of ``kind`` in ``currency``: where an order settles
    unless the holding or the order names another."""
    return session.exec(
        select(BankAccount)
        .where(
            BankAccount.customer_oid == oid,
            BankAccount.account_type == kind,
            BankAccount.currency == currency,
            BankAccount.status == AccountStatus.open,
        )
        .order_by(col(BankAccount.id))
    ).first()


def plan_trade(session: Session, oid: str, order: OrderIn) -> Booking:
    market = market_snapshot(session)
    info = tradable(market, order.symbol or "")
    day = market.as_of
    buy = order.side == "buy"
    held = session.exec(
        select(Asset).where(Asset.customer_oid == oid, Asset.symbol == info.symbol)
    ).first()
    if not buy and held is None:
        raise Refused(
            "insufficient_holdings", f"quantity: this customer holds no {info.symbol} to sell"
        )
    account = settlement_account(session, oid, info, order, held)
    close = market.prices[info.symbol].values[-1]
    price = fill_price(close, info.asset_type, buy=buy)
    places = QUANTITY_PLACES.get(info.asset_type, 4)
    step = Decimal(1).scaleb(-places)
    if order.quantity is not None:
        quantity = order.quantity
        if quantity != quantity.quantize(step, rounding=ROUND_FLOOR):
            raise Refused(
                "quantity_precision",
                f"quantity: {info.symbol} ({info.asset_type}) trades in steps of {step}",
            )
    else:
        assert order.amount is not None
        quantity = (order.amount / price).quantize(step, rounding=ROUND_FLOOR)
        if quantity <= 0:
            raise Refused(
                "amount_too_small",
                f"amount: {order.amount} {info.currency} buys no {step} of {info.symbol} "
                f"at {price}",
            )
    before = held.quantity if held is not None else Decimal(0)
    if not buy and quantity > before:
        raise Refused(
            "insufficient_holdings",
            f"quantity: this customer holds {before.normalize():f} {info.symbol}; "
            f"cannot sell {quantity.normalize():f}",
        )
    given = "quantity" if order.quantity is not None else "amount"
    shown = f"{quantity.normalize():f}"
    gross = to_cents(quantity * price)
    if gross <= 0:
        raise Refused(
            "amount_too_small",
            f"{given}: {shown} {info.symbol} at {price.normalize():f} is worth less than a cent",
        )
    fee = commission(info.asset_type, broker_country(session, account), quantity, gross)
    at_close = to_cents(quantity * close)
    # A sale's commission may be more than it brings in (crypto's is 0.99 at least).
    require_funds(account, gross + fee if buy else fee - gross, given)
    booking = Booking(
        oid,
        InstructionKind.order,
        day,
        details={
            "side": order.side,
            "symbol": info.symbol,
            "quantity": shown,
            "amount": None if order.amount is None else f"{order.amount:f}",
            "account_id": account.id,
        },
    )
    verb = "BUY" if buy else "SELL"
    # Shares settle on the next trading day of their market (T+1); crypto at once.
    spec = SPECS.get(info.symbol)
    settles = day
    if info.asset_type != "crypto" and spec is not None:
        settles = on_or_after(spec.calendar, day + timedelta(1))
    booking.post(
        account,
        -gross if buy else gross,
        transaction_type=TransactionType.buy if buy else TransactionType.sell,
        description=f"{verb} {shown} {info.symbol} @ {price:.2f}",
        category="investment",
        symbol=info.symbol,
        quantity=quantity,
        price=price,
        channel="internal",
        value_date=settles,
    )
    booking.post(
        account,
        -fee,
        transaction_type=TransactionType.fee,
        description=f"COMMISSION {verb} {shown} {info.symbol}",
        category="fees",
        channel="internal",
    )
    booking.earn("fee", fee, info.currency)
    booking.earn("dealing_spread", gross - at_close if buy else at_close - gross, info.currency)
    after = before + quantity if buy else before - quantity
    if held is None:
        held = Asset(customer_oid=oid, account_id=account.id, symbol=info.symbol, quantity=after)
        session.add(held)
    elif after == 0:
        session.delete(held)
    else:
        held.quantity = after
        session.add(held)
    booking.effects.holdings = [
        HoldingAfter(
            symbol=info.symbol,
            account_id=account.id or 0,
            quantity_before=before,
            quantity_after=after,
        )
    ]
    booking.effects.fill = Fill(
        symbol=info.symbol,
        side=order.side,
        quantity=quantity,
        close=close,
        price=price,
        gross=gross,
        commission=fee,
        currency=info.currency,
    )
    return booking


def plan_close(session: Session, oid: str, order: OrderIn) -> Booking:
    market = market_snapshot(session)
    day = market.as_of
    position = session.get(DerivativeTransaction, order.derivative_id)
    if position is None or position.customer_oid != oid:
        raise Refused(
            "unknown_position",
            f"derivative_id: {order.derivative_id} is not one of this customer's positions",
        )
    if position.status != DerivativeStatus.open:
        raise Refused(
            "position_not_open",
            f"derivative_id: position {position.id} is {position.status}, not open",
        )
    if (
        position.instrument_type != "option"
        or position.option_type is None
        or position.strike is None
    ):
        raise Refused(
            "not_an_option",
            f"derivative_id: position {position.id} is a {position.instrument_type}; only "
            "options are closed by an order (futures settle at expiry)",
        )
    if position.expiry_date < day:
        raise Refused(
            "position_expired",
            f"derivative_id: position {position.id} expired on {position.expiry_date}",
        )
    tradable(market, position.underlying_symbol, "derivative_id")
    spot = market.prices[position.underlying_symbol].values[-1]
    spec = SPECS.get(position.underlying_symbol)
    volatility = spec.annual_volatility if spec is not None else DEFAULT_VOLATILITY
    years = max((position.expiry_date - day).days, 0) / 365
    value, _ = black_scholes(
        position.option_type, float(spot), float(position.strike), years, volatility
    )
    model_value = Decimal(repr(value)).quantize(UNIT_PLACES)
    long = position.side == "long"
    price = option_fill(model_value, buy=not long)
    units = position.contracts * position.multiplier
    at_model = to_cents(units * model_value)
    traded = to_cents(units * price)
    fee = OPTION_COMMISSION * position.contracts
    account = _position_account(session, oid, position)
    require_funds(account, fee - traded if long else traded + fee, "derivative_id")
    booking = Booking(
        oid,
        InstructionKind.order,
        day,
        details={"side": "close", "derivative_id": position.id, "account_id": account.id},
    )
    label = (
        f"{position.underlying_symbol} {position.expiry_date:%d%b%y}".upper()
        + f" {position.strike.normalize():f} {position.option_type[0].upper()}"
    )
    verb = "STC" if long else "BTC"
    booking.post(
        account,
        traded if long else -traded,
        transaction_type=TransactionType.option_premium,
        description=f"{verb} {position.contracts} {label} @ {price:.2f}",
        category="derivatives",
        symbol=position.underlying_symbol,
        channel="internal",
    )
    booking.post(
        account,
        -fee,
        transaction_type=TransactionType.fee,
        description=f"OPTIONS COMMISSION {position.contracts} CONTRACTS",
        category="fees",
        channel="internal",
    )
    booking.earn("fee", fee, account.currency)
    booking.earn(
        "dealing_spread", at_model - traded if long else traded - at_model, account.currency
    )
    position.status = DerivativeStatus.closed
    position.closed_on = day
    session.add(position)
    booking.effects.position = PositionClosed(
        derivative_id=position.id or 0,
        units=units,
        model_value=model_value,
        price=price,
        commission=fee,
        currency=account.currency,
    )
    return booking


def _position_account(session: Session, oid: str, position: DerivativeTransaction) -> BankAccount:
    if position.account_id is not None:
        return own_account(
            session, oid, position.account_id, "derivative_id", (AccountType.brokerage,)
        )
    found = settlement_default(session, oid, AccountType.brokerage, position.currency)
    if found is None:
        raise Refused(
            "no_brokerage_account",
            f"derivative_id: no open brokerage account in {position.currency} to settle in",
        )
    return found
