"""Customer routes: the paged list, registration, deletion and the existence check."""

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from api_errors import INVALID_OID, UNKNOWN_CUSTOMER, error_responses
from cache import cacheable
from db import SessionDep
from params import CustomerOid
from schemas import (
    CustomerExistsResponse,
    CustomerOut,
    DeleteCustomerResponse,
    RegisterCustomerRequest,
    RegisterCustomerResponse,
)
from services import customers

router = APIRouter(tags=["customers"])


@cacheable
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
)
def read_customers(
    request: Request,
    response: Response,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=1000, description="Page size, 1 to 1000.")] = 100,
    cursor: Annotated[
        str | None,
        Query(max_length=500, description='From the Link rel="next" of the last page.'),
    ] = None,
    name: Annotated[
        str | None,
        Query(
            max_length=100,
            description="Only customers with a name word starting with each word given, "
            "in any case and with or without accents (e.g. 'smi' finds Jane Smith).",
        ),
    ] = None,
) -> list[CustomerOut]:
    """A JSON array, oldest registration first. `X-Total-Count` gives how many match in
    all; when there are more, `Link: <...>; rel="next"` gives the next page."""
    page = customers.search_customers(session, name, limit=limit, cursor=cursor)
    response.headers["X-Total-Count"] = str(page.total)
    if page.next_cursor:
        response.headers["Link"] = (
            f'<{request.url.include_query_params(cursor=page.next_cursor)}>; rel="next"'
        )
    return page.customers


@router.post(
    "/register-customer",
    summary="Register a new customer",
    responses=error_responses(
        e400="A name or CustomerOID that breaks a rule, or a malformed body.",
        e409="A customer with this CustomerOID already exists.",
    ),
)
def register_customer(
    request: RegisterCustomerRequest, session: SessionDep
) -> RegisterCustomerResponse:
    """Create a customer; a UUID is generated when `customer_oid` is absent."""
    return customers.register_customer(session, request.name, request.customer_oid)


@router.delete(
    "/customer/{customer_oid}",
    summary="Delete a customer and all of its data",
    responses=error_responses(e400=INVALID_OID, e404=UNKNOWN_CUSTOMER),
)
def delete_customer(customer_oid: CustomerOid, session: SessionDep) -> DeleteCustomerResponse:
    """Permanently delete the customer and every row it owns, in one transaction."""
    return customers.delete_customer(session, customer_oid)


@cacheable
@router.get(
    "/customer/{customer_oid}/exists",
    summary="Check whether a customer exists",
    responses=error_responses(e400=INVALID_OID),
)
def customer_exists(customer_oid: CustomerOid, session: SessionDep) -> CustomerExistsResponse:
    """`exists: false` for an unknown but well-formed id (never 404)."""
    return customers.customer_exists(session, customer_oid)
