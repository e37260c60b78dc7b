"""Market data: the snapshot every valuation reads, base currencies, quotes and price history.

Prices and FX rates change only when market data is loaded, so each worker
reads them once into an immutable ``MarketSnapshot`` and keeps it until the
change log says anything may have changed; a request then reads only the
customer's own rows.
"""

import hashlib
import threading
import weakref
from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from analysis.valuation import Converter, History, percent
from core.errors import InvalidInput, NotFound
from core.money import BASE_CURRENCY, CURRENCIES
from market.calendars import months_before
from market.fundamentals import quote_figures
from models import FxRate, Instrument, InstrumentPrice
from schemas.market import Close, MarketDataResponse, PriceChange, PriceHistory, Quote
from services.changes import Changes, feed_for

MAX_SYMBOLS = 50


@dataclass(frozen=True)
class InstrumentInfo:
    symbol: str
    name: str
    asset_type: str
    currency: str


@dataclass(frozen=True)
class MarketSnapshot:
    """Every instrument, close and FX rate the bank holds, as of one version of the data."""

    as_of: date
    instruments: dict[str, InstrumentInfo]
    """By symbol, in symbol order."""
    prices: dict[str, History]
    usd_per_unit: dict[str, History]
    version: str = ""
    """A digest of the data (``_fingerprint``): what figures kept in the database are
    checked against before they are used."""
    _converters: dict[str, Converter] = field(default_factory=dict)

    def latest(self, symbol: str) -> tuple[Decimal, date]:
        history = self.prices[symbol]
        return history.values[-1], history.dates[-1]

    def converter(self, base: str) -> Converter:
        """One converter per base currency for the snapshot's life: it remembers its rates."""
        found = self._converters.get(base)
        if found is None:
            found = self._converters[base] = Converter(self.usd_per_unit, base)
        return found


def load_snapshot(session: Session) -> MarketSnapshot:
    """Read the whole market in three statements."""
    instruments = {
        row.symbol: InstrumentInfo(row.symbol, row.name, row.asset_type, row.currency)
        for row in session.execute(select(Instrument.__table__).order_by("symbol"))  # type: ignore[attr-defined]
    }
    prices: dict[str, list[tuple[date, Decimal]]] = defaultdict(list)
    price = InstrumentPrice.__table__.c  # type: ignore[attr-defined]
    for symbol, day, close in session.execute(
        select(price.symbol, price.price_date, price.close).order_by(price.symbol, price.price_date)
    ):
        prices[symbol].append((day, close))
    rates: dict[str, list[tuple[date, Decimal]]] = defaultdict(list)
    fx = FxRate.__table__.c  # type: ignore[attr-defined]
    for currency, day, rate in session.execute(
        select(fx.currency, fx.rate_date, fx.usd_per_unit).order_by(fx.currency, fx.rate_date)
    ):
        rates[currency].append((day, rate))
    as_of = max((points[-1][0] for points in prices.values()), default=date.today())
    return MarketSnapshot(
        as_of=as_of,
        instruments=instruments,
        prices={symbol: History(points) for symbol, points in prices.items()},
        usd_per_unit={currency: History(points) for currency, points in rates.items()},
        version=_fingerprint(instruments, prices, rates),
    )


def _fingerprint(
    instruments: dict[str, InstrumentInfo],
    prices: dict[str, list[tuple[date, Decimal]]],
    rates: dict[str, list[tuple[date, Decimal]]],
) -> str:
    """A digest of every instrument, close and rate: two snapshots with the same digest
    value everything alike, so a figure kept with it holds as long as the digest does."""
    digest = hashlib.sha256()
    for info in instruments.values():
        digest.update(f"{info}\n".encode())
    for kind, series in (("price", prices), ("rate", rates)):
        for name in sorted(series):
            points = ";".join(f"{day}={value}" for day, value in series[name])
            digest.update(f"{kind} {name} {points}\n".encode())
    return digest.hexdigest()[:32]


class _Holder:
    """One worker's current snapshot, dropped when the change log says anything changed."""

    def __init__(self) -> None:
        self.snapshot: MarketSnapshot | None = None
        self.lock = threading.Lock()

    def forget(self, changes: Changes) -> None:
        if changes.everything:
            self.snapshot = None


_HOLDERS: "weakref.WeakKeyDictionary[Engine, _Holder]" = weakref.WeakKeyDictionary()
_HOLDERS_LOCK = threading.Lock()


def market_snapshot(session: Session) -> MarketSnapshot:
    """The market as this worker knows it, read again only after market data changed."""
    engine = session.get_bind()
    assert isinstance(engine, Engine)
    with _HOLDERS_LOCK:
        holder = _HOLDERS.get(engine)
        if holder is None:
            holder = _HOLDERS[engine] = _Holder()
            feed_for(engine).subscribe(holder.forget)
    feed_for(engine).poll()
    snapshot = holder.snapshot
    if snapshot is None:
        with holder.lock:
            snapshot = holder.snapshot
            if snapshot is None:
                snapshot = holder.snapshot = load_snapshot(session)
    return snapshot


def resolve_currency(currency: str | None) -> str:
    """The base currency asked for (USD by default), or ``InvalidInput`` listing the choices."""
    if currency is None:
        return BASE_CURRENCY
    code = currency.strip().upper()
    if code not in CURRENCIES:
        shown = currency[:10]
        raise InvalidInput(
            f"currency: '{shown}' is not supported; use one of {', '.join(sorted(CURRENCIES))}"
        )
    return code


def parse_symbols(symbols: Iterable[str], *, field: str = "symbols") -> list[str]:
    """The symbols asked for, upper case, each once, in order; none at all, or too many, is
    ``InvalidInput``."""
    wanted = list(dict.fromkeys(s.strip().upper() for s in symbols if s.strip()))
    if not wanted:
        raise InvalidInput(f"{field}: give at least one symbol, such as AAPL or BTC")
    if len(wanted) > MAX_SYMBOLS:
        raise InvalidInput(f"symbols: at most {MAX_SYMBOLS} symbols per request")
    return wanted


def _instruments(
    market: MarketSnapshot, symbols: Iterable[str] | None, *, field: str = "symbols"
) -> list[InstrumentInfo]:
    if symbols is None:
        return list(market.instruments.values())
    wanted = parse_symbols(symbols, field=field)
    unknown = [symbol[:16] for symbol in wanted if symbol not in market.instruments]
    if unknown:
        raise NotFound(f"Unknown symbols: {', '.join(unknown)}")
    return [market.instruments[symbol] for symbol in wanted]


QUOTE_WINDOW = timedelta(days=7)
"""How far before a year ago a quote's yearly change may reach for its base close."""


def read_quotes(session: Session, symbols: Iterable[str] | None = None) -> MarketDataResponse:
    """Latest close of each symbol (all instruments when none are named) and its changes."""
    market = market_snapshot(session)
    instruments = _instruments(market, symbols)
    cutoff = months_before(market.as_of, 12) - QUOTE_WINDOW
    quotes = []
    for instrument in instruments:
        history = market.prices.get(instrument.symbol)
        if history is None or not history.dates or history.dates[-1] < cutoff:
            continue
        price, price_date = market.latest(instrument.symbol)

        def change(
            since: date, price: Decimal = price, history: History = history
        ) -> PriceChange | None:
            index = bisect_right(history.dates, since)
            if not index or history.dates[index - 1] < cutoff:
                return None
            previous = history.values[index - 1]
            return PriceChange(
                since=history.dates[index - 1],
                previous_close=previous,
                change=price - previous,
                change_percent=percent(price - previous, previous),
            )

        day_before = change(price_date - timedelta(days=1))
        figures = quote_figures(
            instrument.symbol,
            price_date,
            price,
            None if day_before is None else day_before.previous_close,
        )
        quotes.append(
            Quote(
                symbol=instrument.symbol,
                name=instrument.name,
                asset_type=instrument.asset_type,
                currency=instrument.currency,
                price=price,
                price_date=price_date,
                change_1d=day_before,
                change_30d=change(price_date - timedelta(days=30)),
                change_1y=change(months_before(price_date, 12)),
                volume=figures.volume,
                market_cap=figures.market_cap,
                pe_ratio=figures.pe_ratio,
                dividend_yield=figures.dividend_yield,
            )
        )
    return MarketDataResponse(as_of=market.as_of, quotes=quotes)


def read_price_history(
    session: Session, symbol: str, date_from: date | None = None, date_to: date | None = None
) -> PriceHistory:
    """Daily closes of one symbol between two dates (the last year by default)."""
    market = market_snapshot(session)
    (instrument,) = _instruments(market, [symbol], field="symbol")
    date_to = date_to or market.as_of
    date_from = date_from or months_before(date_to, 12)
    if date_from > date_to:
        raise InvalidInput(
            f"from: {date_from} is after to: {date_to}; from must be on or before to"
        )
    history = market.prices.get(instrument.symbol, History([]))
    first, last = bisect_left(history.dates, date_from), bisect_right(history.dates, date_to)
    return PriceHistory(
        symbol=instrument.symbol,
        name=instrument.name,
        currency=instrument.currency,
        from_date=date_from,
        to_date=date_to,
        closes=[
            Close(date=day, close=close)
            for day, close in zip(
                history.dates[first:last], history.values[first:last], strict=True
            )
        ],
    )
