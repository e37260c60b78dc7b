"""Dividends and coupons after the history: each paid on its day to the holders of record.

Whoever held the instrument at the close before the ex-date is paid ``per_unit`` times the
quantity then held, rounded half to even to the cent (as the generator does,
``synthetic/investing.py``), into the account the holding is kept in when it is in the
instrument's currency. The quantity on the ex-date is today's holding less the trades booked
since. A customer who sold everything since the ex-date has no holding left to find, and is
not paid: a known simplification.
"""

from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal

from sqlalchemy import func
from sqlmodel import Session, col, select

from core.money import CENT
from market.continuation import payouts_on
from market.model import SPECS, Payout
from models import AccountStatus, Asset, BankAccount, Transaction, TransactionType
from services.day_ledger import DayLedger
from services.effects import PAYOUT_PAID, Effect

_T = Transaction.__table__.c  # type: ignore[attr-defined]


def pay_payouts(ledger: DayLedger) -> list[Effect]:
    """Every dividend and coupon whose pay day is the ledger's day, holder by holder."""
    effects: list[Effect] = []
    for payout in payouts_on(ledger.day):
        effects += _pay(ledger, payout)
    return effects


def _traded_since(session: Session, symbol: str, since: date) -> dict[str, Decimal]:
    """By customer: the signed quantity of ``symbol`` bought and sold from ``since`` on."""
    rows = session.connection().execute(
        select(_T.customer_oid, _T.transaction_type, func.sum(_T.quantity))
        .where(
            _T.symbol == symbol,
            _T.transaction_date >= since,
            _T.transaction_type.in_((TransactionType.buy, TransactionType.sell)),
        )
        .group_by(_T.customer_oid, _T.transaction_type)
    )
    moved: dict[str, Decimal] = {}
    for oid, kind, quantity in rows:
        change = Decimal(quantity or 0) * (1 if kind == TransactionType.buy else -1)
        moved[oid] = moved.get(oid, Decimal(0)) + change
    return moved


def _pay(ledger: DayLedger, payout: Payout) -> list[Effect]:
    session = ledger.session
    currency = SPECS[payout.symbol].currency
    moved = _traded_since(session, payout.symbol, payout.ex_date)
    holders = session.exec(
        select(Asset).where(Asset.symbol == payout.symbol).order_by(col(Asset.customer_oid))
    ).all()
    # One query for every holder's account, not one each.
    accounts = {h.account_id for h in holders if h.account_id is not None}
    session.exec(select(BankAccount).where(col(BankAccount.id).in_(sorted(accounts)))).all()
    interest = payout.kind == "interest"
    label = "COUPON" if interest else "DIVIDEND"
    effects = []
    for holding in holders:
        held = holding.quantity - moved.get(holding.customer_oid, Decimal(0))
        amount = (held * payout.per_unit).quantize(CENT, rounding=ROUND_HALF_EVEN)
        account = ledger.account(holding.account_id)
        if (
            amount <= 0
            or account is None
            or account.currency != currency
            or account.status != AccountStatus.open
        ):
            continue
        row = ledger.post(
            account,
            amount,
            transaction_type=TransactionType.interest if interest else TransactionType.dividend,
            description=f"{label} {payout.symbol} {payout.per_unit.normalize():f} x "
            f"{held.normalize():f}",
            category="interest" if interest else "dividends",
            merchant=payout.symbol,
            symbol=payout.symbol,
            channel="internal",
        )
        effects.append(
            Effect(
                PAYOUT_PAID,
                holding.customer_oid,
                {
                    "symbol": payout.symbol,
                    "kind": payout.kind,
                    "ex_date": payout.ex_date.isoformat(),
                    "per_unit": str(payout.per_unit),
                    "quantity": str(held),
                    "amount": str(row.amount),
                    "currency": currency,
                    "account_id": account.id,
                },
            )
        )
    return effects
