"""Customers: the name rules, registration (with the profile declared), deletion, look-up and
the paged name search."""

import json
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import bindparam, delete, func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from core.errors import Conflict, InvalidInput, NotFound
from core.identifiers import name_tokens, new_customer_oid, parse_customer_oid, prefix_upper_bound
from core.names import clean_name
from core.paging import CustomerPosition, decode_cursor, encode_cursor, fingerprint
from db import begin_write
from models import CUSTOMER_COUNTER, Counter, Customer, CustomerNameToken, CustomerProfile
from schemas.changes import ChangeType
from schemas.customers import (
    CustomerExistsResponse,
    CustomerOut,
    CustomersPage,
    DeleteCustomerResponse,
    RegisterCustomerResponse,
)
from schemas.profiles import ProfileIn
from services.books import keep_book
from services.changes import record_change
from services.events import Event, record_events

NAME_MIN, NAME_MAX = 2, 100


def normalize_customer_name(raw: str) -> str:
    """Trim and NFC-normalise a name, or raise ``InvalidInput`` saying which rule it breaks
    (the rules are ``core.names``'s: 2 to 100 visible characters, one script per word)."""
    return clean_name(raw, "name", shortest=NAME_MIN, longest=NAME_MAX)


class CustomerRef(NamedTuple):
    customer_oid: str
    name: str


def get_customer(session: Session, raw_oid: str) -> CustomerRef:
    """The customer with this id in any spelling, or ``NotFound``."""
    oid = parse_customer_oid(raw_oid)
    row = session.connection().execute(_CUSTOMER, {"oid": oid}).first()
    if row is None:
        raise NotFound(f"Customer with CustomerOID '{oid}' not found")
    return CustomerRef(row.customer_oid, row.name)


def search_customers(
    session: Session, name: str | None = None, *, limit: int = 100, cursor: str | None = None
) -> CustomersPage:
    """Customers with a name word starting with each word of ``name``, oldest first, paged.

    Matching goes through the name-token index, so the cost follows the number
    of matches, not the size of the bank; the unfiltered total is a kept count.
    """
    words = name_tokens(name or "")
    if name is not None and name.strip() and not words:
        raise InvalidInput("name: give at least one letter or digit to search for")
    scope = fingerprint("customers", words)
    start = CustomerPosition(i=0, n=0)
    position = decode_cursor(cursor, scope, CustomerPosition) if cursor is not None else start
    after, seen = position.i, position.n
    if words:
        matching = _name_matches(words)
        total = session.exec(select(func.count()).select_from(matching)).one()
        page_ids = list(
            session.exec(
                select(matching.c.customer_id)
                .where(matching.c.customer_id > after)
                .order_by(matching.c.customer_id)
                .limit(limit + 1)
            )
        )
        query = select(Customer).where(col(Customer.id).in_(page_ids[:limit]))
        more = len(page_ids) > limit
    else:
        total = customer_count(session)
        query = select(Customer).where(col(Customer.id) > after).limit(limit + 1)
        more = False
    rows = list(session.exec(query.order_by(col(Customer.id))))
    if len(rows) > limit:
        more, rows = True, rows[:limit]
    shown = seen + len(rows)
    next_cursor = (
        encode_cursor(CustomerPosition(i=rows[-1].id or 0, n=shown), scope) if more else None
    )
    return CustomersPage(
        customers=[CustomerOut(customer_oid=c.customer_oid, name=c.name) for c in rows],
        total=total,
        remaining=max(total - shown, 0) if more else 0,
        next_cursor=next_cursor,
    )


def _name_matches(words: list[str]) -> Any:
    """Ids of customers having, for every word, a name token that starts with it."""
    token = CustomerNameToken.__table__.c  # type: ignore[attr-defined]
    query = None
    for word in words:
        ids = select(token.customer_id).where(
            token.token >= word, token.token < prefix_upper_bound(word)
        )
        query = ids if query is None else query.where(token.customer_id.in_(ids))
    assert query is not None
    return query.distinct().subquery()


def customer_count(session: Session) -> int:
    return session.exec(select(Counter.value).where(Counter.name == CUSTOMER_COUNTER)).one()


def bump_counter(session: Session, name: str, delta: int) -> None:
    """Add ``delta`` to a kept count inside the caller's transaction."""
    table = Counter.__table__  # type: ignore[attr-defined]
    updated = session.exec(
        update(table).where(table.c.name == name).values(value=table.c.value + delta)
    )
    if updated.rowcount == 0:
        session.add(Counter(name=name, value=delta))


def add_customer(
    session: Session, oid: str, name: str, created_at: datetime | None = None
) -> Customer:
    """Insert a customer with its name tokens and count it; the caller commits."""
    customer = Customer(customer_oid=oid, name=name)
    if created_at is not None:
        customer.created_at = created_at
    session.add(customer)
    session.flush()
    assert customer.id is not None
    session.add_all(CustomerNameToken(token=t, customer_id=customer.id) for t in name_tokens(name))
    bump_counter(session, CUSTOMER_COUNTER, 1)
    return customer


def customer_exists(session: Session, raw_oid: str) -> CustomerExistsResponse:
    """Whether a (well-formed) id is registered, with its canonical form and the name."""
    oid = parse_customer_oid(raw_oid)
    name = session.connection().execute(_NAME_OF, {"oid": oid}).scalar()
    return CustomerExistsResponse(customer_oid=oid, exists=name is not None, name=name)


_USERS = Customer.__table__.c  # type: ignore[attr-defined]
_NAME_OF = select(_USERS.name).where(_USERS.customer_oid == bindparam("oid"))
# Built once: every read of a customer starts here.
_CUSTOMER = select(_USERS.customer_oid, _USERS.name).where(_USERS.customer_oid == bindparam("oid"))


def register_customer(
    session: Session, name: str, customer_oid: str | None = None, profile: ProfileIn | None = None
) -> RegisterCustomerResponse:
    """Register a customer, and the profile it declares, in one transaction."""
    clean_name = normalize_customer_name(name)
    oid = new_customer_oid() if customer_oid is None else parse_customer_oid(customer_oid)
    begin_write(session)
    try:
        add_customer(session, oid, clean_name)
        if profile is not None:
            session.add(declared_profile(oid, profile))
        keep_book(session, oid)
        record_change(session, oid)
        record_events(session, [Event(ChangeType.customer_registered, oid)])
        session.commit()
    except IntegrityError:
        session.rollback()
        raise Conflict(f"Customer with CustomerOID '{oid}' already exists") from None
    return RegisterCustomerResponse(customer_oid=oid, name=clean_name)


def declared_profile(oid: str, profile: ProfileIn) -> CustomerProfile:
    """The row of what a registering customer declared (already checked field by field)."""
    goals = profile.investment_goals
    return CustomerProfile(
        customer_oid=oid,
        kind=profile.resolved_kind.value,
        date_of_birth=profile.date_of_birth,
        founded_on=profile.founded_on,
        email=profile.email,
        phone=profile.phone,
        risk_tolerance=profile.risk_tolerance,
        investment_experience=profile.investment_experience,
        investment_goals=None if goals is None else json.dumps(goals),
        time_horizon=profile.time_horizon,
        communication_method=profile.communication_method,
        portfolio_style=profile.portfolio_style,
        esg_investing=profile.esg_investing,
    )


def delete_customer(session: Session, raw_oid: str) -> DeleteCustomerResponse:
    """Delete a customer and, by cascade, every row it owns, in one transaction."""
    oid = parse_customer_oid(raw_oid)
    begin_write(session)
    deleted = session.exec(delete(Customer).where(col(Customer.customer_oid) == oid))
    if deleted.rowcount == 0:
        session.rollback()
        raise NotFound(f"Customer with CustomerOID '{oid}' not found")
    bump_counter(session, CUSTOMER_COUNTER, -1)
    record_change(session, oid)
    # One change for everything the cascade removed: its rows are gone with the customer.
    record_events(session, [Event(ChangeType.customer_deleted, oid)])
    session.commit()
    return DeleteCustomerResponse(customer_oid=oid)
