"""Options and futures at their expiry, after the history, as the generator settles them.

An option in the money at the underlying's close on its expiry day is exercised (a long
position) or assigned (a short one) and settles physically, at the strike, by the contract's
multiplier (``synthetic/investing.py`` assumes the same): a call delivers the shares to its
holder, a put to its writer, booked as a BUY or SELL at the strike without commission, the
holding moving with it. A delivery of shares the customer does not hold (a put bought
without the shares, a call written uncovered) settles in cash instead: the intrinsic value
times the units. Either way the position is ``exercised``. One out of the money expires
worthless (``expired``). A future settles in cash: the move from its entry price to the
close, times multiplier and contracts (``closed``). Nothing here is refused: an assignment
is not the customer's to decline, so the cash may go below zero.
"""

from datetime import date
from decimal import Decimal

from sqlmodel import Session, col, select

from core.money import to_cents
from models import DerivativeStatus, DerivativeTransaction, InstrumentPrice, TransactionType
from services.day_ledger import DayLedger
from services.effects import FUTURE_SETTLED, OPTION_EXPIRED, Effect

_P = InstrumentPrice.__table__.c  # type: ignore[attr-defined]


def close_on(session: Session, symbol: str, day: date) -> Decimal | None:
    """The underlying's close on ``day``, or the last before it."""
    found = session.connection().execute(
        select(_P.close)
        .where(_P.symbol == symbol, _P.price_date <= day)
        .order_by(_P.price_date.desc())
        .limit(1)
    )
    return found.scalar()


def settle_expiries(ledger: DayLedger) -> list[Effect]:
    """Every open option and future expiring on the ledger's day (or before: none is left
    open past its expiry), in the order they were opened."""
    positions = ledger.session.exec(
        select(DerivativeTransaction)
        .where(
            DerivativeTransaction.status == DerivativeStatus.open,
            DerivativeTransaction.expiry_date <= ledger.day,
        )
        .order_by(col(DerivativeTransaction.id))
    ).all()
    effects = []
    for position in positions:
        spot = close_on(ledger.session, position.underlying_symbol, position.expiry_date)
        if spot is None:
            continue
        if position.instrument_type == "future":
            effects.append(_settle_future(ledger, position, spot))
        elif position.option_type is not None and position.strike is not None:
            effects.append(_expire_option(ledger, position, spot, position.strike))
    return effects


def _label(position: DerivativeTransaction, strike: Decimal) -> str:
    assert position.option_type is not None
    return (
        f"{position.underlying_symbol} {position.expiry_date:%d%b%y}".upper()
        + f" {strike.normalize():f} {position.option_type[0].upper()}"
    )


def _expire_option(
    ledger: DayLedger, position: DerivativeTransaction, spot: Decimal, strike: Decimal
) -> Effect:
    session, oid = ledger.session, position.customer_oid
    call, long = position.option_type == "call", position.side == "long"
    in_money = spot > strike if call else spot < strike
    units = Decimal(position.contracts * position.multiplier)
    account = ledger.account(position.account_id)
    outcome, amount = "worthless", Decimal(0)
    if in_money and account is not None:
        label = _label(position, strike)
        # Calls deliver the shares to the holder, puts to the writer, at the strike.
        buys = call == long
        held = ledger.held(oid, position.underlying_symbol)
        if buys or held >= units:
            outcome = "exercised" if long else "assigned"
            what = outcome.upper()
            gross = to_cents(units * strike)
            amount = -gross if buys else gross
            ledger.post(
                account,
                amount,
                transaction_type=TransactionType.buy if buys else TransactionType.sell,
                description=f"{'BUY' if buys else 'SELL'} ({what} {label}) "
                f"{units.normalize():f} {position.underlying_symbol} @ {strike:.2f}",
                category="investment",
                symbol=position.underlying_symbol,
                quantity=units,
                price=strike,
                channel="internal",
            )
            ledger.hold(oid, account.id, position.underlying_symbol, units if buys else -units)
        else:
            outcome = "cash_settled"
            intrinsic = to_cents(units * abs(spot - strike))
            amount = intrinsic if long else -intrinsic
            ledger.post(
                account,
                amount,
                transaction_type=TransactionType.option_premium,
                description=f"{'EXERCISED' if long else 'ASSIGNED'} {position.contracts} "
                f"{label} CASH SETTLED @ {spot:.2f}",
                category="derivatives",
                symbol=position.underlying_symbol,
                channel="internal",
            )
    position.status = DerivativeStatus.exercised if in_money else DerivativeStatus.expired
    position.closed_on = ledger.day
    session.add(position)
    ledger.touched.add(oid)
    return Effect(
        OPTION_EXPIRED,
        oid,
        {
            "derivative_id": position.id,
            "outcome": outcome,
            "status": position.status,
            "underlying_close": str(spot),
            "strike": str(strike),
            "cash": str(amount),
        },
    )


def _settle_future(ledger: DayLedger, position: DerivativeTransaction, spot: Decimal) -> Effect:
    entry = position.trade_price or spot
    sign = 1 if position.side == "long" else -1
    result = to_cents(sign * (spot - entry) * position.multiplier * position.contracts)
    account = ledger.account(position.account_id)
    if account is not None:
        ledger.post(
            account,
            result,
            transaction_type=TransactionType.settlement,
            description=f"{position.underlying_symbol} FUTURE {position.expiry_date:%b%y} "
            f"SETTLEMENT {position.contracts} {position.side}".upper(),
            category="derivatives",
            channel="internal",
        )
    position.status = DerivativeStatus.closed
    position.closed_on = ledger.day
    ledger.session.add(position)
    ledger.touched.add(position.customer_oid)
    return Effect(
        FUTURE_SETTLED,
        position.customer_oid,
        {"derivative_id": position.id, "settle_price": str(spot), "cash": str(result)},
    )
