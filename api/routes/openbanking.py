"""``/api/*``: the calls of the OpenBanking MCP server written alongside the original bank,
answered with its field names from the same services as every other route."""

from typing import Annotated

from fastapi import APIRouter, Query, Response

from api.answers import answer
from api.cache import DependsOn, cacheable
from api.http_errors import INVALID_OID, UNKNOWN_CUSTOMER, error_responses
from api.params import Currency, CustomerOid, Symbols
from db import DatabaseDep
from schemas.openbanking import (
    ApiAccounts,
    ApiCustomer,
    ApiMarketData,
    ApiPortfolio,
    ApiRisk,
    ApiTransactions,
)
from services import openbanking

router = APIRouter(prefix="/api", tags=["openbanking mcp"])
CUSTOMER_ERRORS = error_responses(e400=INVALID_OID, e404=UNKNOWN_CUSTOMER)

PAGE_SIZE = 50


@cacheable(DependsOn.CUSTOMER)
@router.get(
    "/customers/{customer_oid}",
    responses=CUSTOMER_ERRORS,
    summary="The customer's profile and preferences, the original's way",
    response_model=ApiCustomer,
)
async def read_api_customer(
    customer_oid: CustomerOid, database: DatabaseDep, currency: Currency = None
) -> Response:
    """Name, contact, date of birth, risk tolerance, experience, income over the last twelve
    months, net worth, goals and horizon, and the contact and investing preferences; the
    profile section's figures (`/customer/{customer_oid}/profile`) in the original's shape."""
    return await answer(
        database, lambda session: openbanking.api_customer(session, customer_oid, currency)
    )


@cacheable(DependsOn.CUSTOMER)
@router.get(
    "/portfolio/{customer_oid}",
    responses=CUSTOMER_ERRORS,
    summary="Holdings, allocation and performance, the original's way",
    response_model=ApiPortfolio,
)
async def read_api_portfolio(
    customer_oid: CustomerOid, database: DatabaseDep, currency: Currency = None
) -> Response:
    """Total value, cash, each holding's share, the allocation in four groups, and today's,
    the month's and the year's change, from the portfolio summary."""
    return await answer(
        database, lambda session: openbanking.api_portfolio(session, customer_oid, currency)
    )


@cacheable(DependsOn.CUSTOMER)
@router.get(
    "/accounts/{customer_oid}",
    summary="Accounts, the original's way",
    response_model=ApiAccounts,
    responses=CUSTOMER_ERRORS,
)
async def read_api_accounts(
    customer_oid: CustomerOid, database: DatabaseDep, currency: Currency = None
) -> Response:
    """Every account with its balance, and the balances' total in the base currency."""
    return await answer(
        database, lambda session: openbanking.api_accounts(session, customer_oid, currency)
    )


@cacheable(DependsOn.CUSTOMER)
@router.get(
    "/transactions/{customer_oid}",
    responses=CUSTOMER_ERRORS,
    summary="Transactions by page number, newest first",
    response_model=ApiTransactions,
)
async def read_api_transactions(
    customer_oid: CustomerOid,
    database: DatabaseDep,
    limit: Annotated[
        int | None,
        Query(ge=1, le=500, description="Transactions per page, as per_page (which wins)."),
    ] = None,
    page: Annotated[int, Query(ge=1, le=1_000_000, description="Page number, from 1.")] = 1,
    per_page: Annotated[
        int | None,
        Query(
            ge=1,
            le=500,
            description=f"Transactions per page; {PAGE_SIZE} when neither this nor limit is given.",
        ),
    ] = None,
) -> Response:
    """One page of the customer's transactions with the original's field names; a page past
    the last is empty."""
    size = per_page or limit or PAGE_SIZE
    return await answer(
        database,
        lambda session: openbanking.api_transactions(
            session, customer_oid, page=page, per_page=size
        ),
    )


@cacheable(DependsOn.CUSTOMER)
@router.get(
    "/risk/{customer_oid}",
    responses=CUSTOMER_ERRORS,
    summary="Risk score, value at risk, stress tests and diversification, the original's way",
    response_model=ApiRisk,
)
async def read_api_risk(
    customer_oid: CustomerOid, database: DatabaseDep, currency: Currency = None
) -> Response:
    """The risk section's headline figures under the original's names: volatility and
    drawdown as fractions, value at risk as negative amounts, each stress test's P&L."""
    return await answer(
        database, lambda session: openbanking.api_risk(session, customer_oid, currency)
    )


@cacheable(DependsOn.MARKET)
@router.get(
    "/market-data",
    summary="Quotes and the index ETFs, the original's way",
    response_model=ApiMarketData,
    responses=error_responses(e400="No symbol at all, or too long a list."),
)
async def read_api_market_data(database: DatabaseDep, symbols: Symbols = None) -> Response:
    """Each symbol's latest close and day's change with volume, market capitalisation, P/E
    and dividend yield; symbols the bank does not know are listed in not_found."""
    wanted = symbols.split(",") if symbols is not None else None
    return await answer(database, lambda session: openbanking.api_market_data(session, wanted))
