"""How routes answer: the service's model, computed and serialised on a database thread.

Handlers are coroutines, so a request costs no trip to a thread pool until it
needs the database, and then exactly one (see ``db.Database``). The model is
serialised there, after its session is closed, and sent as the bytes it became.
"""

from collections.abc import Callable, Mapping

from fastapi import Response
from pydantic import BaseModel
from sqlmodel import Session

from db import Database


def to_json(model: BaseModel) -> bytes:
    return model.model_dump_json().encode()


def json_bytes(body: bytes, headers: Mapping[str, str] | None = None) -> Response:
    return Response(body, media_type="application/json", headers=headers)


async def answer(
    database: Database, work: Callable[[Session], BaseModel], *, write: bool = False
) -> Response:
    return json_bytes(await database.run(work, to_json, write=write))


async def answer_cheap(database: Database, work: Callable[[Session], BaseModel]) -> Response:
    """For a read of one indexed row: on SQLite in the event loop's own thread (a local file
    answers in microseconds); on a server database through a database thread, so that a slow
    network never blocks the loop."""
    if not database.reads_on_loop:
        return await answer(database, work)
    return json_bytes(to_json(database.run_here(work)))
