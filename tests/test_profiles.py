"""Customer profiles: what each customer declared agrees with its own books, the figures read
from the books are recomputed here from the raw rows, the contact details are fake, and
registration takes a profile checked field by field."""

import json
import statistics
from collections import defaultdict
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from fastapi.testclient import TestClient
from sqlalchemy import Engine, inspect, text

from analysis.profiles import (
    InvestingRecord,
    horizon_for_age,
    investment_experience,
    risk_tolerance,
)
from core.settings import Settings
from db import _alembic_config, create_db_engine, create_schema, schema_head
from main import create_app
from synthetic.bulk_load import load_synthetic
from synthetic.profiles import AGES, DE_DRAMA_NUMBERS, EMAIL_DOMAINS
from synthetic.samples import SAMPLE_CUSTOMERS, SampleCustomer
from tests.helpers import JANE, JOHN, UNKNOWN, sample_oid

ROBERT = sample_oid("Robert Johnson")
ABC = sample_oid("ABC Corporation")
SYNTHETIC = 300
AS_OF = date(2026, 9, 30)
INCOME_FROM = date(2025, 10, 1)
NATIVE_FIELDS = {
    "customer_oid", "name", "kind", "date_of_birth", "age", "founded_on", "email", "phone",
    "risk_tolerance", "investment_experience", "investment_goals", "time_horizon",
    "communication_method", "portfolio_style", "esg_investing", "annual_income", "income_from",
    "income_to", "net_worth", "base_currency", "as_of", "persona", "derived_from_books",
}  # fmt: skip
API_PROFILE_TYPES: dict[str, tuple[type, ...]] = {
    "name": (str,), "email": (str,), "phone": (str,), "date_of_birth": (str, type(None)),
    "risk_tolerance": (str,), "investment_experience": (str,), "annual_income": (int, float),
    "net_worth": (int, float), "investment_goals": (list,), "time_horizon": (str,),
}  # fmt: skip
API_PREFERENCE_TYPES = {"communication_method": (str,), "portfolio_style": (str,),
                        "esg_investing": (bool,)}  # fmt: skip
VALID_PROFILE = {
    "date_of_birth": "1988-04-21",
    "email": "new.customer@example.com",
    "phone": "+44 7700 900123",
    "risk_tolerance": "moderate",
    "investment_experience": "beginner",
    "investment_goals": ["retirement", "home_purchase"],
    "time_horizon": "long",
    "communication_method": "email",
    "portfolio_style": "balanced",
    "esg_investing": True,
}


def income_from_rows(engine: Engine, oid: str) -> tuple[Decimal, str]:
    """Every income credit of the twelve months to the market's last day, added up from the
    raw rows, and its currency (the samples and synthetic customers are paid in one each)."""
    with engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT amount, currency FROM transactions WHERE customer_oid = :oid "
                "AND category = 'income' AND amount > 0 "
                "AND transaction_date BETWEEN :first AND :last"
            ),
            {"oid": oid, "first": INCOME_FROM, "last": AS_OF},
        ).all()
    currencies = {currency for _, currency in rows}
    assert len(currencies) <= 1
    total = sum((Decimal(cents) / 100 for cents, _ in rows), Decimal(0))
    return total, currencies.pop() if currencies else "USD"


def money(value: Any) -> Decimal:
    return Decimal(str(value))


# --- the five samples ------------------------------------------------------------------


@pytest.mark.parametrize("sample", SAMPLE_CUSTOMERS, ids=lambda s: s.name)
def test_each_sample_answers_its_declared_profile_and_its_books(
    client: TestClient, engine: Engine, sample: SampleCustomer
) -> None:
    response = client.get(f"/customer/{sample.customer_oid}/profile")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == NATIVE_FIELDS
    declared = sample.profile
    assert body["name"] == sample.name and body["kind"] == declared.kind
    assert body["date_of_birth"] == (declared.date_of_birth and str(declared.date_of_birth))
    assert body["founded_on"] == (declared.founded_on and str(declared.founded_on))
    for field in ("email", "phone", "risk_tolerance", "investment_experience", "time_horizon",
                  "communication_method", "portfolio_style", "esg_investing"):  # fmt: skip
        assert body[field] == getattr(declared, field), field
    assert body["investment_goals"] == list(declared.investment_goals)
    assert body["derived_from_books"] == ["annual_income", "net_worth"]
    assert (body["as_of"], body["income_from"], body["income_to"]) == (
        str(AS_OF),
        str(INCOME_FROM),
        str(AS_OF),
    )
    summary = client.get(f"/customer/{sample.customer_oid}/summary").json()
    assert body["net_worth"] == summary["totals"]["net_worth"]
    assert (money(body["annual_income"]), "USD") == income_from_rows(engine, sample.customer_oid)
    assert money(body["annual_income"]) == Decimal(sample.monthly_income) * 12


def test_a_company_has_a_founding_date_and_no_birthday(client: TestClient) -> None:
    body = client.get(f"/customer/{ABC}/profile").json()
    assert body["kind"] == "company" and body["founded_on"] == "2014-11-03"
    assert body["date_of_birth"] is None and body["age"] is None
    person = client.get(f"/customer/{ROBERT}/profile").json()
    assert person["kind"] == "person" and person["founded_on"] is None
    assert person["age"] == 68 and person["time_horizon"] == "short"


def test_the_aggressive_sample_is_aggressive_and_the_retiree_conservative(
    client: TestClient,
) -> None:
    jane = client.get(f"/customer/{JANE}/profile").json()
    assert (jane["risk_tolerance"], jane["investment_experience"]) == ("aggressive", "advanced")
    robert = client.get(f"/customer/{ROBERT}/profile").json()
    assert robert["risk_tolerance"] == "conservative"


def test_money_figures_follow_the_currency_asked_for(client: TestClient, engine: Engine) -> None:
    body = client.get(f"/customer/{JOHN}/profile?currency=EUR").json()
    summary = client.get(f"/customer/{JOHN}/summary?currency=EUR").json()
    assert body["base_currency"] == "EUR" and body["net_worth"] == summary["totals"]["net_worth"]
    # Each credit at its own day's rate, recomputed here from the raw rates.
    with engine.connect() as connection:
        rates = connection.execute(
            text("SELECT rate_date, usd_per_unit FROM fx_rates WHERE currency = 'EUR' ORDER BY 1")
        ).all()
        credits = connection.execute(
            text(
                "SELECT transaction_date, amount FROM transactions WHERE customer_oid = :oid "
                "AND category = 'income' AND amount > 0 AND transaction_date >= :first"
            ),
            {"oid": JOHN, "first": INCOME_FROM},
        ).all()
    usd_per_eur = [(day, Decimal(rate).scaleb(-6)) for day, rate in rates]
    expected = Decimal(0)
    for day, cents in credits:
        day = date.fromisoformat(str(day))
        rate = [r for d, r in usd_per_eur if date.fromisoformat(str(d)) <= day][-1]
        expected += Decimal(cents) / 100 / rate
    # The API rounds each cross rate to eight places before use: within a few cents.
    assert abs(money(body["annual_income"]) - expected) < Decimal("0.05")
    assert money(body["annual_income"]) != money(
        client.get(f"/customer/{JOHN}/profile").json()["annual_income"]
    )


@pytest.mark.parametrize("sample", SAMPLE_CUSTOMERS, ids=lambda s: s.name)
def test_api_customers_is_the_originals_shape_with_the_same_figures(
    client: TestClient, sample: SampleCustomer
) -> None:
    response = client.get(f"/api/customers/{sample.customer_oid}")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"customer_oid", "profile", "preferences"}
    assert body["customer_oid"] == sample.customer_oid
    assert set(body["profile"]) == set(API_PROFILE_TYPES)
    assert set(body["preferences"]) == set(API_PREFERENCE_TYPES)
    for group, types in (("profile", API_PROFILE_TYPES), ("preferences", API_PREFERENCE_TYPES)):
        for field, allowed in types.items():
            assert isinstance(body[group][field], allowed), (group, field)
    assert all(isinstance(goal, str) for goal in body["profile"]["investment_goals"])
    native = client.get(f"/customer/{sample.customer_oid}/profile").json()
    for field in API_PROFILE_TYPES:
        assert body["profile"][field] == native[field], field
    for field in API_PREFERENCE_TYPES:
        assert body["preferences"][field] == native[field], field


@pytest.mark.parametrize("route", ["/customer/{oid}/profile", "/api/customers/{oid}"])
def test_unknown_is_404_and_malformed_is_400(client: TestClient, route: str) -> None:
    unknown = client.get(route.format(oid=UNKNOWN))
    assert unknown.status_code == 404
    assert unknown.json()["detail"] == f"Customer with CustomerOID '{UNKNOWN}' not found"
    malformed = client.get(route.format(oid="invalid-oid"))
    assert malformed.status_code == 400
    assert "Invalid CustomerOID format" in malformed.json()["detail"]
    currency = client.get(route.format(oid=JOHN) + "?currency=XYZ")
    assert currency.status_code == 400 and "currency" in currency.json()["detail"]


def test_both_routes_are_documented_under_their_tags(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    native = paths["/customer/{customer_oid}/profile"]["get"]
    assert native["tags"] == ["customers"] and native["summary"]
    original = paths["/api/customers/{customer_oid}"]["get"]
    assert original["tags"] == ["openbanking mcp"] and original["summary"]
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    described = schemas["CustomerProfileOut"]["properties"]
    assert all(described[f].get("description") for f in NATIVE_FIELDS)
    assert "income" in described["annual_income"]["description"]


# --- registration ------------------------------------------------------------------------


def test_a_registered_profile_round_trips(client: TestClient) -> None:
    registered = client.post(
        "/register-customer", json={"name": "Pro File", "profile": VALID_PROFILE}
    )
    assert registered.status_code == 200
    assert set(registered.json()) == {"customer_oid", "name", "message"}
    oid = registered.json()["customer_oid"]
    body = client.get(f"/customer/{oid}/profile").json()
    for field, value in VALID_PROFILE.items():
        expected = "+447700900123" if field == "phone" else value
        assert body[field] == expected, field
    assert body["kind"] == "person" and body["persona"] is None
    assert body["annual_income"] == 0 and body["net_worth"] == 0
    assert body["derived_from_books"] == ["annual_income", "net_worth"]
    api = client.get(f"/api/customers/{oid}").json()
    assert api["profile"]["email"] == VALID_PROFILE["email"]
    assert api["preferences"] == {
        "communication_method": "email",
        "portfolio_style": "balanced",
        "esg_investing": True,
    }


def test_a_company_registers_with_its_founding_date(client: TestClient) -> None:
    profile = {"founded_on": "2001-05-14", "email": "treasury@example.org"}
    oid = client.post(
        "/register-customer", json={"name": "Widget Works LLC", "profile": profile}
    ).json()["customer_oid"]
    body = client.get(f"/customer/{oid}/profile").json()
    assert body["kind"] == "company" and body["founded_on"] == "2001-05-14"
    assert body["date_of_birth"] is None


def test_without_a_profile_the_undeclared_fields_are_null_and_the_derived_ones_say_so(
    client: TestClient,
) -> None:
    oid = client.post("/register-customer", json={"name": "No Profile"}).json()["customer_oid"]
    body = client.get(f"/customer/{oid}/profile").json()
    for field in ("kind", "date_of_birth", "founded_on", "email", "phone", "time_horizon",
                  "communication_method", "portfolio_style", "esg_investing", "persona",
                  "risk_tolerance"):  # fmt: skip
        assert body[field] is None, field
    assert body["investment_goals"] == []
    assert body["investment_experience"] == "none"  # no trade at all
    assert body["derived_from_books"] == [
        "annual_income", "net_worth", "risk_tolerance", "investment_experience",
    ]  # fmt: skip
    api = client.get(f"/api/customers/{oid}").json()
    assert api["preferences"]["esg_investing"] is False
    assert api["profile"]["investment_goals"] == []


TOO_YOUNG = (date.today() - timedelta(days=17 * 365)).isoformat()
TOMORROW = (date.today() + timedelta(days=1)).isoformat()


@pytest.mark.parametrize(
    ("profile", "field"),
    [
        ({"date_of_birth": TOO_YOUNG}, "'profile.date_of_birth'"),
        ({"date_of_birth": "1890-01-01"}, "'profile.date_of_birth'"),
        ({"date_of_birth": TOMORROW}, "'profile.date_of_birth'"),
        ({"date_of_birth": "21/04/1988"}, "'profile.date_of_birth'"),
        ({"date_of_birth": 19880421}, "'profile.date_of_birth'"),
        ({"founded_on": TOMORROW}, "'profile.founded_on'"),
        ({"date_of_birth": "1980-01-01", "founded_on": "2000-01-01"}, "founded_on"),
        ({"kind": "company", "date_of_birth": "1980-01-01"}, "date_of_birth"),
        ({"kind": "robot"}, "'profile.kind'"),
        ({"email": "not an address"}, "'profile.email'"),
        ({"email": "a@localhost"}, "'profile.email'"),
        ({"email": 42}, "'profile.email'"),
        ({"phone": "555-0123"}, "'profile.phone'"),
        ({"phone": "+1 212 555 0123 4567 89"}, "'profile.phone'"),
        ({"risk_tolerance": "reckless"}, "'profile.risk_tolerance'"),
        ({"investment_experience": "expert"}, "'profile.investment_experience'"),
        ({"investment_goals": "retirement"}, "'profile.investment_goals'"),
        ({"investment_goals": ["x"] * 11}, "'profile.investment_goals'"),
        ({"investment_goals": [""]}, "'profile.investment_goals.0'"),
        ({"investment_goals": ["x" * 101]}, "'profile.investment_goals.0'"),
        ({"investment_goals": ["line\nbreak"]}, "'profile.investment_goals.0'"),
        ({"time_horizon": "forever"}, "'profile.time_horizon'"),
        ({"communication_method": "pigeon"}, "'profile.communication_method'"),
        ({"portfolio_style": "yolo"}, "'profile.portfolio_style'"),
        ({"esg_investing": "yes"}, "'profile.esg_investing'"),
        ({"esg_investing": 1}, "'profile.esg_investing'"),
        ({"annual_income": 100000}, "'profile.annual_income': unknown field"),
        ("a string", "'profile'"),
    ],
)
def test_each_bad_profile_field_is_400_naming_it_and_writes_nothing(
    client: TestClient, engine: Engine, profile: Any, field: str
) -> None:
    before = client.get("/customers").json()
    response = client.post(
        "/register-customer",
        json={"name": "Bad Profile", "customer_oid": UNKNOWN, "profile": profile},
    )
    assert response.status_code == 400, response.text
    assert field in response.json()["detail"]
    assert client.get("/customers").json() == before
    assert client.get(f"/customer/{UNKNOWN}/exists").json()["exists"] is False
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM customer_profiles")).scalar() == 5


def test_a_duplicate_registration_with_a_profile_leaves_the_first_profile(
    client: TestClient,
) -> None:
    response = client.post(
        "/register-customer", json={"name": "John Again", "customer_oid": JOHN,
                                    "profile": VALID_PROFILE},
    )  # fmt: skip
    assert response.status_code == 409
    assert client.get(f"/customer/{JOHN}/profile").json()["email"] == "john.doe@example.com"


def test_a_deleted_customer_loses_its_profile_and_its_cached_answers(
    client: TestClient, engine: Engine
) -> None:
    assert client.get(f"/customer/{JOHN}/profile").json()["kind"] == "person"
    assert client.get(f"/api/customers/{JOHN}").status_code == 200
    assert client.delete(f"/customer/{JOHN}").status_code == 200
    with engine.connect() as connection:
        left = connection.execute(
            text("SELECT count(*) FROM customer_profiles WHERE customer_oid = :oid"), {"oid": JOHN}
        ).scalar()
    assert left == 0
    assert client.get(f"/customer/{JOHN}/profile").status_code == 404
    assert client.get(f"/api/customers/{JOHN}").status_code == 404
    profile = {"founded_on": "1999-09-09"}
    client.post("/register-customer", json={"name": "Johnco", "customer_oid": JOHN,
                                            "profile": profile})  # fmt: skip
    again = client.get(f"/customer/{JOHN}/profile").json()
    assert (again["name"], again["kind"]) == ("Johnco", "company")
    assert again["founded_on"] == "1999-09-09"
    assert client.get(f"/api/customers/{JOHN}").json()["profile"]["name"] == "Johnco"


def test_in_a_sandbox_profiles_are_the_sandboxs_own(client: TestClient) -> None:
    sandbox = client.post("/sandboxes", json={}).json()["sandbox_id"]
    inside = {"X-Bank-Sandbox": sandbox}
    try:
        assert client.get(f"/customer/{JOHN}/profile", headers=inside).json() == (
            client.get(f"/customer/{JOHN}/profile").json()
        )
        assert client.delete(f"/customer/{JOHN}", headers=inside).status_code == 200
        for route in (f"/customer/{JOHN}/profile", f"/api/customers/{JOHN}"):
            assert client.get(route, headers=inside).status_code == 404
            assert client.get(route).status_code == 200
        # Registered again in the sandbox without a profile: the sample's went with the delete.
        client.post("/register-customer", json={"name": "John Doe", "customer_oid": JOHN},
                    headers=inside)  # fmt: skip
        assert client.get(f"/customer/{JOHN}/profile", headers=inside).json()["kind"] is None
        assert client.get(f"/customer/{JOHN}/profile").json()["kind"] == "person"
    finally:
        client.delete(f"/sandboxes/{sandbox}")


# --- the schema's history ------------------------------------------------------------


def test_an_upgraded_database_gives_the_samples_their_profiles(
    client: TestClient, engine: Engine, database_url: str
) -> None:
    columns = "customer_oid, kind, date_of_birth, founded_on, email, phone, risk_tolerance, " \
        "investment_experience, investment_goals, time_horizon, communication_method, " \
        "portfolio_style, esg_investing, persona"  # fmt: skip
    query = text(f"SELECT {columns} FROM customer_profiles ORDER BY customer_oid")
    with engine.connect() as connection:
        fresh = connection.execute(query).all()
    assert len(fresh) == 5
    migrating = create_db_engine(database_url)
    try:
        with migrating.begin() as connection:
            command.downgrade(_alembic_config(connection), "0004")
        with migrating.begin() as connection:
            assert not inspect(connection).has_table("customer_profiles")
            command.upgrade(_alembic_config(connection), "head")
        create_schema(migrating)  # at the head again: accepted as it is
        with migrating.connect() as connection:
            assert connection.execute(query).all() == fresh
            assert connection.execute(text("SELECT version_num FROM alembic_version")).scalar() == (
                schema_head()
            )
    finally:
        migrating.dispose()


# --- the synthetic population -----------------------------------------------------------


@pytest.fixture(scope="module")
def population(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """The samples and 300 synthetic customers of seed 42, served."""
    path: Path = tmp_path_factory.mktemp("profiles") / "bank.db"
    engine = create_db_engine(f"sqlite:///{path}")
    create_schema(engine)
    load_synthetic(engine, SYNTHETIC, seed=42, progress=False)
    engine.dispose()
    with TestClient(create_app(Settings(database_url=f"sqlite:///{path}"))) as client:
        yield client


@pytest.fixture(scope="module")
def profiles(population: TestClient) -> list[dict[str, Any]]:
    customers = population.get("/customers", params={"limit": 1000}).json()
    assert len(customers) == SYNTHETIC + 5
    return [population.get(f"/customer/{c['customer_oid']}/profile").json() for c in customers]


def population_engine(population: TestClient) -> Engine:
    found: Engine = population.app.state.engine  # type: ignore[attr-defined]
    return found


def test_every_synthetic_customer_declared_a_profile(profiles: list[dict[str, Any]]) -> None:
    synthetic = profiles[5:]
    assert all(p["kind"] in ("person", "company") for p in synthetic)
    assert all(p["persona"] in AGES or p["kind"] == "company" for p in synthetic)
    assert all(p["derived_from_books"] == ["annual_income", "net_worth"] for p in synthetic)
    assert {p["persona"] for p in synthetic} >= set(AGES) | {"small_business", "corporation"}


def fictional_country(phone: str) -> str | None:
    """The country whose range for fiction the number is in, or None."""
    if phone.startswith("+1") and len(phone) == 12 and phone[5:9] == "5550":
        return "US" if 100 <= int(phone[9:]) <= 199 else None
    if phone.startswith("+447700900") and len(phone) == 13:
        return "GB"
    for prefix in DE_DRAMA_NUMBERS.values():
        if phone.startswith("+" + prefix) and len(phone) == len(prefix) + 4:
            return "DE"
    return None


def test_contact_details_are_reserved_or_fictional(profiles: list[dict[str, Any]]) -> None:
    countries = set()
    for profile in profiles:
        domain = profile["email"].rpartition("@")[2]
        assert domain in EMAIL_DOMAINS, profile["email"]
        assert profile["email"].isascii() and profile["email"].islower()
        country = fictional_country(profile["phone"])
        assert country is not None, profile["phone"]
        assert profile["phone"][1:].isdigit()
        countries.add(country)
    assert countries == {"US", "GB", "DE"}


def test_ages_and_founding_dates_follow_the_persona(profiles: list[dict[str, Any]]) -> None:
    ages: dict[str, list[int]] = defaultdict(list)
    for profile in profiles[5:]:
        if profile["kind"] == "company":
            assert profile["date_of_birth"] is None and profile["age"] is None
            assert date.fromisoformat(profile["founded_on"]) < AS_OF
            assert profile["persona"] in ("small_business", "corporation")
            continue
        assert profile["founded_on"] is None
        low, high = AGES[profile["persona"]]
        assert low <= profile["age"] <= high, profile
        ages[profile["persona"]].append(profile["age"])
    assert statistics.mean(ages["retiree"]) > statistics.mean(ages["family"])
    assert statistics.mean(ages["family"]) > statistics.mean(ages["student"])
    assert min(ages["retiree"]) > max(ages["student"])


def test_goals_and_horizon_follow_age_and_persona(profiles: list[dict[str, Any]]) -> None:
    for profile in profiles[5:]:
        assert 1 <= len(profile["investment_goals"]) <= 3
        if profile["age"] is not None:
            assert profile["time_horizon"] == horizon_for_age(profile["age"]).value
        if profile["persona"] == "retiree":
            assert profile["time_horizon"] == "short"
            assert "retirement_income" in profile["investment_goals"] or (
                set(profile["investment_goals"])
                <= {"capital_preservation", "estate_planning", "healthcare"}
            )
            assert "children_education" not in profile["investment_goals"]
        if profile["persona"] == "student":
            assert profile["time_horizon"] == "long"
            assert "retirement_income" not in profile["investment_goals"]
        if profile["kind"] == "company":
            assert profile["time_horizon"] in ("short", "medium", "long")
            assert not {"retirement_income", "children_education"} & set(
                profile["investment_goals"]
            )


def test_risk_tolerance_follows_what_is_held(
    population: TestClient, profiles: list[dict[str, Any]]
) -> None:
    volatility: dict[str, list[float]] = defaultdict(list)
    for profile in profiles[5:]:
        summary = population.get(f"/customer/{profile['customer_oid']}/summary").json()
        assert profile["net_worth"] == summary["totals"]["net_worth"]
        held = summary["performance"]["annualized_volatility_percent"]
        if summary["holdings"] and held is not None:
            volatility[profile["risk_tolerance"]].append(held)
        if summary["derivatives"]["open_positions"] or summary["total_derivative_positions"]:
            assert profile["risk_tolerance"] == "aggressive"
            assert profile["investment_experience"] == "advanced"
        if not summary["holdings"] and not summary["total_derivative_positions"]:
            assert profile["risk_tolerance"] == "conservative"
        types = {h["asset_type"] for h in summary["holdings"]}
        if types and types <= {"bond"}:
            assert profile["risk_tolerance"] == "conservative"
    means = {risk: statistics.mean(found) for risk, found in volatility.items()}
    assert means["aggressive"] > means["moderate"] > means["conservative"], means


def test_experience_follows_the_trades(
    population: TestClient, profiles: list[dict[str, Any]]
) -> None:
    engine = population_engine(population)
    with engine.connect() as connection:
        trades: dict[str, int] = dict(
            connection.execute(
                text(
                    "SELECT customer_oid, count(*) FROM transactions "
                    "WHERE transaction_type IN ('buy', 'sell') GROUP BY customer_oid"
                )
            ).all()
        )
    for profile in profiles[5:]:
        if not trades.get(profile["customer_oid"]):
            assert profile["investment_experience"] in ("none", "beginner")
        else:
            assert profile["investment_experience"] != "none"


def test_annual_income_is_every_income_credit_of_the_year(
    population: TestClient, profiles: list[dict[str, Any]]
) -> None:
    engine = population_engine(population)
    paid = 0
    for profile in profiles[5:]:
        expected, currency = income_from_rows(engine, profile["customer_oid"])
        found = profile
        if currency != found["base_currency"]:
            # Asked in the currency the customer is paid in, the sum is exact.
            found = population.get(
                f"/customer/{profile['customer_oid']}/profile", params={"currency": currency}
            ).json()
        assert money(found["annual_income"]) == expected, profile["customer_oid"]
        paid += expected > 0
    assert paid > SYNTHETIC * 0.9


def test_the_same_seed_declares_the_same_profiles(
    population: TestClient, profiles: list[dict[str, Any]], tmp_path: Path
) -> None:
    engine = create_db_engine(f"sqlite:///{tmp_path / 'again.db'}")
    create_schema(engine)
    load_synthetic(engine, 60, seed=42, batch_size=7, progress=False)
    query = text("SELECT * FROM customer_profiles ORDER BY customer_oid")
    with engine.connect() as connection:
        again = connection.execute(query).all()
    engine.dispose()
    with population_engine(population).connect() as connection:
        first = {row[0]: row for row in connection.execute(query).all()}
    assert len(again) == 65
    assert all(first[row[0]] == row for row in again)
    goals = [json.loads(row.investment_goals) for row in again]
    assert all(isinstance(g, list) and all(isinstance(x, str) for x in g) for g in goals)


# --- the rule -------------------------------------------------------------------------


def record(values: dict[str, int], types: dict[str, str], **more: int) -> InvestingRecord:
    return InvestingRecord(
        values={symbol: Decimal(v) for symbol, v in values.items()},
        asset_types=types,
        trades=more.get("trades", len(values)),
        symbols_traded=more.get("symbols", len(values)),
        derivatives=more.get("derivatives", 0),
    )


@pytest.mark.parametrize(
    ("held", "types", "more", "risk", "experience"),
    [
        ({}, {}, {}, None, "none"),
        ({"SPY": 60, "US10Y": 40}, {"SPY": "etf", "US10Y": "bond"}, {}, "moderate", "beginner"),
        ({"SPY": 40, "US10Y": 60}, {"SPY": "etf", "US10Y": "bond"}, {}, "conservative",
         "beginner"),
        ({"SPY": 70, "BTC": 30}, {"SPY": "etf", "BTC": "crypto"}, {}, "aggressive", "beginner"),
        ({"TSLA": 50, "SPY": 50}, {"TSLA": "stock", "SPY": "etf"}, {"trades": 12},
         "aggressive", "intermediate"),
        ({"SPY": 100}, {"SPY": "etf"}, {"derivatives": 1}, "aggressive", "advanced"),
        ({"A": 1, "B": 1, "C": 1, "D": 1}, dict.fromkeys("ABCD", "etf"), {}, "moderate",
         "intermediate"),
    ],
)  # fmt: skip
def test_the_rule_reads_risk_and_experience_off_the_books(
    held: dict[str, int],
    types: dict[str, str],
    more: dict[str, int],
    risk: str | None,
    experience: str,
) -> None:
    found = record(held, types, **more)
    assert (risk_tolerance(found) or None) == risk
    assert investment_experience(found) == experience


def test_the_answer_key_asks_for_a_years_income(client: TestClient) -> None:
    key = client.get("/eval/questions", params={"count": 5, "kinds": "annual_income"}).json()
    assert key["count"] == 5
    for question in key["questions"]:
        oid, currency = question["parameters"]["c"], question["parameters"]["k"]
        assert question["tolerance"] == {"absolute": "0.005", "relative": "0"}
        assert question["evidence"][0]["path"] == f"/customer/{oid}/profile"
        expected = next(s for s in SAMPLE_CUSTOMERS if s.customer_oid == oid)
        assert Decimal(question["answer"]["value"]) == Decimal(expected.monthly_income) * 12
        assert question["answer"]["currency"] == currency == "USD"
