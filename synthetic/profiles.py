"""What each synthetic customer declares in its profile, drawn when its book is generated.

The profile draws from a random stream of its own (``Random(f"profile:{customer_oid}")``),
never from the book's: adding profiles changed no other generated figure. What it declares
agrees with the book: a date of birth in the persona's age range (a business has a founding
date instead), risk tolerance and experience by the rule the service applies to the books
(``analysis.profiles``), goals and horizon by age and persona. Contact details are fake on
purpose: addresses at the domains RFC 2606 reserves, phone numbers in ranges the regulators
keep for fiction (see ``fake_phone``).
"""

import json
import random
import unicodedata
from collections.abc import Mapping
from datetime import date, timedelta
from decimal import Decimal

from analysis.profiles import (
    InvestingRecord,
    age_on,
    horizon_for_age,
    investment_experience,
    risk_tolerance,
)
from market.merchants import CITIES
from market.model import AS_OF, ScaledMarket
from models import CommunicationMethod, PortfolioStyle, RiskTolerance, TimeHorizon
from synthetic.personas import Persona

EMAIL_DOMAINS = ("example.com", "example.org", "example.net")
"""The second-level domains RFC 2606 reserves for examples: no mail is ever delivered there."""

AGES: dict[str, tuple[int, int]] = {
    "student": (18, 25), "young_professional": (23, 35), "family": (30, 52),
    "retiree": (63, 85), "high_net_worth": (35, 72), "empty": (20, 80),
}  # fmt: skip
"""Age on the market's last day, by persona (businesses have a founding date instead)."""
FOUNDED_YEARS_BEFORE_JOINING: dict[str, tuple[int, int]] = {
    "small_business": (1, 25), "corporation": (5, 80),
}  # fmt: skip

GOALS: dict[str, tuple[str, ...]] = {
    "student": ("education", "emergency_fund", "travel", "home_purchase"),
    "young_professional": ("home_purchase", "wealth_growth", "emergency_fund", "retirement",
                           "travel"),
    "family": ("children_education", "retirement", "mortgage_payoff", "emergency_fund"),
    "retiree": ("retirement_income", "capital_preservation", "estate_planning", "healthcare"),
    "high_net_worth": ("wealth_growth", "estate_planning", "tax_efficiency", "early_retirement",
                       "philanthropy"),
    "small_business": ("business_expansion", "cash_management", "retirement"),
    "corporation": ("cash_management", "capital_preservation", "business_expansion"),
    "empty": ("emergency_fund", "retirement"),
}  # fmt: skip
"""Goals each persona draws two from (the first is the one it names first most often)."""

CONTACT: dict[str, Mapping[CommunicationMethod, float]] = {
    "student": {CommunicationMethod.sms: 3, CommunicationMethod.email: 2},
    "young_professional": {CommunicationMethod.email: 3, CommunicationMethod.sms: 2},
    "family": {CommunicationMethod.email: 3, CommunicationMethod.phone: 1,
               CommunicationMethod.sms: 1},
    "retiree": {CommunicationMethod.mail: 2, CommunicationMethod.phone: 2,
                CommunicationMethod.email: 1},
    "high_net_worth": {CommunicationMethod.phone: 3, CommunicationMethod.email: 2},
    "small_business": {CommunicationMethod.email: 4, CommunicationMethod.phone: 1},
    "corporation": {CommunicationMethod.email: 1},
    "empty": {CommunicationMethod.email: 2, CommunicationMethod.mail: 1},
}  # fmt: skip
ESG_SHARE = {
    "student": 0.45, "young_professional": 0.35, "family": 0.25, "retiree": 0.15,
    "high_net_worth": 0.3, "small_business": 0.2, "corporation": 0.5, "empty": 0.1,
}  # fmt: skip

US_AREA_CODES = {
    "NEW YORK": "212", "BROOKLYN": "718", "BOSTON": "617", "CHICAGO": "312", "AUSTIN": "512",
    "HOUSTON": "713", "DALLAS": "214", "DENVER": "303", "SEATTLE": "206", "PORTLAND": "503",
    "SAN DIEGO": "619", "OAKLAND": "510", "LOS ANGELES": "213", "PHOENIX": "602",
    "ATLANTA": "404", "MIAMI": "305", "TAMPA": "813", "CHARLOTTE": "704", "NASHVILLE": "615",
    "COLUMBUS": "614", "MINNEAPOLIS": "612", "PHILADELPHIA": "215", "PITTSBURGH": "412",
    "RALEIGH": "919",
}  # fmt: skip
DE_DRAMA_NUMBERS = {
    "BERLIN": "493023125", "FRANKFURT": "496990009", "HAMBURG": "494066969",
    "KOELN": "492214710", "MUENCHEN": "498999998",
}  # fmt: skip
"""The Bundesnetzagentur's numbers for media (Mitteilung 148/2021): 1,000 in each of five
local networks, e.g. +49 30 23125 000 to 999 in Berlin."""


def fake_phone(country: str, city: str, rng: random.Random) -> str:
    """A phone number in E.164 form that belongs to no one:

    - US: +1, the city's area code, 555-0100 to 555-0199 (the North American Numbering Plan
      keeps 555-01XX for fiction in every area code);
    - GB: +44 7700 900000 to 900999 (Ofcom's mobile drama numbers);
    - DE: the Bundesnetzagentur's drama numbers: Berlin, Frankfurt, Hamburg, Cologne or
      Munich, 000 to 999 after the local prefix (the city's own, else one of the five).
    """
    if country == "US":
        return f"+1{US_AREA_CODES.get(city, '212')}5550{rng.randint(100, 199)}"
    if country == "GB":
        return f"+447700900{rng.randint(0, 999):03d}"
    prefix = DE_DRAMA_NUMBERS.get(city) or rng.choice(sorted(DE_DRAMA_NUMBERS.values()))
    return f"+{prefix}{rng.randint(0, 999):03d}"


def email_local_part(name: str) -> str:
    """The name's words in lower-case ASCII, joined by dots: Jürgen Weiß -> juergen.weiss."""
    words = []
    for word in name.split():
        spelled = word.casefold().replace("ä", "ae").replace("ö", "oe").replace("ü", "ue")
        spelled = unicodedata.normalize("NFKD", spelled.replace("ß", "ss"))
        kept = "".join(ch for ch in spelled if ch.isascii() and ch.isalnum())
        if kept:
            words.append(kept)
    return ".".join(words) or "customer"


def _weighted(rng: random.Random, weights: Mapping[CommunicationMethod, float]) -> str:
    draw, total = rng.random() * sum(weights.values()), 0.0
    for method, weight in weights.items():
        total += weight
        if draw < total:
            return method.value
    return next(iter(weights)).value


def investing_record(
    market: ScaledMarket, trades: Mapping[str, list[tuple[date, int, int]]], derivatives: int
) -> InvestingRecord:
    """A book's trades as the rule reads them: each holding at its last close (in the
    instrument's own currency: the shares, not the total, matter to the rule)."""
    values = {}
    for symbol, booked in trades.items():
        held = sum(quantity for _, quantity, _ in booked)
        if held > 0:
            values[symbol] = Decimal(held * market.close_on_or_before(symbol, AS_OF)[1])
    return InvestingRecord(
        values=values,
        asset_types=market.asset_type,
        trades=sum(len(booked) for booked in trades.values()),
        symbols_traded=len(trades),
        derivatives=derivatives,
    )


def draw_profile(
    oid: str,
    name: str,
    persona: Persona,
    country: str,
    city: str | None,
    joined: date,
    record: InvestingRecord,
) -> dict[str, object]:
    """One customer's ``customer_profiles`` row, by column name (dates as ISO text)."""
    rng = random.Random(f"profile:{oid}")
    city = city or rng.choice(CITIES[country])[0]
    born = founded = None
    if persona.business:
        low, high = FOUNDED_YEARS_BEFORE_JOINING[persona.name]
        founded = joined - timedelta(rng.randint(low * 365, high * 365))
        horizon = rng.choice((TimeHorizon.medium, TimeHorizon.long))
        if persona.name == "corporation":
            horizon = rng.choice((TimeHorizon.short, TimeHorizon.medium))
    else:
        age = rng.randint(*AGES[persona.name])
        anniversary = date(AS_OF.year - age, AS_OF.month, AS_OF.day)
        born = anniversary - timedelta(rng.randint(1, 364))
        horizon = horizon_for_age(age_on(born, AS_OF))
    local = email_local_part(name)
    if not persona.business and rng.random() < 0.5:
        local += f"{rng.randint(1, 99):02d}"
    risk = risk_tolerance(record) or RiskTolerance.conservative
    if persona.name == "retiree" and risk == RiskTolerance.moderate:
        risk = RiskTolerance.conservative  # a pension to protect, and a short horizon
    style = {
        RiskTolerance.aggressive: PortfolioStyle.growth,
        RiskTolerance.moderate: PortfolioStyle.balanced,
        RiskTolerance.conservative: PortfolioStyle.income
        if persona.name == "retiree"
        else PortfolioStyle.preservation,
    }[risk]
    pool = GOALS[persona.name]
    # The persona's first goal leads half the time; the rest are drawn.
    goals = [pool[0]] if rng.random() < 0.5 else []
    goals += rng.sample([g for g in pool if g not in goals], 2 - len(goals))
    return {
        "customer_oid": oid,
        "kind": "company" if persona.business else "person",
        "date_of_birth": born and born.isoformat(),
        "founded_on": founded and founded.isoformat(),
        "email": f"{local}@{rng.choice(EMAIL_DOMAINS)}",
        "phone": fake_phone(country, city, rng),
        "risk_tolerance": risk.value,
        "investment_experience": investment_experience(record).value,
        "investment_goals": json.dumps(goals),
        "time_horizon": horizon.value,
        "communication_method": _weighted(rng, CONTACT[persona.name]),
        "portfolio_style": style.value,
        "esg_investing": rng.random() < ESG_SHARE[persona.name],
        "persona": persona.name,
    }
