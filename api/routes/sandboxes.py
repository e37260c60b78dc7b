"""Sandboxes: create an isolated bank, list, read, reset and delete them.

The harness's routes, never the agent's: with keys set they need the full key (the read key
and any sandbox key get 403), so that the agent under test sees no sandbox, no fault rule or
seed, and no trace.
"""

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, status
from pydantic import BaseModel, ConfigDict, Field

from api.access import full_key_only
from api.http_errors import error_responses, example_response
from core.errors import InvalidInput
from market.continuation import HORIZON, MAX_DAYS_PER_ADVANCE
from models import Sandbox
from sandboxes import clock, registry, trace
from sandboxes.faults import FaultPlan, FaultPlanView
from sandboxes.manager import LABEL_MAX, SandboxManager
from sandboxes.scripts import WHAT_EACH_DOES, ScriptRequest, ScriptView, parse_script
from sandboxes.trace import CallPage
from schemas.clock import AdvanceIn, AdvanceOut, ClockOut

router = APIRouter(
    tags=["sandboxes"],
    dependencies=[
        Depends(
            full_key_only(
                "Sandboxes, their faults and their traces need the full API key: "
                "the agent under test must not read them"
            )
        )
    ],
    responses=error_responses(e403="A read-only API key, or a sandbox key."),
)


class SandboxCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    seed: int = Field(default=0, ge=0, le=2**31 - 1, description="Seed of the synthetic customers.")
    customers: int = Field(
        default=0,
        ge=0,
        description="Synthetic customers beside the five samples (at most "
        "BANK_SANDBOX_MAX_CUSTOMERS, 1,000 by default).",
    )
    label: str = Field(
        default="",
        max_length=LABEL_MAX,
        description="A name for people reading lists, trimmed and NFC-normalised; it may be "
        "empty, and otherwise follows the rules of a customer's name (no control, invisible "
        "or bidirectional characters, one script per word).",
    )
    allow_writes: bool = Field(
        default=False,
        description="Whether the agent may act in it: give instructions (transfers, payments, "
        "orders) over REST and call the MCP write tools with the sandbox key. Off by default: "
        "a sandbox for reading only refuses them (403).",
    )


class SandboxPublic(BaseModel):
    sandbox_id: str = Field(description="Send it as the X-Bank-Sandbox header to act on it.")
    label: str
    seed: int
    customers: int = Field(description="Synthetic customers beside the five samples.")
    created_at: datetime
    reset_at: datetime = Field(description="When it was last put back as created.")
    expires_at: datetime = Field(description="Pushed back by every request made in it.")
    allow_writes: bool = Field(description="Whether instructions and MCP write tools are allowed.")


class SandboxCreated(SandboxPublic):
    sandbox_key: str = Field(
        description="The key for the agent under test: it acts in this sandbox only (the "
        "X-Bank-Sandbox header is implied), reads and writes there, and may not list, "
        "manage or watch sandboxes. Shown once: the bank keeps only its hash."
    )


class SandboxDeleted(BaseModel):
    sandbox_id: str
    message: str


EXAMPLE = {
    "sandbox_id": "sbx_ABCDEFGHIJKLMNOPQRST",
    "label": "episode 1",
    "seed": 0,
    "customers": 0,
    "created_at": "2026-11-26T04:00:00Z",
    "reset_at": "2026-11-26T04:00:00Z",
    "expires_at": "2026-11-26T05:00:00Z",
    "allow_writes": False,
}
CREATED_EXAMPLE = {
    **EXAMPLE,
    "sandbox_key": "sbk_ABCDEFGHIJKLMNOPQRST_" + "x" * 43,
}


FAULTS_EXAMPLE = {
    "seed": 7,
    "rules": [
        {
            "match": "GET /user-portfolio/*",
            "rate": 0.25,
            "status": 503,
            "delay_ms": 0,
            "retry_after_s": 2,
            "fired": 3,
        }
    ],
}
TRACE_EXAMPLE = {
    "requests": [
        {
            "number": 1,
            "called_at": "2026-11-26T04:00:01Z",
            "method": "POST",
            "path": "/mcp",
            "tool": "bank_portfolio_summary",
            "arguments": {"customer_oid": "550e8400-e29b-41d4-a716-446655440001"},
            "status": 200,
            "latency_ms": 12.5,
            "fault": None,
        }
    ],
    "next_cursor": None,
}


def _manager(request: Request) -> SandboxManager:
    manager: SandboxManager = request.app.state.sandboxes
    return manager


def _public(sandbox: Sandbox) -> SandboxPublic:
    return SandboxPublic.model_validate(sandbox, from_attributes=True)


@router.post(
    "/sandboxes",
    summary="Create a sandbox bank",
    status_code=status.HTTP_201_CREATED,
    response_model=SandboxCreated,
    responses={
        **error_responses(
            e400="A field is out of bounds (named)", e429="Too many sandboxes; see Retry-After"
        ),
        **example_response(CREATED_EXAMPLE, 201),
    },
)
async def create_sandbox(request: Request, body: SandboxCreate | None = None) -> SandboxCreated:
    """A new isolated bank: the five samples and ``customers`` synthetic ones of ``seed``,
    and the key that reaches it alone."""
    body = body or SandboxCreate()
    created, key = await _manager(request).create(
        body.seed, body.customers, body.label, allow_writes=body.allow_writes
    )
    return SandboxCreated(**_public(created).model_dump(), sandbox_key=key)


@router.get(
    "/sandboxes",
    summary="List live sandboxes",
    response_model=list[SandboxPublic],
    responses={**error_responses(), **example_response([EXAMPLE])},
)
async def read_sandboxes(request: Request) -> list[SandboxPublic]:
    """Every live sandbox of this server, oldest first."""
    found = await _manager(request).main.run(registry.list_live)
    return [_public(sandbox) for sandbox in found]


@router.get(
    "/sandboxes/{sandbox_id}",
    summary="One sandbox",
    response_model=SandboxPublic,
    responses={
        **error_responses(e400="Malformed sandbox id", e404="No such sandbox"),
        **example_response(EXAMPLE),
    },
)
async def read_sandbox(sandbox_id: str, request: Request) -> SandboxPublic:
    """The sandbox; 404 once deleted or expired."""
    return _public(await _manager(request).find(sandbox_id))


@router.post(
    "/sandboxes/{sandbox_id}/reset",
    summary="Put a sandbox back as it was created",
    response_model=SandboxPublic,
    responses={
        **error_responses(e400="Malformed sandbox id", e404="No such sandbox"),
        **example_response(EXAMPLE),
    },
)
async def reset_sandbox(sandbox_id: str, request: Request) -> SandboxPublic:
    """Every write made in it is gone; requests running meanwhile see before or after."""
    return _public(await _manager(request).reset(sandbox_id))


@router.delete(
    "/sandboxes/{sandbox_id}",
    summary="Delete a sandbox",
    response_model=SandboxDeleted,
    responses={
        **error_responses(e400="Malformed sandbox id", e404="No such sandbox"),
        **example_response({"sandbox_id": EXAMPLE["sandbox_id"], "message": "Sandbox deleted"}),
    },
)
async def delete_sandbox(sandbox_id: str, request: Request) -> SandboxDeleted:
    """The sandbox and its data are gone; requests still running in it end with 404."""
    deleted = await _manager(request).delete(sandbox_id)
    return SandboxDeleted(sandbox_id=deleted.sandbox_id, message="Sandbox deleted")


@router.put(
    "/sandboxes/{sandbox_id}/faults",
    summary="Set a sandbox's fault rules",
    response_model=FaultPlanView,
    responses={
        **error_responses(e400="A rule is malformed (named)", e404="No such sandbox"),
        **example_response(FAULTS_EXAMPLE),
    },
)
async def set_sandbox_faults(sandbox_id: str, plan: FaultPlan, request: Request) -> FaultPlanView:
    """Replace the rules; which calls fail depends only on the seed and the calls' order."""
    return await _manager(request).set_faults(sandbox_id, plan)


@router.get(
    "/sandboxes/{sandbox_id}/faults",
    summary="A sandbox's fault rules and how often each fired",
    response_model=FaultPlanView,
    responses={
        **error_responses(e400="Malformed sandbox id", e404="No such sandbox"),
        **example_response(FAULTS_EXAMPLE),
    },
)
async def read_sandbox_faults(sandbox_id: str, request: Request) -> FaultPlanView:
    """The rules, each with the calls it failed or delayed since creation or reset."""
    return await _manager(request).read_faults(sandbox_id)


@router.delete(
    "/sandboxes/{sandbox_id}/faults",
    summary="Clear a sandbox's fault rules",
    response_model=FaultPlanView,
    responses={
        **error_responses(e400="Malformed sandbox id", e404="No such sandbox"),
        **example_response({"seed": 0, "rules": []}),
    },
)
async def clear_sandbox_faults(sandbox_id: str, request: Request) -> FaultPlanView:
    """No call fails any more (the trace keeps what happened)."""
    return await _manager(request).set_faults(sandbox_id, FaultPlan())


SCRIPT_EXAMPLE = {
    "today": "2026-09-30",
    "events": [
        {
            "type": "market_shock",
            "label": "october-crash",
            "on": "2026-10-14",
            "factor": "us_equity",
            "move": "-0.08",
        },
        {
            "type": "salary_change",
            "label": "john-laid-off",
            "on": "2026-10-30",
            "customer_oid": "550e8400-e29b-41d4-a716-446655440001",
            "amount": None,
        },
    ],
}


@router.post(
    "/sandboxes/{sandbox_id}/events",
    summary="Script events to happen in a sandbox on later days",
    description="Each event happens when the sandbox's clock runs its day, and what it did "
    "is recorded under its label. "
    + "; ".join(f"`{kind}`: {what}" for kind, what in WHAT_EACH_DOES.items())
    + ". A reset replays the script from the start.",
    status_code=status.HTTP_201_CREATED,
    response_model=ScriptView,
    responses={
        **error_responses(
            e400="An event is malformed, not after the sandbox's day, names no customer of "
            "the sandbox, or reuses a label (named)",
            e404="No such sandbox",
        ),
        **example_response(SCRIPT_EXAMPLE, status_code=201),
    },
)
async def add_sandbox_events(sandbox_id: str, body: ScriptRequest, request: Request) -> ScriptView:
    return await _manager(request).add_scripted_events(sandbox_id, body.events)


@router.get(
    "/sandboxes/{sandbox_id}/events",
    summary="A sandbox's scripted events",
    response_model=ScriptView,
    responses={
        **error_responses(e400="Malformed sandbox id", e404="No such sandbox"),
        **example_response(SCRIPT_EXAMPLE),
    },
)
async def read_sandbox_events(sandbox_id: str, request: Request) -> ScriptView:
    """The script, ordered by day, with the sandbox's day."""
    return await _manager(request).read_script(sandbox_id)


@router.delete(
    "/sandboxes/{sandbox_id}/events",
    summary="Clear a sandbox's scripted events",
    response_model=ScriptView,
    responses={
        **error_responses(e400="Malformed sandbox id", e404="No such sandbox"),
        **example_response({"today": "2026-09-30", "events": []}),
    },
)
async def clear_sandbox_events(sandbox_id: str, request: Request) -> ScriptView:
    """Nothing more is scripted (what already happened stays in the books)."""
    return await _manager(request).clear_script(sandbox_id)


@router.get(
    "/sandboxes/{sandbox_id}/requests",
    summary="The calls made in a sandbox",
    response_model=CallPage,
    responses={
        **error_responses(e400="Malformed id or cursor", e404="No such sandbox"),
        **example_response(TRACE_EXAMPLE),
    },
)
async def read_sandbox_requests(
    sandbox_id: str,
    request: Request,
    limit: Annotated[int, Query(ge=1, le=1000, description="Calls per page.")] = 100,
    cursor: Annotated[
        str | None, Query(max_length=20, description="next_cursor of the page before.")
    ] = None,
) -> CallPage:
    """Every call since creation or reset, oldest first, a page at a time."""
    after = _cursor(cursor)
    database = await _manager(request).database_for(sandbox_id)
    page: CallPage = await database.run(lambda session: trace.read_calls(session, after, limit))
    return page


def _cursor(cursor: str | None) -> int:
    if cursor is None:
        return 0
    if not cursor.isdigit():
        raise InvalidInput(f"cursor: '{cursor[:20]}' is not a next_cursor of this trace")
    return int(cursor)


CLOCK_EXAMPLE = {
    "sandbox_id": EXAMPLE["sandbox_id"],
    "today": "2026-10-30",
    "started_on": "2026-09-30",
    "days_advanced": 30,
    "max_days_per_advance": MAX_DAYS_PER_ADVANCE,
    "horizon": HORIZON.isoformat(),
}


ADVANCE_EXAMPLE = {
    "sandbox_id": EXAMPLE["sandbox_id"],
    "started_from": "2026-09-30",
    "today": "2026-10-01",
    "days_run": 1,
    "closes_added": 19,
    "rates_added": 2,
    "payouts_paid": 0,
    "expiries_settled": 0,
    "payments_executed": 1,
    "payments_refused": 1,
    "transactions_added": 1,
    "refused": [
        {
            "instruction_id": 7,
            "customer_oid": "550e8400-e29b-41d4-a716-446655440001",
            "rule": "insufficient_funds",
            "detail": "amount: account 1 has 12.50 USD available; this needs 40.00",
        }
    ],
    "days": [
        {
            "day": "2026-10-01",
            "closes": 19,
            "rates": 2,
            "payouts": 0,
            "expiries": 0,
            "payments_executed": 1,
            "payments_refused": 1,
            "transactions": 1,
        }
    ],
}


@router.get(
    "/sandboxes/{sandbox_id}/clock",
    summary="A sandbox's current day",
    response_model=ClockOut,
    responses={
        **error_responses(e400="Malformed sandbox id", e404="No such sandbox"),
        **example_response(CLOCK_EXAMPLE),
    },
)
async def read_sandbox_clock(sandbox_id: str, request: Request) -> ClockOut:
    """The day the sandbox has reached: the as_of of every answer in it. The bank itself
    has no clock: its day never moves."""
    manager = _manager(request)
    sandbox = await manager.find(sandbox_id)
    database = await manager.database_for(sandbox_id)
    found: ClockOut = await database.run(
        lambda session: clock.clock_out(sandbox_id, session, sandbox.seed)
    )
    return found


@router.post(
    "/sandboxes/{sandbox_id}/clock/advance",
    summary="Run a sandbox forward through days",
    description="Run every day from the sandbox's today to `to` (or `days` days), as the "
    "generator would have: the market's closes, dividends and coupons to holders, options and "
    "futures at expiry, scheduled payments made or refused, each customer's statement "
    "(pay, bills, card spending, interest, fees) and the sandbox's scripted events. Forward "
    "only, at most "
    f"{MAX_DAYS_PER_ADVANCE} days per call and up to {HORIZON}; all of it or nothing. A "
    "second advance of the same sandbox waits for the first. Only the full key: a sandbox "
    "key (the agent under test) may not move time.",
    response_model=AdvanceOut,
    responses={
        **error_responses(
            e400=f"days and to both or neither, a day not after today, more than "
            f"{MAX_DAYS_PER_ADVANCE} days, or past {HORIZON} (the field is named)",
            e404="No such sandbox",
        ),
        **example_response(ADVANCE_EXAMPLE),
    },
)
async def advance_sandbox_clock(
    sandbox_id: str, request: Request, body: AdvanceIn | None = None
) -> AdvanceOut:
    """Run the sandbox forward, all of it or nothing (see the description)."""
    body = body or AdvanceIn()
    manager = _manager(request)
    sandbox = await manager.find(sandbox_id)
    script = parse_script(sandbox.script)
    database = await manager.database_for(sandbox_id)
    done: AdvanceOut = await database.run_on_copy(
        lambda session: clock.advance(
            session, sandbox_id, sandbox.seed, body.days, body.to, script=script
        ),
        write=True,
    )
    return done
