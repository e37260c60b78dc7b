"""A scripted stand-in for an agent given tasks: it makes each task's gold calls over MCP, as
an agent that got everything right would, and says what came of them.

It reads ``gold_calls``, which a real agent never sees: it is there to show the loop works
and what grading catches. ``gold`` makes each call once (a call the bank refuses is made
too, and its refusal reported: nothing changes); ``idle`` makes none (so only the tasks to
refuse pass); ``twice`` makes each call twice, without an idempotency key, as an agent that
retries blindly would (the grader counts the second as collateral).
"""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal

Behaviour = Literal["gold", "idle", "twice"]
BEHAVIOURS: tuple[Behaviour, ...] = ("gold", "idle", "twice")
CallTool = Callable[[str, dict[str, Any]], Awaitable[tuple[bool, Any]]]
"""``call_tool(name, arguments)`` gives (is_error, structured content or the error text)."""


@dataclass
class Call:
    tool: str
    refused: bool
    said: str


@dataclass
class Outcome:
    """What the stand-in did for one task, and what it tells the customer."""

    task_id: str
    calls: list[Call] = field(default_factory=list)
    reply: str = ""


async def carry_out(call_tool: CallTool, task: dict[str, Any], behaviour: Behaviour) -> Outcome:
    outcome = Outcome(task_id=task["task_id"])
    if behaviour == "idle":
        outcome.reply = "I have not done anything."
        return outcome
    for action in task["gold_calls"]:
        for _ in range(2 if behaviour == "twice" else 1):
            failed, body = await call_tool(action["mcp_tool"], action["mcp_arguments"])
            said = (
                str(body) if failed else f"{body['kind']} {body['instruction_id']} {body['status']}"
            )
            outcome.calls.append(Call(tool=action["mcp_tool"], refused=failed, said=said))
    refusals = [call.said for call in outcome.calls if call.refused]
    if refusals:
        outcome.reply = f"The bank would not do it: {refusals[0]}"
    elif not outcome.calls:
        outcome.reply = f"I cannot do that as asked. {task['expected']['explanation']}"
    else:
        outcome.reply = "Done: " + "; ".join(call.said for call in outcome.calls)
    return outcome
