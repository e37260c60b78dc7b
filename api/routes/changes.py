"""The change feed: what changed in the bank (or the request's sandbox) since a cursor.

Never cached: a page depends on every write, and a client polls it to learn of them. Read
with any key that may read; a sandbox key reads its own sandbox's feed."""

from typing import Annotated

from fastapi import APIRouter, Query, Response

from api.answers import answer
from api.http_errors import error_responses
from api.params import CURSOR_SCHEMA
from core.identifiers import OID_PATTERN
from db import DatabaseDep
from schemas.changes import ChangesPage, ChangeType
from services.events import DEFAULT_LIMIT, MAX_LIMIT, changes_reader

router = APIRouter(tags=["changes"])

TYPES_DESCRIPTION = "Only changes of these types, repeated or comma-separated: " + ", ".join(
    ChangeType
)


@router.get(
    "/changes",
    summary="What changed since a cursor, oldest first",
    responses=error_responses(
        e400="A cursor the bank did not issue, or issued for another feed (another sandbox, "
        "the bank, this sandbox before a reset); an unknown type; a bad limit or customer_oid. "
        "detail names the parameter."
    ),
    response_model=ChangesPage,
)
async def read_changes(
    database: DatabaseDep,
    cursor: Annotated[
        str | None,
        Query(
            max_length=500,
            description="next_cursor of the previous page; leave it out to read from the "
            "first change.",
            json_schema_extra=CURSOR_SCHEMA,
        ),
    ] = None,
    limit: Annotated[
        int, Query(ge=1, le=MAX_LIMIT, description=f"Page size, 1 to {MAX_LIMIT}.")
    ] = DEFAULT_LIMIT,
    types: Annotated[
        # At most 1,000 characters in all, as the other lists: the URL stays within its limit.
        list[Annotated[str, Query(max_length=250)]] | None,
        Query(max_length=4, description=TYPES_DESCRIPTION),
    ] = None,
    customer_oid: Annotated[
        str | None,
        Query(
            max_length=100,
            description="Only changes of this customer (also one deleted since).",
            json_schema_extra={"pattern": OID_PATTERN},
        ),
    ] = None,
) -> Response:
    """Every change committed in the bank (or in the sandbox of `X-Bank-Sandbox`), each
    once, in commit order: rows booked, balances and holdings moved, instructions executed,
    scheduled or cancelled, customers registered or deleted. Each names the ids to fetch
    the rest. Follow `next_cursor` from the first page and poll with it: no change is
    missed or seen twice, whichever worker answers."""
    return await answer(
        database,
        changes_reader(
            database, cursor=cursor, limit=limit, types=types, customer_oid=customer_oid
        ),
    )
