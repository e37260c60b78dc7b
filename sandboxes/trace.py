"""The trace: every call made in a sandbox, kept in the sandbox's own database.

Kept there, every worker sees it, and a reset (a fresh copy) empties it and restarts the
numbering, which is also what the fault sequence counts. The oldest calls beyond
``MAX_CALLS`` are pruned as new ones arrive.
"""

import json
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import delete, func, insert, update
from sqlmodel import Session, col, select

from db import begin_write
from models import SandboxCall
from sandboxes.registry import aware, now
from services.changes import BOOKKEEPING, record_change

MAX_CALLS = 10_000
PRUNE_EVERY = 100
MAX_ARGUMENTS_CHARS = 2000


class CallView(BaseModel):
    number: int = Field(description="Place of the call since creation or reset, from 1.")
    called_at: datetime
    method: str
    path: str = Field(description="Path and query string.")
    tool: str | None = Field(description="The MCP tool called, for a tool call.")
    arguments: dict[str, Any] | None = Field(description="The tool's arguments, for a tool call.")
    status: int | None = Field(description="HTTP status; null while the call runs.")
    latency_ms: float | None
    fault: str | None = Field(description="The fault rule applied to the call, if one was.")


class CallPage(BaseModel):
    requests: list[CallView]
    next_cursor: str | None = Field(description="Pass as cursor= for the following page.")


TRACE_SUBJECT = BOOKKEEPING + "trace"


def begin_call(session: Session, method: str, path: str, tool: str | None, arguments: Any) -> int:
    """Record a call as it starts; its number in the sandbox."""
    begin_write(session)
    shown = json.dumps(arguments)[:MAX_ARGUMENTS_CHARS] if tool is not None else None
    number = session.execute(
        insert(SandboxCall)
        .values(called_at=now(), method=method, path=path[:1000], tool=tool, arguments=shown)
        .returning(col(SandboxCall.number))
    ).scalar_one()
    if number % PRUNE_EVERY == 0:
        session.execute(delete(SandboxCall).where(col(SandboxCall.number) <= number - MAX_CALLS))
    # Logged as bookkeeping: an unlogged commit would make every worker read the market again.
    record_change(session, TRACE_SUBJECT)
    session.commit()
    return int(number)


def end_call(
    session: Session,
    number: int,
    status: int,
    latency_ms: float,
    fault: str | None,
    fault_rule: int | None,
) -> None:
    begin_write(session)
    session.execute(
        update(SandboxCall)
        .where(col(SandboxCall.number) == number)
        .values(status=status, latency_ms=round(latency_ms, 2), fault=fault, fault_rule=fault_rule)
    )
    record_change(session, TRACE_SUBJECT)
    session.commit()


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
                tool=row.tool,
                arguments=_arguments(row.arguments),
                status=row.status,
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


def _arguments(text: str | None) -> dict[str, Any] | None:
    if text is None:
        return None
    try:
        found = json.loads(text)
    except ValueError:
        return {"truncated": text}
    return found if isinstance(found, dict) else {"value": found}
