"""Fault injection: rules that make a share of a sandbox's calls fail or slow down.

Which calls fail is a pure function of the plan's seed, the rule, the call's target
(``METHOD /path`` or ``mcp <tool>``) and its place among the calls of that target since
creation or reset. So the same requests in the same order fail the same way on every run,
whatever else is asked of the sandbox or the server meanwhile, and a reset starts the
sequences again.
"""

import hashlib
import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

MAX_RULES = 20
_MATCH = re.compile(r"(GET|POST|PUT|DELETE|\*) /[A-Za-z0-9_.~%{}*/-]*|mcp [A-Za-z0-9_*]+")


class FaultRule(BaseModel):
    model_config = ConfigDict(extra="forbid")

    match: str = Field(
        max_length=200,
        description="'METHOD /path' with * for any characters but '/' (e.g. "
        "'GET /user-portfolio/*'), or 'mcp <tool>' for an MCP tool call.",
    )
    rate: float = Field(ge=0, le=1, description="Share of matching calls that fail, 0 to 1.")
    status: Literal[429, 500, 502, 503, 504] | None = Field(
        default=503, description="The status a failed call gets; null only delays it."
    )
    delay_ms: int = Field(default=0, ge=0, le=10_000, description="Added before answering.")
    retry_after_s: int = Field(default=1, ge=0, le=3600, description="Retry-After of 429/503.")

    @field_validator("match")
    @classmethod
    def _known_shape(cls, value: str) -> str:
        if not _MATCH.fullmatch(value):
            raise ValueError(
                "expected 'METHOD /path' (GET, POST, PUT, DELETE or *) or 'mcp <tool>'"
            )
        return value

    def matches(self, target: str) -> bool:
        return _pattern(self.match).fullmatch(target) is not None


class FaultPlan(BaseModel):
    model_config = ConfigDict(extra="forbid")

    seed: int = Field(default=0, ge=0, le=2**63 - 1, description="Decides which calls fail.")
    rules: list[FaultRule] = Field(default_factory=list, max_length=MAX_RULES)


class FaultRuleView(FaultRule):
    fired: int = Field(description="Calls this rule failed or delayed since creation or reset.")


class FaultPlanView(BaseModel):
    seed: int
    rules: list[FaultRuleView]


def _pattern(match: str) -> re.Pattern[str]:
    return re.compile("[^/]*".join(map(re.escape, match.split("*"))))


def draw(seed: int, rule_index: int, target: str, target_number: int) -> float:
    """A number in [0, 1) that depends on nothing else (not on the process or the machine)."""
    digest = hashlib.sha256(f"{seed}:{rule_index}:{target}:{target_number}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def pick(plan: FaultPlan, target: str, target_number: int) -> tuple[int, FaultRule] | None:
    """The first rule that matches ``target`` and fires for its ``target_number``-th call."""
    for index, rule in enumerate(plan.rules):
        if rule.matches(target) and draw(plan.seed, index, target, target_number) < rule.rate:
            return index, rule
    return None


def label(index: int, rule: FaultRule) -> str:
    """The rule as the trace and the X-Bank-Fault header name it."""
    return f"{index} {rule.match}"


def describe(index: int, rule: FaultRule) -> str:
    """What the failed call is told: the rule that failed it, by number and pattern."""
    return f"Injected fault: rule {index} ('{rule.match}') answered {rule.status}"
