"""The investing of a synthetic customer: trades, holdings, payouts and derivatives.

Trades go through on trading days at the day's close plus half the spread,
with a commission by asset type and country; dividends and coupons are paid on
what was held on the ex-date; some customers also trade options and gold
futures. Holdings are the sum of the trades.
"""

from datetime import date, timedelta
from decimal import Decimal

from analysis.pricing import premium_cents
from core.money import PRICE_SCALE, QUANTITY_SCALE
from market.calendars import futures_expiry, on_or_after, on_or_before, option_expiry
from market.institutions import CRYPTO_EXCHANGE
from market.model import AS_OF, SPECS
from market.trading import commission, execution_price
from synthetic.book import (
    MONEY_UNIT,
    PRICE_UNIT,
    PRICE_UNITS_PER_CENT,
    QUANTITY_UNIT,
    Book,
    iso,
)


def _round_div(numerator: int, denominator: int) -> int:
    """Integer division rounding half to even, for exact money."""
    quotient, remainder = divmod(numerator, denominator)
    twice = 2 * remainder
    if twice > denominator or (twice == denominator and quotient % 2):
        quotient += 1
    return quotient


class Investments(Book):
    """A customer's brokerage and crypto accounts and what is traded in them."""

    def invest(self) -> None:
        rng, p, market = self.rng, self.p, self.backdrop.market
        count = rng.randint(*p.holdings)
        universe = list(p.universe)
        if self.currency == "EUR" and not p.business:
            universe.append("SAP")
        symbols = rng.sample(universe, min(count, len(universe)))
        if rng.random() < p.crypto:
            symbols.append("BTC" if rng.random() < 0.7 else "ETH")
        if not symbols:
            return
        budget = self.income * rng.randint(*p.portfolio_months)
        opened = self.start
        self.brokerage: dict[str, int] = {}
        span = (AS_OF - timedelta(20) - opened).days
        if span < 10:
            return
        for symbol in symbols:
            asset_type = market.asset_type[symbol]
            account = self.investment_account(symbol, opened)
            target = budget // len(symbols)
            if asset_type == "crypto":
                target = max(target // 4, 100 * MONEY_UNIT)
            day = opened + timedelta(rng.randrange(span))
            quantity = self.buy_quantity(symbol, day, target)
            if not quantity:
                continue
            self.trade(account, symbol, day, quantity, buy=True)
            if asset_type in ("etf", "crypto") and rng.random() < 0.4:
                # A monthly saving plan: the same amount on the first trading day after payday.
                monthly = max(target // 24, 50 * MONEY_UNIT)
                for month in self.months:
                    plan_day = month + timedelta(rng.randint(1, 5))
                    if day < plan_day <= AS_OF:
                        quantity = self.buy_quantity(symbol, plan_day, monthly)
                        if quantity:
                            self.trade(account, symbol, plan_day, quantity, buy=True)
            held = sum(q for _, q, _ in self.trades[symbol])
            if rng.random() < 0.2 and held >= 2 * QUANTITY_UNIT:
                sell_day = day + timedelta(rng.randint(20, max(21, (AS_OF - day).days - 1)))
                if sell_day <= AS_OF:
                    sold = held // 2 // QUANTITY_UNIT * QUANTITY_UNIT
                    self.trade(account, symbol, sell_day, sold, buy=False)
        if rng.random() < self.p.derivatives:
            self.derivatives()
        self.holdings()

    def investment_account(self, symbol: str, opened: date) -> int:
        market = self.backdrop.market
        crypto = market.asset_type[symbol] == "crypto"
        currency = market.currency[symbol]
        key = "crypto" if crypto else f"brokerage:{currency}"
        if key not in self.brokerage:
            institution = CRYPTO_EXCHANGE if crypto else self.locale.broker
            kind = "crypto" if crypto else "brokerage"
            self.brokerage[key] = self.account(institution, kind, currency, opened)
        return self.brokerage[key]

    def execution(self, symbol: str, day: date, *, buy: bool) -> tuple[date, int]:
        """The first trading day from ``day`` on and its price: the close plus half the spread."""
        calendar = SPECS[symbol].calendar
        traded = on_or_after(calendar, day)
        if traded > AS_OF:
            traded = on_or_before(calendar, AS_OF)
        close = self.backdrop.market.closes[symbol][traded]
        return traded, execution_price(close, self.backdrop.market.asset_type[symbol], buy=buy)

    def buy_quantity(self, symbol: str, day: date, amount: int) -> int:
        _, price = self.execution(symbol, day, buy=True)
        asset_type = self.backdrop.market.asset_type[symbol]
        units = amount * PRICE_UNIT // MONEY_UNIT * 10_000 // price
        if asset_type == "bond":
            return max(units // 10_000 // 10 * 10, 0) * QUANTITY_UNIT
        if asset_type in ("stock", "etf") and amount >= 20 * price // PRICE_UNITS_PER_CENT:
            return units // 10_000 * QUANTITY_UNIT
        # Fractional shares and crypto: four decimal places.
        return units * QUANTITY_UNIT // 10_000

    def commission(self, symbol: str, quantity: int, gross: int) -> int:
        """The schedule's commission (``market.trading``), in cents."""
        fee = commission(
            self.backdrop.market.asset_type[symbol],
            self.locale.country,
            Decimal(quantity).scaleb(-QUANTITY_SCALE),
            Decimal(gross).scaleb(-2),
        )
        return int(fee.scaleb(2))

    def trade(
        self,
        account: int,
        symbol: str,
        day: date,
        quantity: int,
        *,
        buy: bool,
        price: int | None = None,
        note: str = "",
    ) -> None:
        if price is None:
            day, price = self.execution(symbol, day, buy=buy)
        gross = _round_div(quantity * price, QUANTITY_UNIT * PRICE_UNIT // MONEY_UNIT)
        currency = self.backdrop.market.currency[symbol]
        shown = f"{quantity / QUANTITY_UNIT:g}"
        verb = "BUY" if buy else "SELL"
        settles = (
            on_or_after(self.calendar, day + timedelta(1)) if symbol not in ("BTC", "ETH") else day
        )
        broker = "Crypto Exchange" if symbol in ("BTC", "ETH") else self.locale.broker
        self.book(
            account,
            day,
            "buy" if buy else "sell",
            f"{verb}{note} {shown} {symbol} @ {price / PRICE_UNIT:.2f}",
            "investment",
            -gross if buy else gross,
            currency,
            "internal",
            merchant=broker,
            symbol=symbol,
            quantity=quantity,
            price=price,
            value=min(settles, AS_OF),
        )
        if not note:
            fee = self.commission(symbol, quantity, gross)
            self.book(
                account,
                day,
                "fee",
                f"COMMISSION {verb} {shown} {symbol}",
                "fees",
                -fee,
                currency,
                "internal",
                merchant=broker,
            )
        self.trades.setdefault(symbol, []).append((day, quantity if buy else -quantity, account))

    def held_on(self, symbol: str, day: date) -> int:
        """Units held at the close of the day before ``day``."""
        return sum(q for traded, q, _ in self.trades.get(symbol, ()) if traded < day)

    def holdings(self) -> None:
        """Pay each dividend and coupon on what was held, then write the holdings."""
        market = self.backdrop.market
        for payout in self.backdrop.payouts:
            trades = self.trades.get(payout.symbol)
            if not trades or payout.pay_date < self.start:
                continue
            held = self.held_on(payout.symbol, payout.ex_date)
            if held <= 0:
                continue
            per_unit = int(payout.per_unit.scaleb(PRICE_SCALE))
            amount = _round_div(held * per_unit, QUANTITY_UNIT * PRICE_UNITS_PER_CENT)
            if not amount:
                continue
            account = trades[0][2]
            label = "COUPON" if payout.kind == "interest" else "DIVIDEND"
            self.book(
                account,
                payout.pay_date,
                "dividend" if payout.kind == "dividend" else "interest",
                f"{label} {payout.symbol} {payout.per_unit.normalize():f} x "
                f"{Decimal(held).scaleb(-QUANTITY_SCALE).normalize():f}",
                "dividends" if payout.kind == "dividend" else "interest",
                amount,
                market.currency[payout.symbol],
                "internal",
                merchant=payout.symbol,
                symbol=payout.symbol,
            )
        for symbol, trades in self.trades.items():
            quantity = sum(q for _, q, _ in trades)
            if quantity:
                self.rows["assets"].append(
                    (self.ids.take("assets"), self.oid, trades[0][2], symbol, quantity)
                )

    # --- derivatives ---------------------------------------------------------------------

    def derivatives(self) -> None:
        rng, market = self.rng, self.backdrop.market
        stocks = [
            s
            for s, trades in self.trades.items()
            if market.asset_type[s] in ("stock", "etf")
            and market.currency[s] == "USD"
            and all(q > 0 for _, q, _ in trades)
        ]
        account = self.investment_account("SPY", self.start)
        self.optioned: set[str] = set()
        for _ in range(rng.randint(1, 3)):
            choice = rng.random()
            if choice < 0.15:
                self.future(account)
                continue
            symbol = rng.choice(stocks) if stocks and choice < 0.7 else rng.choice(("SPY", "QQQ"))
            if symbol not in self.optioned:
                # One position per underlying, so a covered call's shares stay covered.
                self.optioned.add(symbol)
                self.option(account, symbol)

    def open_day(self, low: date, high: date) -> date | None:
        if high <= low:
            return None
        day = on_or_before("NYSE", low + timedelta(self.rng.randrange((high - low).days)))
        return day if day >= low else None

    def option(self, account: int, symbol: str) -> None:
        rng, market = self.rng, self.backdrop.market
        trade_day = self.open_day(max(self.start, AS_OF - timedelta(300)), AS_OF - timedelta(5))
        if trade_day is None:
            return
        months_out = rng.randint(1, 3)
        year, month = divmod(trade_day.year * 12 + trade_day.month - 1 + months_out, 12)
        expiry = option_expiry(year, month + 1)
        _, spot = market.close_on_or_before(symbol, trade_day)
        held = self.held_on(symbol, trade_day + timedelta(1))
        covered = held >= 100 * QUANTITY_UNIT and rng.random() < 0.7
        if covered:
            option_type, side, strategy = "call", "short", "covered_call"
            contracts = min(held // (100 * QUANTITY_UNIT), rng.randint(1, 3))
            strike_factor = rng.uniform(1.02, 1.12)
        elif rng.random() < 0.5:
            option_type, side, strategy = "put", "short", "cash_secured_put"
            contracts, strike_factor = rng.randint(1, 2), rng.uniform(0.88, 0.98)
        else:
            option_type = "call" if rng.random() < 0.6 else "put"
            side, strategy = "long", f"long_{option_type}"
            contracts, strike_factor = rng.randint(1, 5), rng.uniform(0.92, 1.1)
        spot_value = spot / PRICE_UNIT
        step = 1 if spot_value < 100 else 5
        strike = max(step, round(spot_value * strike_factor / step) * step)
        volatility = SPECS[symbol].annual_volatility
        years = (expiry - trade_day).days / 365
        premium = premium_cents(option_type, spot_value, strike, years, volatility)
        units = contracts * 100
        sign = 1 if side == "short" else -1
        verb = "STO" if side == "short" else "BTO"
        label = f"{symbol} {expiry:%d%b%y}".upper() + f" {strike} {option_type[0].upper()}"
        self.book(
            account,
            trade_day,
            "option_premium",
            f"{verb} {contracts} {label} @ {premium / 100:.2f}",
            "derivatives",
            sign * premium * units,
            "USD",
            "internal",
            merchant=self.locale.broker,
            symbol=symbol,
        )
        self.book(
            account,
            trade_day,
            "fee",
            f"OPTIONS COMMISSION {contracts} CONTRACTS",
            "fees",
            -65 * contracts,
            "USD",
            "internal",
            merchant=self.locale.broker,
        )
        status, closed_on = "open", None
        if expiry <= AS_OF:
            _, settle = market.close_on_or_before(symbol, expiry)
            at_expiry = settle / PRICE_UNIT
            in_money = at_expiry > strike if option_type == "call" else at_expiry < strike
            closed_on = expiry
            if in_money:
                status = "exercised"
                # Calls deliver shares to the holder, puts to the writer, at the strike.
                buys = (option_type == "call") == (side == "long")
                shares = units * QUANTITY_UNIT
                if not buys and self.held_on(symbol, expiry + timedelta(1)) < shares:
                    # A long put without the shares is sold the day before it expires.
                    status, closed_on = "closed", on_or_before("NYSE", expiry - timedelta(1))
                    _, last_close = market.close_on_or_before(symbol, closed_on)
                    cost = max(int((strike - last_close / PRICE_UNIT) * 100), 0) * units
                    self.book(
                        account,
                        closed_on,
                        "option_premium",
                        f"STC {contracts} {label}",
                        "derivatives",
                        -cost if side == "short" else cost,
                        "USD",
                        "internal",
                        merchant=self.locale.broker,
                        symbol=symbol,
                    )
                else:
                    what = "ASSIGNED" if side == "short" else "EXERCISED"
                    self.trade(
                        account,
                        symbol,
                        expiry,
                        shares,
                        buy=buys,
                        price=strike * PRICE_UNIT,
                        note=f" ({what} {label})",
                    )
            else:
                status = "expired"
        self.rows["derivative_transactions"].append(
            (self.ids.take("derivative_transactions"), self.oid, account, "option", symbol,
             option_type, side, strategy, contracts, 100, strike * PRICE_UNIT,
             premium * PRICE_UNITS_PER_CENT, None, "USD", iso(trade_day), iso(expiry), status,
             iso(closed_on) if closed_on else None)
        )  # fmt: skip

    def future(self, account: int) -> None:
        rng, market = self.rng, self.backdrop.market
        trade_day = self.open_day(max(self.start, AS_OF - timedelta(300)), AS_OF - timedelta(5))
        if trade_day is None:
            return
        year, month = divmod(trade_day.year * 12 + trade_day.month - 1 + rng.randint(1, 5), 12)
        expiry = futures_expiry(year, month + 1)
        _, entry = market.close_on_or_before("GC", trade_day)
        side = "long" if rng.random() < 0.75 else "short"
        contracts = rng.randint(1, 2)
        status, closed_on = "open", None
        if expiry <= AS_OF:
            _, exit_price = market.close_on_or_before("GC", expiry)
            sign = 1 if side == "long" else -1
            result = sign * (exit_price - entry) * 100 * contracts // PRICE_UNITS_PER_CENT
            self.book(
                account,
                expiry,
                "settlement",
                f"GC FUTURE {expiry:%b%y} SETTLEMENT {contracts} {side.upper()}".upper(),
                "derivatives",
                result,
                "USD",
                "internal",
                merchant=self.locale.broker,
            )
            status, closed_on = "closed", expiry
        self.rows["derivative_transactions"].append(
            (self.ids.take("derivative_transactions"), self.oid, account, "future", "GC", None,
             side, f"{side}_future", contracts, 100, None, None, entry, "USD", iso(trade_day),
             iso(expiry), status, iso(closed_on) if closed_on else None)
        )  # fmt: skip
