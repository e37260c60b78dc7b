"""Textures kept with the rows they were learned from: a sandbox's template learns every
customer's texture once, when it is built, and each copy reads them back instead of
learning them again at its first advance (``continuation.textures_for``).

A texture is kept as compact JSON (lists in the dataclasses' field order, days as ISO
strings, floats printed to round-trip exactly), compressed: reading one back gives a
texture equal to the one learned, field for field.
"""

import zlib
from datetime import date
from functools import cache
from typing import Any

import orjson

from synthetic.day_rules import DayRule
from synthetic.texture import Leg, Series, Stream, Texture, Ticket


def dump_texture(texture: Texture) -> bytes:
    """``texture`` as compressed JSON."""
    kept = [
        texture.customer_oid,
        texture.calendar,
        texture.until.isoformat(),
        [
            [[list(leg) for leg in one.legs], _rule(one.rule), one.level, one.spread, one.step,
             one.rate_bp]
            for one in texture.series
        ],
        [
            [s.account_id, s.kind, s.category, s.currency, list(s.rates), s.on_closed_days,
             _tickets(s.seen), s.jitter, s.booked_lag, s.value_lag]
            for s in texture.streams
        ],
        [[total, list(running)] for total, running in texture.daily],
    ]  # fmt: skip
    return zlib.compress(orjson.dumps(kept), 6)


def load_texture(kept: bytes) -> Texture:
    """The texture ``dump_texture`` kept."""
    oid, calendar, until, series, streams, daily = orjson.loads(zlib.decompress(kept))
    return Texture(
        customer_oid=oid,
        calendar=calendar,
        until=_date(until),
        series=tuple(
            Series(
                legs=tuple(Leg(*leg) for leg in legs),
                rule=_load_rule(rule),
                level=level,
                spread=spread,
                step=step,
                rate_bp=rate_bp,
            )
            for legs, rule, level, spread, step, rate_bp in series
        ),
        streams=tuple(
            Stream(
                account_id=account_id,
                kind=kind,
                category=category,
                currency=currency,
                rates=tuple(rates),
                on_closed_days=on_closed_days,
                seen=_load_tickets(seen),
                jitter=jitter,
                booked_lag=booked_lag,
                value_lag=value_lag,
            )
            for (
                account_id,
                kind,
                category,
                currency,
                rates,
                on_closed_days,
                seen,
                jitter,
                booked_lag,
                value_lag,
            ) in streams
        ),
        daily=tuple((total, tuple(running)) for total, running in daily),
    )


def _rule(rule: DayRule) -> list[Any]:
    anchor = None if rule.anchor is None else rule.anchor.isoformat()
    return [rule.calendar, rule.roll, rule.day, sorted(rule.months), rule.every, anchor]


def _load_rule(kept: list[Any]) -> DayRule:
    calendar, roll, day, months, every, anchor = kept
    return DayRule(
        calendar=calendar,
        roll=roll,
        day=day,
        months=frozenset(months),
        every=every,
        anchor=None if anchor is None else _date(anchor),
    )


def _tickets(tickets: tuple[Ticket, ...]) -> list[Any]:
    """A stream's tickets as their distinct labels (description, merchant, code, channel),
    which label each ticket has, and each ticket's cents: a stream repeats its merchants."""
    labels: dict[tuple[Any, ...], int] = {}
    which = [
        labels.setdefault((description, merchant, mcc, channel), len(labels))
        for description, _, merchant, mcc, channel in tickets
    ]
    return [list(labels), which, [cents for _, cents, *_ in tickets]]


def _load_tickets(kept: list[Any]) -> tuple[Ticket, ...]:
    labels, which, cents = kept
    descriptions, merchants, codes, channels = (
        [labels[n][field] for n in which] for field in range(4)
    )
    return tuple(zip(descriptions, cents, merchants, codes, channels, strict=True))


@cache
def _date(text: str) -> date:
    return date.fromisoformat(text)
