"""A sandbox's webhooks: register a URL for its changes, list, read and delete them, and
read each one's delivery log.

Like the other sandbox routes, the harness's alone: with keys set they need the full key
(the read key and every sandbox key get 403). The sending is ``sandboxes/delivery.py``'s.
"""

from datetime import datetime
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, status
from pydantic import BaseModel, ConfigDict, Field

from api.access import full_key_only
from api.http_errors import error_responses, example_response
from core.errors import InvalidInput
from models import DeliveryStatus, Webhook, WebhookDelivery
from sandboxes import registry, webhooks
from sandboxes.delivery import WebhookDispatcher

router = APIRouter(
    tags=["sandboxes"],
    dependencies=[
        Depends(
            full_key_only(
                "A sandbox's webhooks need the full API key: the agent under test must not "
                "read or change them"
            )
        )
    ],
    responses=error_responses(e403="A read-only API key, or a sandbox key."),
)


class WebhookCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(
        description="Where each change is POSTed: http:// or https://, at most 2,048 "
        "characters, no user name or password, and a loopback host (localhost, 127.0.0.0/8, "
        "[::1]) unless BANK_WEBHOOK_HOSTS names it. Redirects are not followed."
    )
    event_types: list[str] = Field(
        max_length=50,
        description="The change types to send (transaction.added, balance.changed, ...), "
        "or ['*'] for all.",
    )
    description: str = Field(
        default="", max_length=webhooks.DESCRIPTION_MAX, description="For people reading lists."
    )


class WebhookPublic(BaseModel):
    webhook_id: str
    sandbox_id: str
    url: str
    event_types: list[str] = Field(description="The types it is sent; ['*'] for all.")
    description: str
    created_at: datetime
    position: int = Field(
        description="The last change of the sandbox's current copy it has looked at (0 at "
        "the start, and again after a reset)."
    )


class WebhookCreated(WebhookPublic):
    secret: str = Field(
        description="The key of its signatures (Bank-Signature: t=<unix>,v1=<hex "
        "HMAC-SHA256 of '<t>.<body>'>). Shown once: never in any later answer."
    )


class WebhookDeleted(BaseModel):
    webhook_id: str
    message: str


class DeliveryPublic(BaseModel):
    delivery_id: str = Field(
        description="The same on every attempt (also the Bank-Delivery-Id header): "
        "a receiver that sees it twice has seen that change already."
    )
    seq: int = Field(description="The change's place in the feed of the sandbox's copy.")
    type: str
    status: DeliveryStatus = Field(
        description="pending (to be sent or retried), delivered (a 2xx answer), or failed "
        "(every attempt failed, or the URL is no longer allowed)."
    )
    attempts: int
    created_at: datetime
    last_attempt_at: datetime | None
    next_attempt_at: datetime | None = Field(description="While pending: the next attempt.")
    delivered_at: datetime | None
    last_status_code: int | None = Field(description="The last answer's HTTP status, if any.")
    last_error: str | None = Field(description="Why the last attempt failed, if it did.")


class DeliveryPage(BaseModel):
    deliveries: list[DeliveryPublic] = Field(description="Newest first.")
    next_cursor: str | None = Field(description="Pass it as cursor for older ones; null: none.")


WEBHOOK_EXAMPLE = {
    "webhook_id": "wh_ABCDEFGHIJKLMNOPQRST",
    "sandbox_id": "sbx_ABCDEFGHIJKLMNOPQRST",
    "url": "http://127.0.0.1:8081/hook",
    "event_types": ["transaction.added", "balance.changed"],
    "description": "episode 1",
    "created_at": "2026-11-26T04:00:00Z",
    "position": 0,
}
CREATED_EXAMPLE = {**WEBHOOK_EXAMPLE, "secret": "whsec_" + "x" * 43}
DELIVERIES_EXAMPLE = {
    "deliveries": [
        {
            "delivery_id": "whd_ABCDEFGHIJKLMNOPQRST",
            "seq": 3,
            "type": "transaction.added",
            "status": "delivered",
            "attempts": 2,
            "created_at": "2026-11-26T04:00:01Z",
            "last_attempt_at": "2026-11-26T04:00:02Z",
            "next_attempt_at": None,
            "delivered_at": "2026-11-26T04:00:02Z",
            "last_status_code": 200,
            "last_error": None,
        }
    ],
    "next_cursor": None,
}


def _dispatcher(request: Request) -> WebhookDispatcher:
    dispatcher: WebhookDispatcher = request.app.state.webhooks
    return dispatcher


def _public(webhook: Webhook) -> WebhookPublic:
    return WebhookPublic(
        **_in_utc(webhook.model_dump(exclude={"event_types", "secret", "generation"})),
        event_types=webhooks.types_of(webhook),
    )


def _delivery(delivery: WebhookDelivery) -> DeliveryPublic:
    shown = DeliveryPublic(**_in_utc(delivery.model_dump()))
    if delivery.status != DeliveryStatus.pending:
        shown.next_attempt_at = None
    return shown


def _in_utc(fields: dict[str, Any]) -> dict[str, Any]:
    """SQLite gives timestamps back without their zone; they were written in UTC."""
    return {
        name: registry.aware(value) if isinstance(value, datetime) else value
        for name, value in fields.items()
    }


@router.post(
    "/sandboxes/{sandbox_id}/webhooks",
    summary="Send a sandbox's changes to a URL",
    status_code=status.HTTP_201_CREATED,
    response_model=WebhookCreated,
    responses={
        **error_responses(
            e400="url or event_types refused, or a field malformed (named)",
            e404="No such sandbox",
            e409="The sandbox has 20 webhooks already",
        ),
        **example_response(CREATED_EXAMPLE, 201),
    },
)
async def create_webhook(sandbox_id: str, body: WebhookCreate, request: Request) -> WebhookCreated:
    """Every change of the sandbox's current copy of these types, from the first, is POSTed
    to ``url``, signed with the secret answered here (once)."""
    registry.check_sandbox_id(sandbox_id)
    dispatcher = _dispatcher(request)
    webhook = Webhook(
        webhook_id=webhooks.new_webhook_id(),
        sandbox_id=sandbox_id,
        url=webhooks.check_url(body.url, dispatcher.allowed_hosts),
        event_types=webhooks.check_event_types(body.event_types),
        description=body.description.strip(),
        secret=webhooks.new_secret(),
        created_at=registry.now(),
    )
    secret = webhook.secret
    added = await dispatcher.main.run(partial(webhooks.register, webhook=webhook), write=True)
    dispatcher.wake()
    return WebhookCreated(**_public(added).model_dump(), secret=secret)


@router.get(
    "/sandboxes/{sandbox_id}/webhooks",
    summary="A sandbox's webhooks",
    response_model=list[WebhookPublic],
    responses={
        **error_responses(e400="Malformed sandbox id", e404="No such sandbox"),
        **example_response([WEBHOOK_EXAMPLE]),
    },
)
async def read_webhooks(sandbox_id: str, request: Request) -> list[WebhookPublic]:
    """Its webhooks, oldest first, without their secrets."""
    found = await _dispatcher(request).main.run(partial(webhooks.list_for, sandbox_id=sandbox_id))
    return [_public(webhook) for webhook in found]


@router.get(
    "/sandboxes/{sandbox_id}/webhooks/{webhook_id}",
    summary="One webhook of a sandbox",
    response_model=WebhookPublic,
    responses={
        **error_responses(e400="Malformed id", e404="No such sandbox, or no such webhook in it"),
        **example_response(WEBHOOK_EXAMPLE),
    },
)
async def read_webhook(sandbox_id: str, webhook_id: str, request: Request) -> WebhookPublic:
    """The webhook, without its secret."""
    found = await _dispatcher(request).main.run(
        partial(webhooks.find, sandbox_id=sandbox_id, webhook_id=webhook_id)
    )
    return _public(found)


@router.delete(
    "/sandboxes/{sandbox_id}/webhooks/{webhook_id}",
    summary="Delete a webhook of a sandbox",
    response_model=WebhookDeleted,
    responses={
        **error_responses(e400="Malformed id", e404="No such sandbox, or no such webhook in it"),
        **example_response(
            {"webhook_id": WEBHOOK_EXAMPLE["webhook_id"], "message": "Webhook deleted"}
        ),
    },
)
async def delete_webhook(sandbox_id: str, webhook_id: str, request: Request) -> WebhookDeleted:
    """Nothing more is sent to it; its delivery log is gone with it."""
    removed = await _dispatcher(request).main.run(
        partial(webhooks.remove, sandbox_id=sandbox_id, webhook_id=webhook_id), write=True
    )
    return WebhookDeleted(webhook_id=removed.webhook_id, message="Webhook deleted")


@router.get(
    "/sandboxes/{sandbox_id}/webhooks/{webhook_id}/deliveries",
    summary="A webhook's delivery log",
    response_model=DeliveryPage,
    responses={
        **error_responses(
            e400="Malformed id or cursor", e404="No such sandbox, or no such webhook in it"
        ),
        **example_response(DELIVERIES_EXAMPLE),
    },
)
async def read_webhook_deliveries(
    sandbox_id: str,
    webhook_id: str,
    request: Request,
    limit: Annotated[int, Query(ge=1, le=1000, description="Deliveries per page.")] = 100,
    cursor: Annotated[
        str | None, Query(max_length=20, description="next_cursor of the page before.")
    ] = None,
) -> DeliveryPage:
    """Each change queued for it, newest first: its status, attempts and the last answer."""
    before = _cursor(cursor)
    page, more = await _dispatcher(request).main.run(
        partial(
            webhooks.read_deliveries,
            sandbox_id=sandbox_id,
            webhook_id=webhook_id,
            before=before,
            limit=limit,
        )
    )
    return DeliveryPage(
        deliveries=[_delivery(delivery) for delivery in page],
        next_cursor=str(more) if more is not None else None,
    )


def _cursor(cursor: str | None) -> int | None:
    if cursor is None:
        return None
    if not cursor.isdigit() or not cursor.isascii():
        raise InvalidInput(f"cursor: '{cursor[:20]}' is not a next_cursor of this log")
    return int(cursor)
