"""Market data routes: latest quotes and one instrument's daily closes."""

from typing import Annotated

from fastapi import APIRouter, Path, Query

from api_errors import error_responses
from cache import cacheable
from db import SessionDep
from schemas import IsoDate, MarketDataResponse, PriceHistory
from services import market

router = APIRouter(tags=["market data"])


@cacheable
@router.get(
    "/market-data",
    summary="Latest prices and changes",
    responses=error_responses(
        e400="No symbol, or too many.", e404="A symbol the bank does not know (named)."
    ),
)
def read_market_data(
    session: SessionDep,
    symbols: Annotated[
        str | None,
        Query(
            max_length=1000,
            description="Comma-separated symbols, e.g. AAPL,BTC; every instrument when absent.",
        ),
    ] = None,
) -> MarketDataResponse:
    """Each symbol's latest close with its change over 1 day, 30 days and 1 year."""
    return market.read_quotes(session, symbols.split(",") if symbols is not None else None)


@cacheable
@router.get(
    "/market-data/{symbol}/history",
    summary="Daily closes of one instrument",
    responses=error_responses(
        e400="A bad date, or from after to.", e404="A symbol the bank does not know."
    ),
)
def read_price_history(
    symbol: Annotated[str, Path(max_length=16, description="Instrument symbol, e.g. AAPL.")],
    session: SessionDep,
    date_from: Annotated[
        IsoDate | None,
        Query(alias="from", description="First day (default: a year before to)."),
    ] = None,
    date_to: Annotated[
        IsoDate | None,
        Query(alias="to", description="Last day (default: the last market date)."),
    ] = None,
) -> PriceHistory:
    """Daily closes between two dates, oldest first."""
    return market.read_price_history(session, symbol, date_from, date_to)
