"""Market data routes: latest quotes and one instrument's daily closes."""

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from api.answers import answer
from api.cache import DependsOn, cacheable
from api.http_errors import error_responses
from api.params import Symbols
from db import DatabaseDep
from schemas.common import BLANK, IsoDate
from schemas.market import MarketDataResponse, PriceHistory
from services import market

router = APIRouter(tags=["market data"])


@cacheable(DependsOn.MARKET)
@router.get(
    "/market-data",
    summary="Latest prices and changes",
    responses=error_responses(
        e400="No symbol, or too many.", e404="A symbol the bank does not know (named)."
    ),
    response_model=MarketDataResponse,
)
async def read_market_data(
    database: DatabaseDep,
    symbols: Symbols = None,
) -> Response:
    """Each symbol's latest close with its change over 1 day, 30 days and 1 year."""
    wanted = symbols.split(",") if symbols is not None else None
    return await answer(database, lambda session: market.read_quotes(session, wanted))


@cacheable(DependsOn.MARKET)
@router.get(
    "/market-data/{symbol}/history",
    summary="Daily closes of one instrument",
    responses=error_responses(
        e400="A bad date, or from after to.", e404="A symbol the bank does not know."
    ),
    response_model=PriceHistory,
)
async def read_price_history(
    symbol: Annotated[
        str,
        Path(
            max_length=16,
            description="Instrument symbol, e.g. AAPL.",
            # Blank is a 400 naming the field (the service's check); the schema says so.
            json_schema_extra={"pattern": f"[^{BLANK}]"},
        ),
    ],
    database: DatabaseDep,
    date_from: Annotated[
        IsoDate | None,
        Query(alias="from", description="First day (default: a year before to)."),
    ] = None,
    date_to: Annotated[
        IsoDate | None,
        Query(alias="to", description="Last day (default: the last market date)."),
    ] = None,
) -> Response:
    """Daily closes between two dates, oldest first."""
    return await answer(
        database, lambda session: market.read_price_history(session, symbol, date_from, date_to)
    )
