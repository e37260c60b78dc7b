"""The trace: every call made in a sandbox, kept in the sandbox's own database.

Kept there, every worker sees it, and a reset (a fresh copy) empties it and restarts the
numbering. A call is numbered, and its fault drawn and written, in one transaction before it
runs: what the trace says failed is what failed, as soon as the answer is sent. The oldest
calls beyond ``MAX_CALLS`` are pruned as new ones arrive.
"""

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field
from sqlalchemy import delete, func, insert, update
from sqlmodel import Session, col, select

from db import begin_write
from models import SandboxCall
from sandboxes.faults import FaultPlan, FaultRule, label, pick
from sandboxes.registry import aware, now
from services.changes import BOOKKEEPING, record_change

MAX_CALLS = 10_000
PRUNE_EVERY = 100
MAX_ARGUMENTS_CHARS = 2000
TRACE_LOCK = 15
"""The advisory lock that numbers one call at a time on PostgreSQL (SQLite's writes take
turns anyway)."""


class CallView(BaseModel):
    number: int = Field(description="Place of the call since creation or reset, from 1.")
    called_at: datetime
    method: str
    path: str = Field(description="Path and query string.")
    mcp_method: str | None = Field(
        description="For a call to /mcp, the JSON-RPC method: initialize, tools/list, "
        "tools/call, ..."
    )
    tool: str | None = Field(description="The MCP tool called, for a tool call.")
    arguments: dict[str, Any] | None = Field(
        description="The tool's arguments, for a tool call; past "
        f"{MAX_ARGUMENTS_CHARS} characters of JSON, "
        '{"truncated": <the first characters>}.'
    )
    status: int | None = Field(description="HTTP status; null while the call runs.")
    result_status: Literal["ok", "error"] | None = Field(
        description="For a call to /mcp: 'error' when the agent got an error back (a tool "
        "result with isError, or a JSON-RPC error), else 'ok'; null while it runs."
    )
    latency_ms: float | None
    fault: str | None = Field(description="The fault rule applied to the call, if one was.")


class CallPage(BaseModel):
    requests: list[CallView]
    next_cursor: str | None = Field(description="Pass as cursor= for the following page.")


TRACE_SUBJECT = BOOKKEEPING + "trace"


@dataclass(frozen=True)
class CallStart:
    """What is known of a call before it runs."""

    method: str
    path: str
    target: str
    mcp_method: str | None = None
    tool: str | None = None
    arguments: Any = None


def begin_call(
    session: Session, call: CallStart, plan: FaultPlan
) -> tuple[int, tuple[int, FaultRule] | None]:
    """Record a call as it starts: its number in the sandbox, and the fault rule that fails
    or delays it, if one does (drawn here, from its place among its target's calls)."""
    begin_write(session)
    if session.get_bind().dialect.name == "postgresql":
        # One at a time across workers: two calls of one target never share a place.
        session.execute(select(func.pg_advisory_xact_lock(TRACE_LOCK)))
    before = session.execute(
        select(func.max(SandboxCall.target_number)).where(col(SandboxCall.target) == call.target)
    ).scalar_one_or_none()
    target_number = int(before or 0) + 1
    picked = pick(plan, call.target, target_number)
    shown = _bounded(call.arguments) if call.tool is not None else None
    number = session.execute(
        insert(SandboxCall)
        .values(
            called_at=now(),
            method=call.method,
            path=call.path[:1000],
            target=call.target[:250],
            target_number=target_number,
            mcp_method=call.mcp_method,
            tool=call.tool,
            arguments=shown,
            fault=label(*picked)[:250] if picked else None,
            fault_rule=picked[0] if picked else None,
        )
        .returning(col(SandboxCall.number))
    ).scalar_one()
    if number % PRUNE_EVERY == 0:
        session.execute(delete(SandboxCall).where(col(SandboxCall.number) <= number - MAX_CALLS))
    # Logged as bookkeeping: an unlogged commit would make every worker read the market again.
    record_change(session, TRACE_SUBJECT)
    session.commit()
    return int(number), picked


def end_call(
    session: Session, number: int, status: int, latency_ms: float, result_status: str | None
) -> None:
    begin_write(session)
    session.execute(
        update(SandboxCall)
        .where(col(SandboxCall.number) == number)
        .values(status=status, latency_ms=round(latency_ms, 2), result_status=result_status)
    )
    record_change(session, TRACE_SUBJECT)
    session.commit()


def _bounded(arguments: Any) -> str:
    """The arguments as JSON, cut at ``MAX_ARGUMENTS_CHARS`` (read back as ``truncated``)."""
    return json.dumps(arguments, default=str)[:MAX_ARGUMENTS_CHARS]


def read_calls(session: Session, after: int, limit: int) -> CallPage:
    rows = list(
        session.exec(
            select(SandboxCall)
            .where(col(SandboxCall.number) > after)
            .order_by(col(SandboxCall.number))
            .limit(limit + 1)
        )
    )
    shown = rows[:limit]
    return CallPage(
        requests=[
            CallView(
                number=row.number or 0,
                called_at=aware(row.called_at),
                method=row.method,
                path=row.path,
                mcp_method=row.mcp_method,
                tool=row.tool,
                arguments=_arguments(row.arguments),
                status=row.status,
                result_status=_result_status(row.result_status),
                latency_ms=row.latency_ms,
                fault=row.fault,
            )
            for row in shown
        ],
        next_cursor=str(shown[-1].number) if len(rows) > limit else None,
    )


def fired(session: Session) -> dict[int, int]:
    """How often each fault rule was applied since creation or reset."""
    rows = session.execute(
        select(SandboxCall.fault_rule, func.count())
        .where(col(SandboxCall.fault_rule).is_not(None))
        .group_by(col(SandboxCall.fault_rule))
    )
    return {int(rule): int(count) for rule, count in rows}


def _result_status(value: str | None) -> Literal["ok", "error"] | None:
    return "ok" if value == "ok" else "error" if value == "error" else None


def _arguments(text: str | None) -> dict[str, Any] | None:
    if text is None:
        return None
    try:
        found = json.loads(text)
    except ValueError:
        return {"truncated": text}
    return found if isinstance(found, dict) else {"value": found}
