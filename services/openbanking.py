"""The answers of ``/api/*``, for the OpenBanking MCP server written alongside the original
bank: the same figures as the sections, under the original's names (``schemas/openbanking``).
"""

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlmodel import Session

from analysis.summary import shares_of_100
from schemas.openbanking import (
    ApiAccount,
    ApiAccounts,
    ApiAllocation,
    ApiCustomer,
    ApiDiversification,
    ApiHolding,
    ApiIndex,
    ApiMarketData,
    ApiPagination,
    ApiPerformance,
    ApiPortfolio,
    ApiPreferences,
    ApiProfile,
    ApiQuote,
    ApiRisk,
    ApiRiskProfile,
    ApiTransaction,
    ApiTransactions,
    ApiVarAnalysis,
)
from services.customers import get_customer
from services.market import parse_symbols, read_quotes
from services.portfolio import read_accounts, read_risk, read_summary
from services.profiles import read_profile
from services.records import transactions_by_number


def api_customer(session: Session, raw_oid: str, currency: str | None = None) -> ApiCustomer:
    """The profile section's answer, in the original's two groups."""
    found = read_profile(session, raw_oid, currency)
    return ApiCustomer(
        customer_oid=found.customer_oid,
        profile=ApiProfile(
            name=found.name,
            email=found.email,
            phone=found.phone,
            date_of_birth=found.date_of_birth,
            risk_tolerance=found.risk_tolerance,
            investment_experience=found.investment_experience,
            annual_income=found.annual_income,
            net_worth=found.net_worth,
            investment_goals=found.investment_goals,
            time_horizon=found.time_horizon,
        ),
        preferences=ApiPreferences(
            communication_method=found.communication_method,
            portfolio_style=found.portfolio_style,
            esg_investing=bool(found.esg_investing),
        ),
    )


def api_accounts(session: Session, raw_oid: str, currency: str | None = None) -> ApiAccounts:
    section = read_accounts(session, raw_oid, currency)
    return ApiAccounts(
        customer_oid=section.customer_oid,
        accounts=[
            ApiAccount(
                account_id=a.id,
                account_type=a.account_type,
                account_name=f"{a.institution.name} {a.account_type} "
                f"ending {a.account_number[-4:]}",
                balance=a.balance,
                currency=a.currency,
                status="active",
            )
            for a in section.bank_accounts
        ],
        total_assets=section.total_cash_balance,
        base_currency=section.base_currency,
    )


def api_transactions(
    session: Session, raw_oid: str, *, page: int, per_page: int
) -> ApiTransactions:
    oid = get_customer(session, raw_oid).customer_oid
    rows, total = transactions_by_number(session, oid, page=page, per_page=per_page)
    return ApiTransactions(
        customer_oid=oid,
        transactions=[
            ApiTransaction(
                transaction_id=t.id,
                date=t.transaction_date,
                type=t.transaction_type,
                symbol=t.symbol,
                quantity=t.quantity,
                price=t.price,
                amount=t.amount,
                fees=0,
                account_id=t.account_id,
            )
            for t in rows
        ],
        pagination=ApiPagination(
            current_page=page,
            per_page=per_page,
            total_transactions=total,
            total_pages=-(-total // per_page),
        ),
    )


ALLOCATION_GROUPS = {
    "stock": "stocks", "etf": "stocks", "bond": "bonds", "cash": "cash",
    "crypto": "other", "commodity": "other",
}  # fmt: skip
"""The summary's asset types, in the original's four groups (every ETF the bank lists holds
equities)."""


def api_portfolio(session: Session, raw_oid: str, currency: str | None = None) -> ApiPortfolio:
    summary = read_summary(session, raw_oid, currency)
    totals = summary.totals
    shares = shares_of_100(
        {"": totals.cash} | {h.symbol: h.market_value_base for h in summary.holdings}
    )
    groups = dict.fromkeys(("stocks", "bonds", "cash", "other"), Decimal("0.00"))
    for part in summary.allocation.by_asset_type:
        groups[ALLOCATION_GROUPS[part.key]] += part.percent
    periods = {p.period: p for p in summary.performance.periods}
    return ApiPortfolio(
        customer_oid=summary.customer_oid,
        total_value=totals.net_worth,
        cash_balance=totals.cash,
        holdings=[
            ApiHolding(
                symbol=h.symbol,
                name=h.name,
                currency=h.currency,
                quantity=h.quantity,
                current_price=h.current_price,
                market_value=h.market_value_base,
                percentage=shares[h.symbol],
                avg_cost=h.average_cost,
                unrealized_gain_loss=h.unrealized_gain,
            )
            for h in summary.holdings
        ],
        allocation=ApiAllocation(**groups),
        performance=ApiPerformance(
            today_change=periods["1d"].gain,
            today_change_percent=periods["1d"].return_percent,
            mtd_change=periods["mtd"].gain,
            mtd_change_percent=periods["mtd"].return_percent,
            ytd_change=periods["ytd"].gain,
            ytd_change_percent=periods["ytd"].return_percent,
        ),
        base_currency=summary.base_currency,
        as_of=summary.as_of,
    )


INDICES = ("SPY", "QQQ", "VTI")
CLOSE = dt.time(16, 0, tzinfo=ZoneInfo("America/New_York"))
"""When the prices are from: the New York close."""


def api_market_data(session: Session, symbols: Sequence[str] | None) -> ApiMarketData:
    """Quotes for ``symbols`` (every instrument when None); unknown ones are listed apart."""
    every = read_quotes(session)
    quoted = {q.symbol: q for q in every.quotes}
    if symbols is None:
        chosen, missing = every.quotes, []
    else:
        named = parse_symbols(symbols)
        chosen = [quoted[s] for s in named if s in quoted]
        missing = [s[:16] for s in named if s not in quoted]
    return ApiMarketData(
        timestamp=dt.datetime.combine(every.as_of, CLOSE).astimezone(dt.UTC),
        market_data=[
            ApiQuote(
                symbol=q.symbol,
                price=q.price,
                change=None if q.change_1d is None else q.change_1d.change,
                change_percent=None if q.change_1d is None else q.change_1d.change_percent,
                volume=q.volume,
                market_cap=q.market_cap,
                pe_ratio=q.pe_ratio,
                dividend_yield=q.dividend_yield,
            )
            for q in chosen
        ],
        market_indices={
            q.symbol: ApiIndex(
                price=q.price,
                change=None if q.change_1d is None else q.change_1d.change,
                change_percent=None if q.change_1d is None else q.change_1d.change_percent,
            )
            for q in (quoted[s] for s in INDICES if s in quoted)
        },
        not_found=missing,
    )


def _fraction(value: Decimal | None) -> Decimal | None:
    return None if value is None else (value / 100).quantize(Decimal("0.0001"))


def api_risk(session: Session, raw_oid: str, currency: str | None = None) -> ApiRisk:
    risk = read_risk(session, raw_oid, currency)
    var = {(v.confidence_percent, v.horizon_days): v.historical_var for v in risk.value_at_risk}
    return ApiRisk(
        customer_oid=risk.customer_oid,
        risk_profile=ApiRiskProfile(
            risk_score=risk.risk_score,
            risk_category=risk.risk_category,
            volatility=_fraction(risk.volatility_percent),
            beta=risk.beta,
            sharpe_ratio=risk.sharpe_ratio,
            max_drawdown=_fraction(risk.drawdown.max_drawdown_percent),
        ),
        var_analysis=ApiVarAnalysis(
            one_day_var_95=var[95, 1],
            one_day_var_99=var[99, 1],
            ten_day_var_95=var[95, 10],
            ten_day_var_99=var[99, 10],
        ),
        stress_tests={s.name: s.pnl for s in risk.stress_tests},
        diversification=ApiDiversification(
            sector_concentration=risk.diversification.sector_concentration,
            geographic_concentration=risk.diversification.geographic_concentration,
            correlation_risk=risk.diversification.correlation_risk,
        ),
        base_currency=risk.base_currency,
        as_of=risk.as_of,
        reason=risk.reason,
    )
