"""The risk section against an independent implementation.

The reference reads the raw rows (holdings, closes, rates, derivative positions) with SQL,
builds the window from SPY's own price dates (SPY trades exactly on NYSE days), and computes
every statistic with numpy, pandas, scipy and ``empyrical`` (the performance library
Quantopian wrote for pyfolio, kept as ``empyrical-reloaded``). Where the bank and the
reference differ beyond rounding, one has a bug.
"""

import itertools
import math
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import empyrical
import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from scipy.optimize import brentq
from scipy.stats import norm
from sqlalchemy import Engine, text

from core.settings import Settings
from db import create_db_engine
from main import create_app
from market.classification import COUNTRIES, SECTORS
from market.model import AS_OF, FACTORS, SPECS
from market.scenarios import SCENARIOS
from synthetic.bulk_load import load_synthetic
from synthetic.samples import SAMPLE_CUSTOMERS
from synthetic.seeding import prepare_database
from tests.helpers import JANE, JOHN, PROJECT, UNKNOWN

RISK_FREE = 0.04
SYNTHETIC = 40


@pytest.fixture(scope="module")
def bank(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, Engine]]:
    path: Path = tmp_path_factory.mktemp("risk") / "bank.db"
    engine = create_db_engine(f"sqlite:///{path}")
    prepare_database(engine)
    load_synthetic(engine, SYNTHETIC, seed=7, batch_size=50, progress=False)
    with TestClient(create_app(Settings(database_url=f"sqlite:///{path}"))) as client:
        yield client, engine


def _rows(engine: Engine, sql: str, **params: Any) -> list[Any]:
    with engine.connect() as connection:
        return list(connection.execute(text(sql), params))


def _day(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


class Reference:
    """Today's book of one customer, and its returns, from the raw rows."""

    def __init__(self, engine: Engine, oid: str, base: str = "USD") -> None:
        prices = pd.DataFrame(
            [
                (r[0], _day(r[1]), r[2] / 1e6)
                for r in _rows(engine, "SELECT symbol, price_date, close FROM instrument_prices")
            ],
            columns=["symbol", "day", "close"],
        ).pivot(index="day", columns="symbol", values="close")
        rates = pd.DataFrame(
            [
                (r[0], _day(r[1]), r[2] / 1e6)
                for r in _rows(engine, "SELECT currency, rate_date, usd_per_unit FROM fx_rates")
            ],
            columns=["currency", "day", "rate"],
        ).pivot(index="day", columns="currency", values="rate")
        rates["USD"] = 1.0
        nyse = prices["SPY"].dropna().index
        self.days = list(nyse[-253:])
        every = sorted(set(prices.index) | set(rates.index))
        prices = prices.reindex(every).ffill().loc[self.days]
        rates = rates.reindex(every).ffill().loc[self.days]
        currency = dict(_rows(engine, "SELECT symbol, currency FROM instruments"))
        self.quantity = {
            symbol: q / 1e8
            for symbol, q in _rows(
                engine, "SELECT symbol, quantity FROM assets WHERE customer_oid = :oid", oid=oid
            )
        }
        in_base = {
            symbol: prices[symbol] * rates[currency[symbol]] / rates[base]
            for symbol in set(self.quantity) | {"SPY"}
        }
        self.value_today = {s: self.quantity[s] * in_base[s].iloc[-1] for s in self.quantity}
        self.returns = pd.DataFrame({s: v.pct_change().iloc[1:] for s, v in in_base.items()})
        self.symbols = sorted(self.quantity)
        self.exposure = np.array([self.value_today[s] for s in self.symbols])
        self.pnl = self.returns[self.symbols].to_numpy() @ self.exposure
        self.total = float(self.exposure.sum())
        self.book = self.pnl / self.total

    def drawdown_dates(self) -> tuple[date, date]:
        wealth = np.concatenate([[1.0], np.cumprod(1 + self.book)])
        peaks = np.maximum.accumulate(wealth)
        trough = int(np.argmin(wealth / peaks - 1))
        peak = int(np.argmax(wealth[: trough + 1]))
        return self.days[peak], self.days[trough]


def _customers_without_derivatives(engine: Engine) -> list[str]:
    return [
        oid
        for (oid,) in _rows(
            engine,
            "SELECT customer_oid FROM users WHERE customer_oid IN "
            "(SELECT customer_oid FROM assets) AND customer_oid NOT IN (SELECT customer_oid "
            "FROM derivative_transactions WHERE status = 'open') ORDER BY customer_oid",
        )
    ]


def _close(ours: Any, theirs: float, within: float) -> None:
    assert ours is not None
    assert abs(float(ours) - theirs) <= within, (ours, theirs)


def test_the_statistics_match_empyrical_and_numpy(bank: tuple[TestClient, Engine]) -> None:
    client, engine = bank
    checked = 0
    for oid in _customers_without_derivatives(engine):
        ref = Reference(engine, oid)
        risk = client.get(f"/customer/{oid}/risk").json()
        assert risk["reason"] is None
        assert risk["window"]["observations"] == len(ref.book) == 252
        assert risk["window"]["start_date"] == ref.days[0].isoformat()
        _close(risk["holdings_value"], ref.total, 0.01 * len(ref.symbols))
        daily_free = RISK_FREE / 252
        _close(risk["volatility_percent"], empyrical.annual_volatility(ref.book) * 100, 0.006)
        _close(risk["annualized_return_percent"], empyrical.annual_return(ref.book) * 100, 0.006)
        _close(risk["beta"], empyrical.beta(ref.book, ref.returns["SPY"].to_numpy()), 0.0002)
        _close(risk["sharpe_ratio"], empyrical.sharpe_ratio(ref.book, risk_free=daily_free), 0.0002)
        _close(
            risk["sortino_ratio"],
            empyrical.sortino_ratio(ref.book, required_return=daily_free),
            0.0002,
        )
        drawdown = risk["drawdown"]
        _close(drawdown["max_drawdown_percent"], empyrical.max_drawdown(ref.book) * 100, 0.006)
        if drawdown["max_drawdown_percent"] < 0:
            peak, trough = ref.drawdown_dates()
            assert (drawdown["peak_date"], drawdown["trough_date"]) == (
                peak.isoformat(),
                trough.isoformat(),
            )
        sigma = math.sqrt(ref.exposure @ np.cov(ref.returns[ref.symbols].to_numpy().T,
                                                ddof=1).reshape(len(ref.symbols), -1)
                          @ ref.exposure)  # fmt: skip
        for row in risk["value_at_risk"]:
            tail = 1 - row["confidence_percent"] / 100
            scale = math.sqrt(row["horizon_days"])
            # Cents rounded from figures of thousands: a cent or two apart at most.
            money = 0.011 * max(scale, 1)
            _close(row["historical_var"], empyrical.value_at_risk(ref.pnl, tail) * scale, money)
            _close(
                row["historical_expected_shortfall"],
                empyrical.conditional_value_at_risk(ref.pnl, tail) * scale,
                money,
            )
            z = norm.ppf(1 - tail)
            _close(row["parametric_var"], -z * sigma * scale, money)
            _close(row["parametric_expected_shortfall"], -sigma * norm.pdf(z) / tail * scale, money)
        weights = {s: ref.value_today[s] / ref.total for s in ref.symbols}
        diversification = risk["diversification"]
        _close(diversification["holdings_concentration"],
               sum(w * w for w in weights.values()), 0.00006)  # fmt: skip
        for field, table in (
            ("sector_concentration", SECTORS),
            ("geographic_concentration", COUNTRIES),
        ):
            buckets: dict[str, float] = {}
            for symbol, weight in weights.items():
                for name, part in table[symbol]:
                    buckets[name] = buckets.get(name, 0.0) + weight * float(part)
            _close(diversification[field], sum(v * v for v in buckets.values()), 0.00006)
        if len(ref.symbols) > 1:
            matrix = np.corrcoef(ref.returns[ref.symbols].to_numpy().T)
            pairs = [
                (i, j) for i in range(len(ref.symbols)) for j in range(i + 1, len(ref.symbols))
            ]
            w = [weights[s] for s in ref.symbols]
            expected = sum(w[i] * w[j] * matrix[i, j] for i, j in pairs) / sum(
                w[i] * w[j] for i, j in pairs
            )
            _close(diversification["correlation_risk"], expected, 0.00006)
        else:
            assert diversification["correlation_risk"] is None
        checked += 1
    assert checked >= 15


def test_another_base_currency_measures_the_same_book_in_that_currency(
    bank: tuple[TestClient, Engine],
) -> None:
    client, engine = bank
    oid = _customers_without_derivatives(engine)[0]
    ref = Reference(engine, oid, base="EUR")
    risk = client.get(f"/customer/{oid}/risk?currency=EUR").json()
    assert risk["base_currency"] == "EUR"
    _close(risk["volatility_percent"], empyrical.annual_volatility(ref.book) * 100, 0.006)
    _close(risk["beta"], empyrical.beta(ref.book, ref.returns["SPY"].to_numpy()), 0.0002)


def _reference_greeks(kind: str, s: float, k: float, t: float, v: float) -> dict[str, float]:
    d1 = (math.log(s / k) + (RISK_FREE + v * v / 2) * t) / (v * math.sqrt(t))
    d2 = d1 - v * math.sqrt(t)
    if kind == "call":
        price = s * norm.cdf(d1) - k * math.exp(-RISK_FREE * t) * norm.cdf(d2)
        delta = norm.cdf(d1)
        theta = -s * norm.pdf(d1) * v / (2 * math.sqrt(t)) - RISK_FREE * k * math.exp(
            -RISK_FREE * t
        ) * norm.cdf(d2)
    else:
        price = k * math.exp(-RISK_FREE * t) * norm.cdf(-d2) - s * norm.cdf(-d1)
        delta = norm.cdf(d1) - 1
        theta = -s * norm.pdf(d1) * v / (2 * math.sqrt(t)) + RISK_FREE * k * math.exp(
            -RISK_FREE * t
        ) * norm.cdf(-d2)
    return {
        "price": price,
        "delta": delta,
        "gamma": norm.pdf(d1) / (s * v * math.sqrt(t)),
        "vega": s * norm.pdf(d1) * math.sqrt(t) / 100,
        "theta": theta / 365,
    }


def test_option_greeks_are_black_scholes_by_scipy(bank: tuple[TestClient, Engine]) -> None:
    client, engine = bank
    positions = _rows(
        engine,
        "SELECT id, customer_oid, underlying_symbol, option_type, side, contracts, multiplier, "
        "strike, expiry_date FROM derivative_transactions WHERE status = 'open' AND "
        "instrument_type = 'option' AND currency = 'USD' ORDER BY id",
    )
    assert positions, "the sample and synthetic books hold open options"
    as_of = AS_OF
    checked = 0
    for pid, oid, underlying, kind, side, contracts, multiplier, strike, expiry in positions:
        t = (_day(expiry) - as_of).days / 365
        if t <= 0:
            continue
        spot = (
            _rows(
                engine,
                "SELECT close FROM instrument_prices WHERE symbol = :s ORDER BY price_date DESC "
                "LIMIT 1",
                s=underlying,
            )[0][0]
            / 1e6
        )
        ref = _reference_greeks(kind, spot, strike / 1e6, t, SPECS[underlying].annual_volatility)
        units = contracts * multiplier * (1 if side == "long" else -1)
        risk = client.get(f"/customer/{oid}/risk").json()
        ours = next(p for p in risk["options"]["positions"] if p["id"] == pid)
        _close(ours["delta"], ref["delta"] * units, 0.0001 + 1e-9 * abs(units))
        _close(ours["gamma"], ref["gamma"] * units, 0.0001)
        _close(ours["vega"], ref["vega"] * units, 0.006)
        _close(ours["theta"], ref["theta"] * units, 0.006)
        _close(ours["delta_exposure"], ref["delta"] * units * spot, 0.011)
        line = next(
            u for u in risk["options"]["by_underlying"] if u["underlying_symbol"] == underlying
        )
        assert Decimal(str(line["net_exposure"])) == Decimal(str(line["holdings_value"])) + Decimal(
            str(line["derivatives_delta_exposure"])
        )
        checked += 1
    assert checked >= 1


def _street_duration(coupon: float, price: float, as_of: date, maturity: date) -> float:
    """Modified duration from the cash flows, by scipy's root finder: an independent
    (actual/actual, semi-annual) pricing of the same bond."""
    flows = []
    for half_years in itertools.count():
        when = (pd.Timestamp(maturity) - pd.DateOffset(months=6 * half_years)).date()
        if when <= as_of:
            break
        flows.append(((when - as_of).days / 365.25 * 2, 100 * coupon / 2))
    flows[0] = (flows[0][0], flows[0][1] + 100)
    accrued = 100 * coupon / 2 * (1 - flows[-1][0])

    def dirty(y: float) -> float:
        return float(sum(amount / (1 + y / 2) ** periods for periods, amount in flows))

    rate = brentq(lambda y: dirty(y) - accrued - price, -0.04, 0.3)
    step = 1e-4
    return (dirty(rate - step) - dirty(rate + step)) / (2 * step * dirty(rate))


def test_stress_tests_move_each_holding_by_its_loadings(bank: tuple[TestClient, Engine]) -> None:
    client, _ = bank
    for sample in SAMPLE_CUSTOMERS:
        risk = client.get(f"/customer/{sample.customer_oid}/risk").json()
        assert [s["name"] for s in risk["stress_tests"]] == [s.name for s in SCENARIOS]
        for stress, scenario in zip(risk["stress_tests"], SCENARIOS, strict=True):
            shocks = dict(scenario.shocks)
            total = Decimal(0)
            for line in stress["holdings"]:
                spec = SPECS[line["symbol"]]
                if spec.maturity is None:
                    local = max(sum(b * shocks.get(f, 0.0) for f, b in spec.loadings), -1.0)
                    tolerance = 0.006
                else:
                    tenor = (spec.maturity - AS_OF).days / 365.25
                    move = shocks.get("rates_level", 0.0) + (tenor - 7) / 5 * shocks.get(
                        "rates_slope", 0.0
                    )
                    move += shocks.get("credit", 0.0) if spec.credit_spread else 0.0
                    duration = _street_duration(
                        spec.coupon, float(spec.last_price), AS_OF, spec.maturity
                    )
                    local = -duration * move
                    # Convexity and the day count: within a tenth of a percentage point.
                    tolerance = 0.1 + 100 * abs(move) * abs(move) * duration * duration
                fx = 1.0 if spec.currency == "USD" else 1 - shocks.get("usd", 0.0)
                _close(line["return_percent"], ((1 + local) * fx - 1) * 100, tolerance)
                total += Decimal(str(line["pnl"]))
            total += sum((Decimal(str(d["pnl"])) for d in stress["derivatives"]), Decimal(0))
            assert abs(total - Decimal(str(stress["pnl"]))) <= Decimal("0.01") * (
                len(stress["holdings"]) + len(stress["derivatives"])
            )
        worst = min(risk["stress_tests"], key=lambda s: s["pnl"])
        assert risk["worst_scenario"] == worst["name"]


def test_the_aggressive_sample_scores_higher_than_the_bond_holder(
    bank: tuple[TestClient, Engine],
) -> None:
    client, _ = bank
    scores = {
        s.name: client.get(f"/customer/{s.customer_oid}/risk").json() for s in SAMPLE_CUSTOMERS
    }
    assert scores["Jane Smith"]["risk_category"] in {"aggressive", "speculative"}
    assert scores["Robert Johnson"]["risk_category"] == "conservative"
    assert scores["Jane Smith"]["risk_score"] > scores["John Doe"]["risk_score"]
    assert scores["John Doe"]["risk_score"] > scores["Robert Johnson"]["risk_score"]


def test_the_summary_and_the_api_carry_the_sections_figures(
    bank: tuple[TestClient, Engine],
) -> None:
    client, _ = bank
    section = client.get(f"/customer/{JANE}/risk").json()
    summary = client.get(f"/customer/{JANE}/summary").json()["risk"]
    one_day = {
        r["confidence_percent"]: r for r in section["value_at_risk"] if r["horizon_days"] == 1
    }
    worst = next(s for s in section["stress_tests"] if s["name"] == section["worst_scenario"])
    assert summary == {
        "reason": section["reason"],
        "risk_score": section["risk_score"],
        "risk_category": section["risk_category"],
        "volatility_percent": section["volatility_percent"],
        "beta": section["beta"],
        "sharpe_ratio": section["sharpe_ratio"],
        "sortino_ratio": section["sortino_ratio"],
        "max_drawdown_percent": section["drawdown"]["max_drawdown_percent"],
        "value_at_risk_1d_95": one_day[95]["historical_var"],
        "value_at_risk_1d_99": one_day[99]["historical_var"],
        "expected_shortfall_1d_99": one_day[99]["historical_expected_shortfall"],
        "worst_scenario": worst["name"],
        "worst_scenario_pnl": worst["pnl"],
        "sector_concentration": section["diversification"]["sector_concentration"],
        "geographic_concentration": section["diversification"]["geographic_concentration"],
        "correlation_risk": section["diversification"]["correlation_risk"],
    }
    api = client.get(f"/api/risk/{JANE}").json()
    assert set(api) >= {"customer_oid", "risk_profile", "var_analysis", "stress_tests",
                        "diversification"}  # fmt: skip
    profile = api["risk_profile"]
    assert profile["risk_score"] == section["risk_score"]
    assert profile["volatility"] == round(section["volatility_percent"] / 100, 4)
    assert profile["max_drawdown"] == round(section["drawdown"]["max_drawdown_percent"] / 100, 4)
    historical = {
        (r["confidence_percent"], r["horizon_days"]): r["historical_var"]
        for r in section["value_at_risk"]
    }
    assert api["var_analysis"] == {
        "1_day_var_95": historical[95, 1],
        "1_day_var_99": historical[99, 1],
        "10_day_var_95": historical[95, 10],
        "10_day_var_99": historical[99, 10],
    }
    assert all(v < 0 for v in api["var_analysis"].values())
    assert api["stress_tests"] == {s["name"]: s["pnl"] for s in section["stress_tests"]}
    for name in ("market_crash_2008", "covid_crash_2020", "tech_bubble_2000"):
        assert name in api["stress_tests"]


def test_nothing_invested_gets_zeros_and_nulls_with_a_reason(
    bank: tuple[TestClient, Engine],
) -> None:
    client, _ = bank
    oid = client.post("/register-customer", json={"name": "Cash Only"}).json()["customer_oid"]
    answer = client.get(f"/customer/{oid}/risk")
    assert answer.status_code == 200
    risk = answer.json()
    assert risk["reason"].startswith("Nothing invested")
    assert (risk["risk_score"], risk["risk_category"]) == (0, "none")
    assert risk["volatility_percent"] is risk["beta"] is risk["sharpe_ratio"] is None
    assert {row["historical_var"] for row in risk["value_at_risk"]} == {0}
    assert {s["pnl"] for s in risk["stress_tests"]} == {0}
    api = client.get(f"/api/risk/{oid}").json()
    assert api["risk_profile"]["volatility"] is None
    assert set(api["var_analysis"].values()) == {0}


@pytest.mark.parametrize("path", ["/customer/{}/risk", "/api/risk/{}"])
def test_bad_ids_and_currencies_are_refused(bank: tuple[TestClient, Engine], path: str) -> None:
    client, _ = bank
    assert client.get(path.format(UNKNOWN)).status_code == 404
    assert client.get(path.format("not-an-id")).status_code == 400
    wrong = client.get(path.format(JOHN) + "?currency=XYZ")
    assert wrong.status_code == 400
    assert "currency" in wrong.json()["detail"]


def scenario_table() -> str:
    """The risk page's table of the stress scenarios' shocks, from ``market.scenarios``."""
    named = {name for s in SCENARIOS for name, _ in s.shocks}
    factors = [name for name in FACTORS if name in named]
    rates = {"rates_level", "rates_slope", "credit"}

    def shown(name: str, shock: float) -> str:
        return f"{shock * 10_000:+.0f} bp" if name in rates else f"{shock * 100:+.0f}%"

    lines = [
        "| scenario | period | " + " | ".join(factors) + " |",
        "|---|---|" + "---|" * len(factors),
    ]
    for s in SCENARIOS:
        shocks = dict(s.shocks)
        cells = [shown(f, shocks[f]) if f in shocks else "" for f in factors]
        lines.append(f"| `{s.name}` {s.title} | {s.period} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def test_the_risk_page_lists_every_scenarios_shocks() -> None:
    page = (PROJECT / "docs" / "risk.md").read_text()
    assert scenario_table() in page


def test_a_sandboxs_risk_is_its_own_bank(bank: tuple[TestClient, Engine]) -> None:
    client, _ = bank
    sandbox = client.post("/sandboxes", json={}).json()["sandbox_id"]
    inside = {"X-Bank-Sandbox": sandbox}
    try:
        assert client.delete(f"/customer/{JANE}", headers=inside).status_code == 200
        for path in (f"/customer/{JANE}/risk", f"/api/risk/{JANE}"):
            assert client.get(path, headers=inside).status_code == 404
            assert client.get(path).status_code == 200
    finally:
        client.delete(f"/sandboxes/{sandbox}")
