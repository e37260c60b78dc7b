"""The statement flows of a synthetic customer: what its current and savings accounts show.

Pay or a business's receipts, housing, bills and subscriptions, card spending
at the merchants of its city and online, cash and fees, savings and their
interest, and taxes. Each flow draws from the customer's random stream in a
fixed order; ``CustomerBook.fill`` calls them in a fixed order too.
"""

from bisect import bisect_right
from collections.abc import Iterable
from datetime import date, timedelta
from functools import cache

from market.calendars import is_open, month_end, on_or_after, on_or_before
from market.merchants import CATEGORIES, PHONE_CARRIERS, UTILITY_BILLERS, Merchant, local_merchants
from market.model import AS_OF
from synthetic.book import INDUSTRIES, MONEY_UNIT, Book, Picker, iso

TAX_MONTHS = {
    "US": ((1, 15), (4, 15), (6, 15), (9, 15)),
    "DE": ((3, 10), (6, 10), (9, 10), (12, 10)),
    "GB": ((1, 31), (7, 31)),
}
LOCAL_MERCHANTS = local_merchants()
CATEGORY_MEAN = {
    category: (spec.low + spec.high) * MONEY_UNIT // 2 for category, spec in CATEGORIES.items()
}


@cache
def _business_days(calendar: str, first: date, last: date) -> tuple[date, ...]:
    return tuple(
        first + timedelta(n)
        for n in range((last - first).days + 1)
        if is_open(calendar, first + timedelta(n))
    )


@cache
def _next_business_day(calendar: str, day: date) -> date:
    return on_or_after(calendar, day + timedelta(1))


@cache
def _month_days(calendar: str, first: date, last: date) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The days from ``first`` to ``last`` and the business day each posts on, as text."""
    days = [first + timedelta(n) for n in range((last - first).days + 1)]
    posted = [iso(min(_next_business_day(calendar, day), AS_OF)) for day in days]
    return tuple(iso(day) for day in days), tuple(posted)


class Statements(Book):
    """The flows through a customer's checking and savings accounts."""

    def recurring(
        self,
        days: Iterable[date],
        kind: str,
        description: str,
        category: str,
        cents: int,
        channel: str,
        counterparty: str,
    ) -> None:
        """The same transaction on the checking account on each of ``days``."""
        for day in days:
            self.book(
                self.checking,
                day,
                kind,
                description,
                category,
                cents,
                self.currency,
                channel,
                merchant=counterparty,
            )

    def first_business_days(self) -> list[date]:
        """The first business day of each month of the history, up to the market's last."""
        days = (on_or_after(self.calendar, month) for month in self.months)
        return [day for day in days if self.start <= day <= AS_OF]

    def payroll(self) -> None:
        rng, p, locale = self.rng, self.p, self.locale
        frequency = rng.choice(p.pay)
        if p.name == "retiree":
            payer = locale.pension
        else:
            industry = rng.choice(INDUSTRIES)
            payer = f"{locale.last(rng)} {industry} {rng.choice(locale.company_suffixes)}"
        per_year = {"monthly": 12, "semimonthly": 24, "biweekly": 26}[frequency]
        pay = self.income * 12 // per_year
        dates: list[date] = []
        if frequency == "biweekly":
            friday = date(2023, 1, 6) + timedelta(7 * rng.randint(0, 1))
            while friday <= AS_OF:
                if friday >= self.start:
                    dates.append(on_or_before(self.calendar, friday))
                friday += timedelta(14)
        else:
            for month in self.months:
                days = [month_end(month)]
                if frequency == "semimonthly":
                    days.insert(0, month + timedelta(14))
                if p.name == "retiree":
                    days = [month + timedelta(2)]
                for day in days:
                    paid = on_or_before(self.calendar, day)
                    if self.start <= paid <= AS_OF:
                        dates.append(paid)
        description = (
            payer
            if p.name == "retiree"
            else f"PAYROLL {payer.upper()[:60]} PPD ID {self.index % 9973:04d}"
        )
        self.recurring(dates, "deposit", description, "income", pay, "ach", payer)
        if p.name == "student":
            family = f"{self.name.split()[-1]} family"
            support = rng.randint(2, 8) * 50 * MONEY_UNIT
            self.recurring(
                self.first_business_days(),
                "transfer",
                f"TRANSFER FROM {family.upper()}",
                "transfer",
                support,
                "transfer",
                family,
            )

    def receipts(self) -> None:
        """A business is paid by its clients: many receipts a month, by ACH or wire."""
        rng, locale = self.rng, self.locale
        corporation = self.p.name == "corporation"
        clients = [
            f"{locale.last(rng)} {rng.choice(INDUSTRIES)} {rng.choice(locale.company_suffixes)}"
            for _ in range(rng.randint(4, 20))
        ]
        channel = "wire" if corporation else "ach"
        for month in self.months:
            first, last = self.days_of(month)
            open_days = _business_days(self.calendar, first, last)
            if not open_days:
                continue
            count = rng.randint(8, 25)
            for _ in range(count):
                amount = int(self.income / count * rng.uniform(0.3, 1.7))
                client = rng.choice(clients)
                day = rng.choice(open_days)
                self.book(
                    self.checking,
                    day,
                    "deposit",
                    f"{channel.upper()} FROM {client.upper()}",
                    "income",
                    amount,
                    self.currency,
                    channel,
                    merchant=client,
                )
            payroll = self.income * rng.randint(30, 45) // 100
            provider = "Keystone Payroll Services"
            for day in (month + timedelta(14), month_end(month)):
                paid = on_or_before(self.calendar, day)
                if first <= paid <= last:
                    self.book(
                        self.checking,
                        paid,
                        "withdrawal",
                        "KEYSTONE PAYROLL NET PAY",
                        "payroll_services",
                        -(payroll // 2),
                        self.currency,
                        "ach",
                        merchant=provider,
                    )
            if corporation:
                for _ in range(rng.randint(3, 10)):
                    supplier = rng.choice(clients)
                    amount = int(self.income * rng.uniform(0.01, 0.04))
                    day = rng.choice(open_days)
                    self.book(
                        self.checking,
                        day,
                        "withdrawal",
                        f"WIRE TO {supplier.upper()}",
                        "shipping",
                        -amount,
                        self.currency,
                        "wire",
                        merchant=supplier,
                    )
                    self.book(
                        self.checking,
                        day,
                        "fee",
                        "OUTGOING WIRE FEE",
                        "fees",
                        -25 * MONEY_UNIT,
                        self.currency,
                        "internal",
                    )

    def housing(self) -> None:
        rng, p = self.rng, self.p
        if p.housing is None:
            return
        amount = int(self.income * rng.uniform(*p.housing_share)) // 100 * 100
        if p.housing == "mortgage":
            payee = f"{rng.choice(('Keystone', 'Harbor', 'Summit', 'Liberty'))} Home Loans"
            description = f"{payee.upper()} MORTGAGE PMT"
        else:
            landlord = f"{self.locale.last(self.rng)} Property Management"
            payee = landlord
            description = f"RENT {landlord.upper()}"
        self.recurring(
            self.first_business_days(), "withdrawal", description, p.housing, -amount, "ach", payee
        )

    def bills(self) -> None:
        """Utilities, phone, insurance and subscriptions: one biller, about the same day and
        amount every month (utilities follow the seasons)."""
        rng, p = self.rng, self.p
        city = self.city.title()
        recurring: list[tuple[str, str, str, int, int, str, str, str | None]] = []
        scale = max(1, self.income // (6000 * MONEY_UNIT))
        utility = f"{city} {rng.choice(UTILITY_BILLERS)}"
        recurring.append(
            (
                "withdrawal",
                "utilities",
                utility,
                rng.randint(60, 180) * MONEY_UNIT * scale,
                rng.randint(3, 25),
                "ach",
                f"{utility.upper()} AUTOPAY",
                "4900",
            )
        )
        brand = rng.choice(("Bluewave", "Cellnet", "Skyline", "Horizon Peak"))
        carrier = f"{brand} {rng.choice(PHONE_CARRIERS)}"
        recurring.append(
            (
                "withdrawal",
                "phone",
                carrier,
                rng.randint(35, 120) * MONEY_UNIT,
                rng.randint(5, 28),
                "ach",
                f"{carrier.upper()} BILL PAY",
                "4814",
            )
        )
        if p.name in ("family", "retiree", "high_net_worth"):
            insurer = rng.choice(LOCAL_MERCHANTS[(self.locale.country, None, "insurance")])
            recurring.append(
                (
                    "withdrawal",
                    "insurance",
                    insurer.name,
                    insurer.typical,
                    rng.randint(1, 28),
                    "ach",
                    f"{insurer.description} PREMIUM",
                    insurer.mcc,
                )
            )
        pool = LOCAL_MERCHANTS[(self.locale.country, None, "subscriptions")]
        if p.business:
            pool = pool + LOCAL_MERCHANTS[(self.locale.country, None, "software")]
        for merchant in rng.sample(pool, min(len(pool), rng.randint(*p.subscriptions))):
            price = merchant.typical // 100 * 100 + 99
            recurring.append(
                (
                    "card_payment",
                    "subscriptions" if merchant.category == "subscriptions" else merchant.category,
                    merchant.name,
                    price,
                    rng.randint(1, 28),
                    "online",
                    merchant.description,
                    merchant.mcc,
                )
            )
        for kind, category, payee, amount, day_of_month, channel, text, mcc in recurring:
            for month in self.months:
                due = month + timedelta(day_of_month - 1)
                seasonal = amount
                if category == "utilities":
                    winter = month.month in (12, 1, 2) or month.month in (7, 8)
                    seasonal = (
                        amount * rng.randint(105 if winter else 85, 130 if winter else 105) // 100
                    )
                day = on_or_after(self.calendar, due) if channel == "ach" else due
                if not self.start <= day <= AS_OF:
                    continue
                booked = _next_business_day(self.calendar, day) if channel == "online" else day
                self.book(
                    self.checking,
                    day,
                    kind,
                    text,
                    category,
                    -seasonal,
                    self.currency,
                    channel,
                    merchant=payee,
                    mcc=mcc,
                    booked=min(booked, AS_OF),
                )

    def favorites(self) -> dict[str, list[Merchant]]:
        rng, country = self.rng, self.locale.country
        chosen = {}
        for category in self.p.mix:
            pool = LOCAL_MERCHANTS.get((country, self.city, category), []) + LOCAL_MERCHANTS.get(
                (country, None, category), []
            )
            if pool:
                chosen[category] = rng.sample(pool, min(len(pool), rng.randint(2, 6)))
        return chosen

    def card_spending(self) -> None:
        rng, p = self.rng, self.p
        favorites = self.favorites()
        mix = {category: weight for category, weight in p.mix.items() if category in favorites}
        picker = Picker(mix)
        low, high = p.card_per_month
        if p.business:
            low, high = low + self.income // (400_000 * MONEY_UNIT), high
        count_mean = (low + high) / 2
        total_weight = sum(mix.values())
        ticket = sum(CATEGORY_MEAN[c] * w for c, w in mix.items()) / total_weight
        scale = max(0.3, min(12.0, self.income * p.card_share / (count_mean * ticket)))
        calendar, currency, checking = self.calendar, self.currency, self.checking
        book, uniform = self.bookings.append, rng.random
        items, cumulative = picker.items, picker.cumulative
        whole = cumulative[-1]
        # Each favourite as (text, category, typical ticket scaled, name, MCC, channel).
        shops = {
            category: [
                (m.description, category, m.typical * scale, m.name, m.mcc, m.channel)
                for m in found
            ]
            for category, found in favorites.items()
        }
        for month in self.months:
            first, last = self.days_of(month)
            days, posted = _month_days(calendar, first, last)
            span = len(days)
            share = span / ((month_end(month) - month).days + 1)
            for _ in range(int(rng.randint(low, high) * share + 0.5)):
                choices = shops[items[bisect_right(cumulative, uniform() * whole)]]
                text, category, typical, name, mcc, channel = choices[
                    int(uniform() * uniform() * len(choices))
                ]
                amount = int(typical * (0.4 + 1.2 * uniform()) * (0.6 + 0.8 * uniform()))
                if amount < 50:
                    amount = 50
                at = int(uniform() * span)
                book(
                    (
                        days[at],
                        "card_payment",
                        text,
                        checking,
                        category,
                        -amount,
                        currency,
                        None,
                        None,
                        None,
                        name,
                        mcc,
                        channel,
                        posted[at],
                        days[at],
                    )
                )
                if uniform() < 0.015:
                    back = at + rng.randint(2, 12)
                    if back < span:
                        refund = amount if uniform() < 0.6 else amount * rng.randint(20, 80) // 100
                        book(
                            (
                                days[back],
                                "card_payment",
                                f"REFUND {text}",
                                checking,
                                category,
                                refund,
                                currency,
                                None,
                                None,
                                None,
                                name,
                                mcc,
                                channel,
                                posted[back],
                                days[back],
                            )
                        )

    def cash_and_fees(self) -> None:
        rng, p = self.rng, self.p
        monthly_fee = rng.random() < (0.5 if p.business else 0.12)
        for month in self.months:
            first, last = self.days_of(month)
            span = (last - first).days + 1
            for _ in range(rng.randint(*p.atm)):
                day = first + timedelta(rng.randrange(span))
                amount = rng.choice((20, 40, 60, 80, 100, 140, 200, 300)) * MONEY_UNIT
                self.book(
                    self.checking,
                    day,
                    "withdrawal",
                    f"ATM WITHDRAWAL {self.city}",
                    "cash",
                    -amount,
                    self.currency,
                    "atm",
                )
                if rng.random() < 0.35:
                    self.book(
                        self.checking,
                        day,
                        "fee",
                        "NON-NETWORK ATM FEE",
                        "fees",
                        -rng.choice((250, 300, 350)),
                        self.currency,
                        "atm",
                    )
            if monthly_fee and month_end(month) <= AS_OF and month_end(month) >= self.start:
                fee = (25 if p.business else 12) * MONEY_UNIT
                self.book(
                    self.checking,
                    month_end(month),
                    "fee",
                    "MONTHLY SERVICE FEE",
                    "fees",
                    -fee,
                    self.currency,
                    "internal",
                )

    def savings_flows(self) -> None:
        """A monthly transfer from checking after payday, and interest at each month's end."""
        if self.savings is None:
            return
        rng = self.rng
        rate = rng.choice((5, 10, 50, 150, 250, 350, 400, 425)) / 10_000
        balance = self.opening_target[self.savings]
        moved = self.income * self.p.save_share
        start = max(self.start, self.savings_opened)
        for month in self.months:
            day = on_or_after(self.calendar, month + timedelta(rng.randint(1, 4)))
            if moved and start <= day <= AS_OF:
                amount = int(moved * rng.uniform(0.6, 1.4)) // 1000 * 1000
                if amount:
                    self.book(
                        self.checking,
                        day,
                        "transfer",
                        f"TRANSFER TO SAVINGS ...{self.savings % 10000:04d}",
                        "transfer",
                        -amount,
                        self.currency,
                        "transfer",
                    )
                    self.book(
                        self.savings,
                        day,
                        "transfer",
                        f"TRANSFER FROM CHECKING ...{self.checking % 10000:04d}",
                        "transfer",
                        amount,
                        self.currency,
                        "transfer",
                    )
                    balance += amount
            end = month_end(month)
            if start <= end <= AS_OF:
                interest = int(balance * rate / 12)
                if interest:
                    self.book(
                        self.savings,
                        end,
                        "interest",
                        f"INTEREST PAID {rate * 100:.2f}% APY",
                        "interest",
                        interest,
                        self.currency,
                        "internal",
                    )
                    balance += interest

    def taxes(self) -> None:
        if not self.p.taxes:
            return
        country = self.locale.country
        payments = 12 // len(TAX_MONTHS[country])
        amount = int(self.income * self.p.taxes * payments) // MONEY_UNIT * MONEY_UNIT
        office = self.locale.tax_office
        if country == "DE":
            office = f"{office} {self.city}"
        due = (
            on_or_after(self.calendar, date(year, month, day_of_month))
            for year in (AS_OF.year - 1, AS_OF.year)
            for month, day_of_month in TAX_MONTHS[country]
        )
        days = [day for day in due if self.start <= day <= AS_OF]
        self.recurring(
            days, "withdrawal", f"{office} ESTIMATED TAX", "taxes", -amount, "ach", office
        )
