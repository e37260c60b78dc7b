"""The answer key for agent evaluations: questions with gold answers drawn from the bank's
own state, and a grader (``key.py``); the kinds of question (``kinds/``); a scripted
stand-in for an agent that answers them through the API (``scripted_agent.py``).

The key reads raw rows with SQL of its own and imports no service or analysis: its
arithmetic is independent of what it checks. Task sets (``tasks/``) are the other way round
on purpose: a task's gold end state is what the bank's own services do, rehearsed and rolled
back. Only the HTTP layer and the entry points import this package."""

ROUTE_PREFIX = "/eval"
"""Where the answer key is served: the harness's routes, never the agent's."""
