"""Who a customer pays: a catalogue of fictional merchants, employers and billers.

Every name is put together from parts (``Harvest`` + ``Market``), so none is a
real company's; every merchant has a category, the card network's merchant
category code (MCC) for it, a city and a typical ticket in cents. Categories
roll up into groups like the ones aggregators show (``TAXONOMY``). The
catalogue is built from a fixed seed at import, the same on every run.
"""

import random
from dataclasses import dataclass

TAXONOMY: dict[str, str] = {
    "groceries": "FOOD_AND_DRINK",
    "dining": "FOOD_AND_DRINK",
    "coffee": "FOOD_AND_DRINK",
    "transport": "TRANSPORTATION",
    "fuel": "TRANSPORTATION",
    "shopping": "GENERAL_MERCHANDISE",
    "clothing": "GENERAL_MERCHANDISE",
    "electronics": "GENERAL_MERCHANDISE",
    "home": "HOME_IMPROVEMENT",
    "entertainment": "ENTERTAINMENT",
    "subscriptions": "ENTERTAINMENT",
    "travel": "TRAVEL",
    "healthcare": "MEDICAL",
    "personal_care": "PERSONAL_CARE",
    "fitness": "PERSONAL_CARE",
    "pets": "GENERAL_SERVICES",
    "education": "GENERAL_SERVICES",
    "insurance": "GENERAL_SERVICES",
    "utilities": "RENT_AND_UTILITIES",
    "phone": "RENT_AND_UTILITIES",
    "rent": "RENT_AND_UTILITIES",
    "mortgage": "LOAN_PAYMENTS",
    "taxes": "GOVERNMENT_AND_NON_PROFIT",
    "income": "INCOME",
    "interest": "INCOME",
    "dividends": "INCOME",
    "transfer": "TRANSFER",
    "cash": "CASH",
    "fees": "BANK_FEES",
    "investment": "INVESTMENT",
    "derivatives": "INVESTMENT",
    "office": "BUSINESS_SERVICES",
    "software": "BUSINESS_SERVICES",
    "marketing": "BUSINESS_SERVICES",
    "shipping": "BUSINESS_SERVICES",
    "payroll_services": "BUSINESS_SERVICES",
}
"""Category -> the group it rolls up into."""

CITIES: dict[str, tuple[tuple[str, str], ...]] = {
    "US": (
        ("NEW YORK", "NY"), ("BROOKLYN", "NY"), ("BOSTON", "MA"), ("CHICAGO", "IL"),
        ("AUSTIN", "TX"), ("HOUSTON", "TX"), ("DALLAS", "TX"), ("DENVER", "CO"),
        ("SEATTLE", "WA"), ("PORTLAND", "OR"), ("SAN DIEGO", "CA"), ("OAKLAND", "CA"),
        ("LOS ANGELES", "CA"), ("PHOENIX", "AZ"), ("ATLANTA", "GA"), ("MIAMI", "FL"),
        ("TAMPA", "FL"), ("CHARLOTTE", "NC"), ("NASHVILLE", "TN"), ("COLUMBUS", "OH"),
        ("MINNEAPOLIS", "MN"), ("PHILADELPHIA", "PA"), ("PITTSBURGH", "PA"), ("RALEIGH", "NC"),
    ),
    "DE": (
        ("BERLIN", "DE"), ("HAMBURG", "DE"), ("MUENCHEN", "DE"), ("KOELN", "DE"),
        ("FRANKFURT", "DE"), ("STUTTGART", "DE"), ("DUESSELDORF", "DE"), ("LEIPZIG", "DE"),
        ("DRESDEN", "DE"), ("HANNOVER", "DE"), ("NUERNBERG", "DE"), ("BREMEN", "DE"),
    ),
    "GB": (
        ("LONDON", "GB"), ("MANCHESTER", "GB"), ("BIRMINGHAM", "GB"), ("LEEDS", "GB"),
        ("GLASGOW", "GB"), ("EDINBURGH", "GB"), ("BRISTOL", "GB"), ("LIVERPOOL", "GB"),
        ("CARDIFF", "GB"), ("NOTTINGHAM", "GB"), ("SHEFFIELD", "GB"), ("OXFORD", "GB"),
    ),
}  # fmt: skip


@dataclass(frozen=True)
class CategorySpec:
    mcc: str
    low: int
    high: int
    """A merchant's typical ticket lies between these, in whole currency units."""
    prefixes: tuple[str, ...]
    nouns: tuple[str, ...]
    per_city: int
    """Merchants of this category in each city; 0 for those only reached online."""
    online: int = 0
    """Merchants of this category that sell online only, for every country."""


CATEGORIES: dict[str, CategorySpec] = {
    "groceries": CategorySpec(
        "5411", 18, 140,
        ("Fresh", "Green Valley", "Harvest", "Corner", "Maple", "Sunrise", "Riverside",
         "Golden Basket", "Orchard", "Hilltop", "Prairie", "Bayside", "Evergreen", "Meadow"),
        ("Market", "Grocers", "Foods", "Pantry", "Food Co-op", "Supermarket"), 6, 2),
    "dining": CategorySpec(
        "5812", 14, 95,
        ("Little", "Blue Door", "Copper", "Olive", "Red Lantern", "Saffron", "Salt & Pine",
         "Brick", "Harbor", "Juniper", "Lucky", "Smoky", "Twin Oak", "Velvet"),
        ("Kitchen", "Bistro", "Grill", "Trattoria", "Noodle Bar", "Taqueria", "Diner",
         "Burger Co", "Sushi", "Pizzeria"), 10, 2),
    "coffee": CategorySpec(
        "5814", 4, 14,
        ("Daily", "Morning", "Bean", "Roast", "Steam", "Crema", "Grind", "North Star"),
        ("Coffee", "Espresso Bar", "Cafe", "Roasters", "Bakery"), 4),
    "transport": CategorySpec(
        "4121", 8, 45,
        ("Zip", "Metro", "City", "Swift", "Blue Line", "Hop"),
        ("Rides", "Cab", "Transit", "Parking", "Scooters"), 2, 3),
    "fuel": CategorySpec(
        "5541", 30, 85,
        ("Star", "Summit", "Eagle", "Liberty", "Pioneer", "Crossroads"),
        ("Fuel", "Gas", "Petrol", "Energy Stop"), 3),
    "shopping": CategorySpec(
        "5311", 15, 160,
        ("Everyday", "Main Street", "Union", "Kingsley", "Crescent", "Parkside", "Northgate"),
        ("Store", "Department Store", "Outlet", "Emporium", "General Goods", "Mart"), 3, 12),
    "clothing": CategorySpec(
        "5651", 25, 180,
        ("Thread", "Linen", "Denim", "Tailor", "Wool", "Stitch", "Urban"),
        ("& Co", "Apparel", "Outfitters", "Clothing", "Boutique"), 2, 8),
    "electronics": CategorySpec(
        "5732", 25, 600,
        ("Circuit", "Pixel", "Volt", "Byte", "Signal", "Nova"),
        ("Electronics", "Tech", "Gadgets", "Devices"), 1, 6),
    "home": CategorySpec(
        "5200", 20, 240,
        ("Hammer", "Timber", "Nest", "Hearth", "Cedar", "Homestead"),
        ("Hardware", "Home Supply", "Garden Center", "Living"), 1, 4),
    "entertainment": CategorySpec(
        "7832", 12, 90,
        ("Starlight", "Grand", "Marquee", "Orbit", "Lakeside", "Paramount Hill"),
        ("Cinema", "Theatre", "Bowling", "Arena", "Arcade", "Live"), 2, 3),
    "subscriptions": CategorySpec(
        "4899", 5, 25,
        ("Stream", "Melodia", "Cloud", "Pocket", "Story", "Pixel", "Echo", "Daily"),
        ("Box", "Music", "Vault", "News", "Play", "Plus", "TV", "Books"), 0, 40),
    "travel": CategorySpec(
        "4511", 90, 900,
        ("Skyway", "Atlas", "Compass", "Horizon", "Harbor", "Wayfarer", "Northwind"),
        ("Airlines", "Hotels", "Inn", "Car Rental", "Travel", "Resorts"), 0, 30),
    "healthcare": CategorySpec(
        "5912", 10, 220,
        ("Wellspring", "Caremark", "Lifeline", "Oakview", "Healing Hands", "Bright"),
        ("Pharmacy", "Medical Group", "Dental", "Clinic", "Eye Care"), 3),
    "personal_care": CategorySpec(
        "7230", 18, 90,
        ("Glow", "Shear", "Polished", "Velvet", "Clean Cut"),
        ("Salon", "Barbers", "Spa", "Nails"), 2),
    "fitness": CategorySpec(
        "7997", 25, 90,
        ("Iron", "Peak", "Core", "Pulse", "Flex"),
        ("Fitness", "Gym", "Yoga", "Climbing"), 2),
    "pets": CategorySpec(
        "5995", 15, 120,
        ("Happy Paws", "Whisker", "Tail", "Furry"),
        ("Pet Supply", "Vet", "Grooming"), 1, 2),
    "education": CategorySpec(
        "8220", 40, 600,
        ("Bright Path", "Scholar", "Learn", "Quill"),
        ("Academy", "Bookstore", "Courses", "Tutoring"), 0, 8),
    "insurance": CategorySpec(
        "6300", 80, 260,
        ("Shield", "Harbor", "Keystone", "Guardian Oak", "Sentinel"),
        ("Insurance", "Mutual", "Assurance"), 0, 10),
    "office": CategorySpec(
        "5111", 60, 2500,
        ("Paper", "Desk", "Office", "Work"),
        ("Supply", "Depot", "Space", "Hub"), 1, 8),
    "software": CategorySpec(
        "7372", 50, 4000,
        ("Cloud", "Stack", "Ledger", "Task", "Data", "Sync"),
        ("Works", "Forge", "Base", "Flow", "Desk"), 0, 30),
    "marketing": CategorySpec(
        "7311", 200, 9000,
        ("Reach", "Spark", "Signal", "Bold", "Clear"),
        ("Ads", "Media", "Agency", "Promotions"), 0, 16),
    "shipping": CategorySpec(
        "4215", 15, 900,
        ("Swift", "Parcel", "Express", "Courier"),
        ("Post", "Freight", "Logistics"), 0, 8),
}  # fmt: skip

UTILITY_BILLERS = ("Power & Light", "Water Authority", "Gas Company", "Energy")
PHONE_CARRIERS = ("Mobile", "Wireless", "Telecom", "Broadband")


@dataclass(frozen=True)
class Merchant:
    name: str
    description: str
    """What the statement shows: name, store number and city, or the web address."""
    category: str
    mcc: str
    channel: str
    """card (in person) or online."""
    typical: int
    """Typical ticket, in cents."""
    country: str
    city: str | None


def _build() -> tuple[Merchant, ...]:
    rng = random.Random("dummy-bank-merchants-v1")
    merchants: list[Merchant] = []
    seen: set[str] = set()

    def add(category: str, spec: CategorySpec, country: str, city: tuple[str, str] | None) -> None:
        for _ in range(20):
            name = f"{rng.choice(spec.prefixes)} {rng.choice(spec.nouns)}"
            key = f"{name}|{country}|{city}"
            if key not in seen:
                break
        seen.add(key)
        typical = rng.randint(spec.low * 100, spec.high * 100)
        if city is None:
            slug = "".join(ch for ch in name.upper() if ch.isalnum())[:18]
            tld = {"US": "COM", "DE": "DE", "GB": "CO.UK"}[country]
            description = f"{slug}.{tld}"
            merchants.append(
                Merchant(name, description, category, spec.mcc, "online", typical, country, None)
            )
        else:
            store = rng.randint(100, 9999)
            description = f"{name.upper()} #{store} {city[0]} {city[1]}"
            merchants.append(
                Merchant(name, description, category, spec.mcc, "card", typical, country, city[0])
            )

    for category, spec in CATEGORIES.items():
        for country, cities in CITIES.items():
            for city in cities:
                for _ in range(spec.per_city):
                    add(category, spec, country, city)
            for _ in range(spec.online):
                add(category, spec, country, None)
    return tuple(merchants)


MERCHANTS: tuple[Merchant, ...] = _build()


def local_merchants() -> dict[tuple[str, str | None, str], list[Merchant]]:
    """Merchants by (country, city, category); city None for online merchants."""
    found: dict[tuple[str, str | None, str], list[Merchant]] = {}
    for merchant in MERCHANTS:
        found.setdefault((merchant.country, merchant.city, merchant.category), []).append(merchant)
    return found
