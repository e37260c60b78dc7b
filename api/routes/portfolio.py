"""Portfolio routes: the whole portfolio and each of its sections, for one customer."""

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response
from sqlmodel import Session

from api.answers import answer, json_bytes
from api.cache import DependsOn, cacheable
from api.http_errors import INVALID_OID, UNKNOWN_CUSTOMER, error_responses
from api.params import CURSOR_SCHEMA, Currency, CustomerOid, TransactionQuery
from db import DatabaseDep
from models import DerivativeStatus
from schemas.common import MONTH_PATTERN
from schemas.original import Portfolio
from schemas.portfolio import (
    AccountsSection,
    AssetsSection,
    DerivativesSection,
    SpendingSection,
    TransactionsPage,
)
from schemas.risk import RiskSection
from schemas.summary import PortfolioSummary
from services import portfolio

router = APIRouter(
    tags=["portfolio"], responses=error_responses(e400=INVALID_OID, e404=UNKNOWN_CUSTOMER)
)


@cacheable(DependsOn.CUSTOMER)
@router.get(
    "/user-portfolio/{customer_oid}",
    summary="A customer's whole portfolio with a summary",
    response_model=Portfolio,
)
async def read_portfolio(
    customer_oid: CustomerOid,
    database: DatabaseDep,
    currency: Currency = None,
    sections: Annotated[
        str | None,
        Query(
            max_length=200,
            description="Comma-separated sections to include: "
            + ", ".join(portfolio.PORTFOLIO_SECTIONS)
            + ". All of them when absent.",
            examples=["portfolio_summary,assets"],
            json_schema_extra={"pattern": portfolio.SECTIONS_PATTERN},
        ),
    ] = None,
    transactions_limit: Annotated[
        int | None,
        Query(ge=1, le=500, description="Keep only the newest N transactions (1 to 500)."),
    ] = None,
) -> Response:
    """Holdings, accounts, transactions, spending, derivatives and the analysis of them."""
    wanted = portfolio.parse_sections(sections)
    left_out = set(portfolio.PORTFOLIO_SECTIONS) - wanted
    body = await database.run(
        lambda session: portfolio.read_portfolio(
            session,
            customer_oid,
            currency=currency,
            sections=wanted,
            transactions_limit=transactions_limit,
        ),
        lambda found: found.to_json(left_out),
    )
    return json_bytes(body)


@cacheable(DependsOn.CUSTOMER)
@router.get(
    "/customer/{customer_oid}/summary",
    summary="Valuation, allocation, performance and spending analysis",
    response_model=PortfolioSummary,
)
async def read_summary(
    customer_oid: CustomerOid, database: DatabaseDep, currency: Currency = None
) -> Response:
    """The portfolio summary alone, in the base currency asked for."""
    return json_bytes(
        await database.run(lambda session: portfolio.summary_json(session, customer_oid, currency))
    )


@cacheable(DependsOn.CUSTOMER)
@router.get(
    "/customer/{customer_oid}/risk",
    summary="Volatility, beta, drawdown, value at risk, stress tests, diversification, greeks",
    response_model=RiskSection,
)
async def read_risk(
    customer_oid: CustomerOid, database: DatabaseDep, currency: Currency = None
) -> Response:
    """The risk of today's holdings and open derivatives over the last 252 trading days, in
    the base currency asked for: the summary's ``risk``. Losses are negative amounts; with
    nothing invested the statistics are null and ``reason`` says why."""
    return await answer(
        database, lambda session: portfolio.read_risk(session, customer_oid, currency)
    )


@cacheable(DependsOn.CUSTOMER)
@router.get(
    "/customer/{customer_oid}/assets",
    summary="Holdings with their valuation",
    response_model=AssetsSection,
)
async def read_assets(
    customer_oid: CustomerOid, database: DatabaseDep, currency: Currency = None
) -> Response:
    """Each holding with price, cost, market value, unrealized gain and weight."""
    return await answer(
        database, lambda session: portfolio.read_assets(session, customer_oid, currency)
    )


@cacheable(DependsOn.CUSTOMER)
@router.get(
    "/customer/{customer_oid}/accounts",
    summary="Bank accounts and cash by currency",
    response_model=AccountsSection,
)
async def read_accounts(
    customer_oid: CustomerOid, database: DatabaseDep, currency: Currency = None
) -> Response:
    """Every account with its institution, and the cash per currency and in total."""
    return await answer(
        database, lambda session: portfolio.read_accounts(session, customer_oid, currency)
    )


@cacheable(DependsOn.CUSTOMER)
@router.get(
    "/customer/{customer_oid}/transactions",
    summary="Transactions, filtered and paged",
    response_model=TransactionsPage,
)
async def read_transactions(
    request: Request,
    customer_oid: CustomerOid,
    database: DatabaseDep,
    query: Annotated[TransactionQuery, Query()],
    limit: Annotated[int, Query(ge=1, le=500, description="Page size, 1 to 500.")] = 50,
    cursor: Annotated[
        str | None,
        Query(
            max_length=500,
            description="next_cursor of the previous page, unchanged.",
            json_schema_extra=CURSOR_SCHEMA,
        ),
    ] = None,
) -> Response:
    """One page of transactions, sorted by date; `next` fetches the following page."""

    def read(session: Session) -> TransactionsPage:
        page = portfolio.read_transactions(
            session, customer_oid, query.to_filter(), order=query.order, limit=limit, cursor=cursor
        )
        if page.next_cursor:
            page.next = str(request.url.include_query_params(cursor=page.next_cursor))
        return page

    return await answer(database, read)


@cacheable(DependsOn.CUSTOMER)
@router.get(
    "/customer/{customer_oid}/spending",
    summary="Spending grouped by category or month",
    response_model=SpendingSection,
)
async def read_spending(
    customer_oid: CustomerOid,
    database: DatabaseDep,
    group_by: Annotated[
        Literal["category", "month"], Query(description="Group totals by category or month.")
    ] = "category",
    from_month: Annotated[
        str | None,
        Query(
            max_length=7,
            description="First month included, YYYY-MM.",
            json_schema_extra={"pattern": MONTH_PATTERN},
        ),
    ] = None,
    to_month: Annotated[
        str | None,
        Query(
            max_length=7,
            description="Last month included, YYYY-MM.",
            json_schema_extra={"pattern": MONTH_PATTERN},
        ),
    ] = None,
    currency: Currency = None,
) -> Response:
    """Spending totals per group over a range of months, in the base currency."""
    return await answer(
        database,
        lambda session: portfolio.read_spending(
            session,
            customer_oid,
            group_by=group_by,
            from_month=from_month,
            to_month=to_month,
            currency=currency,
        ),
    )


@cacheable(DependsOn.CUSTOMER)
@router.get(
    "/customer/{customer_oid}/derivatives",
    summary="Derivative positions, optionally by status",
    response_model=DerivativesSection,
)
async def read_derivatives(
    customer_oid: CustomerOid,
    database: DatabaseDep,
    status: Annotated[
        DerivativeStatus | None, Query(description="Only positions with this status.")
    ] = None,
) -> Response:
    """Options and futures, newest trade first."""
    return await answer(
        database,
        lambda session: portfolio.read_derivatives(
            session, customer_oid, status.value if status else None
        ),
    )
