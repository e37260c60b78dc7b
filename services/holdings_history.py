"""The value of a customer's current holdings day by day over the last year."""

from datetime import date
from decimal import Decimal

from sqlmodel import Session

from analysis.valuation import weekdays
from core.money import to_cents
from market.calendars import months_before
from schemas.portfolio import HoldingsValueHistory, ValuePoint
from services.portfolio import open_view
from services.records import list_assets


def read_holdings_value_history(
    session: Session, raw_oid: str, currency: str | None = None
) -> HoldingsValueHistory:
    """Today's quantities at each weekday's close, converted at that day's rate.

    Each holding is rounded to the cent before adding, as the summary's performance
    periods are, so the line meets their start and end values on the same days.
    """
    view = open_view(session, raw_oid, currency)
    assets = list_assets(session, view.oid, view.market)
    start = months_before(view.as_of, 12)
    prices = view.market.prices
    fx = view.market.converter(view.base)

    def value_on(day: date) -> Decimal:
        total = Decimal(0)
        for asset in assets:
            close = prices[asset.symbol].on_or_before(day)
            if close is not None:
                total += to_cents(asset.quantity * close * fx.rate(asset.currency, day))
        return total

    return HoldingsValueHistory(
        customer_oid=view.oid,
        base_currency=view.base,
        as_of=view.as_of,
        points=[ValuePoint(date=day, value=value_on(day)) for day in weekdays(start, view.as_of)],
    )
