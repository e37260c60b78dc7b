"""Evaluate an agent against Dummy Bank, end to end, with a scripted stand-in for the agent.

    ./scripts/serve                                   # in one terminal
    .venv/bin/python -m examples.evaluate_agent       # in another

1. create a sandbox (an isolated bank: the agent's writes and the trace stay in it);
2. fetch an answer key for it (the harness's side: the agent never sees it);
3. let the agent answer each question through MCP, with the sandbox's own key;
4. grade the answers;
5. read the sandbox's trace: every call the agent made, in order.

To evaluate your own agent, replace ``stand_in`` with a call to it that passes
``question["question"]`` (the plain-words question) and returns its answer.
"""

import argparse
import asyncio
import os
from collections import Counter
from datetime import date
from typing import Any

import httpx2
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client

from evals import scripted_agent


async def stand_in(session: ClientSession, question: dict[str, Any], as_of: date) -> Any:
    """The scripted stand-in: makes the question's evidence calls over MCP and reads the
    answer off them. A real agent gets only ``question["question"]`` and the tools."""

    async def call_tool(name: str, arguments: dict[str, Any]) -> tuple[bool, Any]:
        result = await session.call_tool(name, arguments)
        if result.is_error:
            return True, result.content[0].text  # type: ignore[union-attr]
        return False, result.structured_content

    results = [await scripted_agent.collect_mcp(call_tool, call) for call in question["evidence"]]
    return scripted_agent.answer(question, results, as_of)


async def evaluate(base_url: str, api_key: str | None, count: int, seed: int, keep: bool) -> float:
    auth = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    async with httpx2.AsyncClient(base_url=base_url, headers=auth, timeout=120) as bank:
        created = await bank.post(
            "/sandboxes", json={"customers": 20, "seed": seed, "label": "agent evaluation"}
        )
        created.raise_for_status()
        sandbox_id = created.json()["sandbox_id"]
        inside = {"X-Bank-Sandbox": sandbox_id}
        # The agent's only key: its sandbox alone (no other sandbox, faults, trace or /eval).
        agent_key = {"Authorization": f"Bearer {created.json()['sandbox_key']}"}
        print(f"sandbox {sandbox_id}")
        try:
            key = await bank.get(
                "/eval/questions", params={"count": count, "seed": seed}, headers=inside
            )
            key.raise_for_status()
            questions = key.json()["questions"]
            as_of = date.fromisoformat(key.json()["as_of"])
            print(f"{len(questions)} questions as of {as_of}")

            answers = []
            async with (
                httpx2.AsyncClient(headers=agent_key, timeout=120) as agent_http,
                streamable_http_client(f"{base_url}/mcp", http_client=agent_http) as streams,
                ClientSession(*streams[:2]) as session,
            ):
                await session.initialize()
                for question in questions:
                    # The agent sees the question, not the answer key.
                    given = await stand_in(session, question, as_of)
                    answers.append({"question_id": question["question_id"], "answer": given})

            graded = await bank.post("/eval/grade", json={"answers": answers}, headers=inside)
            graded.raise_for_status()
            grade = graded.json()
            for difficulty, tally in grade["by_difficulty"].items():
                print(f"  {difficulty:<13} {tally['correct']:>3}/{tally['questions']:<3}")
            for result in grade["results"]:
                if not result["correct"]:
                    print(f"  wrong: {result['kind']}: {result['reason']}")

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
    parser.add_argument("--count", type=int, default=42)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", action="store_true", help="keep the sandbox to look at it")
    args = parser.parse_args()
    asyncio.run(evaluate(args.base_url, args.api_key, args.count, args.seed, args.keep))


if __name__ == "__main__":
    main()
