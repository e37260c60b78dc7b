"""Customer routes: the paged list, registration, deletion, the existence check and the
profile."""

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from pydantic import TypeAdapter

from api.answers import answer, answer_cheap, json_bytes
from api.cache import DependsOn, cacheable
from api.http_errors import INVALID_OID, UNKNOWN_CUSTOMER, error_responses
from api.params import CURSOR_SCHEMA, Currency, CustomerOid
from db import DatabaseDep
from schemas.customers import (
    CustomerExistsResponse,
    CustomerOut,
    DeleteCustomerResponse,
    RegisterCustomerRequest,
    RegisterCustomerResponse,
)
from schemas.profiles import CustomerProfileOut
from services import customers, profiles

router = APIRouter(tags=["customers"])
CUSTOMER_LIST = TypeAdapter(list[CustomerOut])


@cacheable(DependsOn.CUSTOMERS)
@router.get(
    "/customers",
    summary="List customers, a page at a time",
    responses={
        **error_responses(e400="A bad limit, cursor or name (detail says which)."),
        200: {
            "description": "A JSON array of customers.",
            "headers": {
                "X-Total-Count": {
                    "description": "How many customers match, on all pages.",
                    "schema": {"type": "integer"},
                },
                "Link": {
                    "description": 'The next page, as <url>; rel="next", when there is one.',
                    "schema": {"type": "string"},
                },
            },
        },
    },
    response_model=list[CustomerOut],
)
async def read_customers(
    request: Request,
    database: DatabaseDep,
    limit: Annotated[int, Query(ge=1, le=1000, description="Page size, 1 to 1000.")] = 100,
    cursor: Annotated[
        str | None,
        Query(
            max_length=500,
            description='From the Link rel="next" of the last page.',
            json_schema_extra=CURSOR_SCHEMA,
        ),
    ] = None,
    name: Annotated[
        str | None,
        Query(
            max_length=100,
            description="Only customers with a name word starting with each word given, "
            "in any case and with or without accents (e.g. 'smi' finds Jane Smith).",
        ),
    ] = None,
) -> Response:
    """A JSON array, oldest registration first. `X-Total-Count` gives how many match in
    all; when there are more, `Link: <...>; rel="next"` gives the next page."""
    page = await database.run(
        lambda session: customers.search_customers(session, name, limit=limit, cursor=cursor)
    )
    headers = {"X-Total-Count": str(page.total)}
    if page.next_cursor:
        headers["Link"] = (
            f'<{request.url.include_query_params(cursor=page.next_cursor)}>; rel="next"'
        )
    return json_bytes(CUSTOMER_LIST.dump_json(page.customers), headers)


@router.post(
    "/register-customer",
    summary="Register a new customer",
    responses=error_responses(
        e400="A name, CustomerOID or profile field that breaks a rule, or a malformed body.",
        e409="A customer with this CustomerOID already exists.",
    ),
)
async def register_customer(
    request: RegisterCustomerRequest, database: DatabaseDep
) -> RegisterCustomerResponse:
    """Create a customer, with the profile it declares if any; a UUID is generated when
    `customer_oid` is absent."""
    return await database.run(
        lambda session: customers.register_customer(
            session, request.name, request.customer_oid, request.profile
        ),
        write=True,
    )


@router.delete(
    "/customer/{customer_oid}",
    summary="Delete a customer and all of its data",
    responses=error_responses(e400=INVALID_OID, e404=UNKNOWN_CUSTOMER),
)
async def delete_customer(
    customer_oid: CustomerOid, database: DatabaseDep
) -> DeleteCustomerResponse:
    """Permanently delete the customer and every row it owns, in one transaction."""
    return await database.run(
        lambda session: customers.delete_customer(session, customer_oid), write=True
    )


@cacheable(DependsOn.CUSTOMER)
@router.get(
    "/customer/{customer_oid}/exists",
    summary="Check whether a customer exists",
    responses=error_responses(e400=INVALID_OID),
    response_model=CustomerExistsResponse,
)
async def customer_exists(customer_oid: CustomerOid, database: DatabaseDep) -> Response:
    """`exists: false` for an unknown but well-formed id (never 404)."""
    return await answer_cheap(
        database, lambda session: customers.customer_exists(session, customer_oid)
    )


@cacheable(DependsOn.CUSTOMER)
@router.get(
    "/customer/{customer_oid}/profile",
    summary="Who the customer is: declared profile, income and net worth",
    responses=error_responses(e400=INVALID_OID, e404=UNKNOWN_CUSTOMER),
    response_model=CustomerProfileOut,
)
async def read_profile(
    customer_oid: CustomerOid, database: DatabaseDep, currency: Currency = None
) -> Response:
    """Date of birth (or founding), contact, risk tolerance, experience, goals, horizon and
    preferences as declared, with the last twelve months' income and the net worth from the
    books, in the base currency asked for."""
    return await answer(
        database, lambda session: profiles.read_profile(session, customer_oid, currency)
    )
