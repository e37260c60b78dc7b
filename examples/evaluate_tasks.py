"""Evaluate an agent on tasks that change the bank, end to end, with a scripted stand-in.

    ./scripts/serve                                   # in one terminal
    .venv/bin/python -m examples.evaluate_tasks       # in another

1. create a sandbox that allows writes (the agent's instructions and the trace stay in it);
2. fetch a task set for it (the harness's side: the agent never sees the expected changes);
3. let the agent carry out each task through MCP, with the sandbox's own key;
4. grade the set by the state the agent left: each task, and any change nobody asked for;
5. read the sandbox's trace: every call the agent made, in order; then delete the sandbox.

To evaluate your own agent, replace ``stand_in`` with a call to it that passes
``task["customer_oid"]`` and ``task["text"]`` (the customer's instruction). ``--behaviour
idle`` or ``twice`` shows what grading makes of an agent that does nothing, or everything
twice.
"""

import argparse
import asyncio
import os
from collections import Counter
from typing import Any

import httpx2
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client

from evals.tasks import scripted_agent


async def stand_in(
    session: ClientSession, task: dict[str, Any], behaviour: scripted_agent.Behaviour
) -> scripted_agent.Outcome:
    """The scripted stand-in: makes the task's gold calls over MCP. A real agent gets only
    the customer and the text, and the tools."""

    async def call_tool(name: str, arguments: dict[str, Any]) -> tuple[bool, Any]:
        result = await session.call_tool(name, arguments)
        if result.is_error:
            return True, result.content[0].text  # type: ignore[union-attr]
        return False, result.structured_content

    return await scripted_agent.carry_out(call_tool, task, behaviour)


async def evaluate(
    base_url: str,
    api_key: str | None,
    count: int,
    seed: int,
    behaviour: scripted_agent.Behaviour,
    keep: bool,
) -> float:
    auth = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    async with httpx2.AsyncClient(base_url=base_url, headers=auth, timeout=120) as bank:
        created = await bank.post(
            "/sandboxes",
            json={"customers": 20, "seed": seed, "label": "task evaluation", "allow_writes": True},
        )
        created.raise_for_status()
        sandbox_id = created.json()["sandbox_id"]
        inside = {"X-Bank-Sandbox": sandbox_id}
        agent_key = {"Authorization": f"Bearer {created.json()['sandbox_key']}"}
        print(f"sandbox {sandbox_id}")
        try:
            fetched = await bank.get(
                "/eval/tasks", params={"count": count, "seed": seed}, headers=inside
            )
            fetched.raise_for_status()
            task_set = fetched.json()
            print(
                f"{task_set['count']} tasks as of {task_set['as_of']} "
                f"({len(task_set['setup'])} set up first)"
            )

            async with (
                httpx2.AsyncClient(headers=agent_key, timeout=120) as agent_http,
                streamable_http_client(f"{base_url}/mcp", http_client=agent_http) as streams,
                ClientSession(*streams[:2]) as session,
            ):
                await session.initialize()
                for task in task_set["tasks"]:
                    outcome = await stand_in(session, task, behaviour)
                    print(f"  {task['text']}\n    -> {outcome.reply[:160]}")

            graded = await bank.post(
                "/eval/tasks/grade", json={"task_set_id": task_set["task_set_id"]}, headers=inside
            )
            graded.raise_for_status()
            grade = graded.json()
            for difficulty, tally in grade["by_difficulty"].items():
                print(f"  {difficulty:<9} {tally['passed']:>3}/{tally['tasks']:<3}")
            for result in grade["results"]:
                if not result["passed"]:
                    print(f"  failed: {result['kind']}: {result['reason']}")
            for change in grade["collateral"]:
                print(f"  collateral: {change['customer_oid']}: {change['what']}")
            print(f"collateral {grade['collateral_changes']}")

            calls = []
            page = await bank.get(f"/sandboxes/{sandbox_id}/requests", params={"limit": 500})
            while True:
                page.raise_for_status()
                calls += page.json()["requests"]
                cursor = page.json()["next_cursor"]
                if not cursor:
                    break
                page = await bank.get(
                    f"/sandboxes/{sandbox_id}/requests", params={"limit": 500, "cursor": cursor}
                )
            tools = Counter(call["tool"] or call["path"] for call in calls)
            print(
                f"trace: {len(calls)} calls; "
                + ", ".join(f"{t} {n}" for t, n in tools.most_common())
            )
            score = float(grade["total"]["score"])
            print(f"score {score}")
            return score
        finally:
            if not keep:
                await bank.delete(f"/sandboxes/{sandbox_id}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--base-url", default="http://127.0.0.1:3000")
    parser.add_argument("--api-key", default=os.environ.get("BANK_API_KEY"), help="the full key")
    parser.add_argument("--count", type=int, default=26)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--behaviour",
        choices=scripted_agent.BEHAVIOURS,
        default="gold",
        help="what the stand-in does: the gold calls, nothing, or everything twice",
    )
    parser.add_argument("--keep", action="store_true", help="keep the sandbox to look at it")
    args = parser.parse_args()
    asyncio.run(
        evaluate(args.base_url, args.api_key, args.count, args.seed, args.behaviour, args.keep)
    )


if __name__ == "__main__":
    main()
