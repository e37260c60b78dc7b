"""How errors reach HTTP clients: one JSON body, the handlers, and what OpenAPI says of them.

Every error the API sends, from a route, a middleware or the MCP mount, is
``{"detail": str, "request_id": str}``, built by ``error_body``.
"""

import json
import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import Response
from sqlalchemy.exc import DisconnectionError, OperationalError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as SQLAlchemyTimeoutError
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.params import plain_parameters
from core.errors import BankError
from schemas.common import ErrorResponse
from services.idempotency import Replayed

log = logging.getLogger("dummy_bank")

INVALID_OID = "A malformed CustomerOID, or a parameter that breaks a rule (detail says which)."
UNKNOWN_CUSTOMER = "No customer with this CustomerOID."
UNAVAILABLE = "The database cannot be reached right now; try again."


def error_body(detail: str, request_id: str, rule: str | None = None) -> bytes:
    """The one shape of every error answer, serialised as Starlette's JSONResponse does; a
    refusal by one of the bank's rules names it in ``rule``."""
    body = {"detail": detail, "request_id": request_id}
    if rule is not None:
        body["rule"] = rule
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


def error_response(
    request: Request, status: int, detail: str, rule: str | None = None, **headers: str
) -> Response:
    request_id = str(getattr(request.state, "request_id", ""))
    return Response(
        error_body(detail, request_id, rule),
        status_code=status,
        headers=headers,
        media_type="application/json",
    )


def example_response(value: Any, status_code: int = 200) -> dict[int | str, dict[str, Any]]:
    """A ``responses=`` entry showing ``value`` as the answer's example."""
    return {status_code: {"content": {"application/json": {"example": value}}}}


def error_responses(**by_code: str) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for what a route can really answer besides 200.

    Keys are ``e400``, ``e404``, ``e409``; every route reads the database, so 503 is always there.
    """
    described = {int(code.removeprefix("e")): text for code, text in by_code.items()}
    described[503] = UNAVAILABLE
    return {code: {"model": ErrorResponse, "description": text} for code, text in described.items()}


def media_type(headers: Headers) -> str:
    return headers.get("content-type", "").split(";", 1)[0].strip().lower()


def is_json(media: str) -> bool:
    """Whether a body of this media type is read as JSON (FastAPI reads one without a
    Content-Type as JSON too)."""
    return media in ("", "application/json") or media.endswith("+json")


def describe_validation_error(exc: RequestValidationError, media: str = "") -> str:
    """One readable sentence per problem, naming the field and the rule; a body sent as
    something else than JSON (``media``, curl's -d sends a form) is one problem, what to fix."""
    if not is_json(media) and any(error.get("loc", ())[:1] == ("body",) for error in exc.errors()):
        return (
            "Invalid request: request body: send it as JSON, with Content-Type: "
            f"application/json (it came as {media[:60]})"
        )
    problems = []
    for error in exc.errors():
        location = [str(part) for part in error.get("loc", ())]
        where, path = (location[0], location[1:]) if location else ("request", [])
        if error.get("type") == "json_invalid":
            reason = error.get("ctx", {}).get("error", "invalid JSON")
            problems.append(f"request body: malformed JSON ({reason})")
        elif where == "body" and not path:
            problems.append(f"request body: {error['msg']}")
        elif error.get("type") == "extra_forbidden":
            problems.append(f"{where} field '{'.'.join(path)}': unknown field, not allowed")
        else:
            problems.append(f"{where} field '{'.'.join(path)}': {error['msg']}")
    return "Invalid request: " + "; ".join(problems)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(BankError)
    async def bank_error(request: Request, exc: BankError) -> Response:
        if isinstance(exc, Replayed):
            body = exc.body
            if exc.status_code >= 400:
                # A kept refusal is an error like any other: it names this request.
                body = {**body, "request_id": str(getattr(request.state, "request_id", ""))}
            return Response(
                json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode(),
                status_code=exc.status_code,
                headers={"Idempotent-Replayed": "true"},
                media_type="application/json",
            )
        rule = getattr(exc, "rule", None)
        return error_response(request, exc.status_code, exc.detail, rule, **exc.headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        return error_response(
            request, 400, describe_validation_error(exc, media_type(request.headers))
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            # A path served by several routes (GET and POST on one path): allow them all.
            headers["Allow"] = ", ".join(allowed_methods(request.app, request.url.path))
        return error_response(request, exc.status_code, str(exc.detail), **headers)

    @app.exception_handler(SQLAlchemyError)
    async def database_error(request: Request, exc: SQLAlchemyError) -> Response:
        # The traceback stays in the server log; the client never sees SQL.
        log.error("database error on %s %s", request.method, request.url.path, exc_info=exc)
        if isinstance(exc, OperationalError | DisconnectionError | SQLAlchemyTimeoutError):
            return error_response(request, 503, UNAVAILABLE)
        return error_response(request, 500, "Internal server error")

    @app.exception_handler(Exception)
    async def unexpected_error(request: Request, exc: Exception) -> Response:
        # Starlette logs the traceback after this answer; the client gets JSON, not text.
        # This handler runs outside the middleware that adds the request id header.
        request_id = str(getattr(request.state, "request_id", ""))
        return error_response(request, 500, "Internal server error", **{"X-Request-ID": request_id})


def allowed_methods(app: FastAPI, path: str) -> list[str]:
    """Every method some route answers on ``path``, as an Allow header lists them."""
    methods: set[str] = set()
    for route in app.routes:
        pattern = getattr(route, "path_regex", None)
        if pattern is not None and pattern.match(path):
            methods |= set(getattr(route, "methods", None) or ())
    return sorted(methods)


OPEN_OPERATIONS = {"/health"}
"""Answered without a key even when the bank has keys."""


def _document_keys(schema: dict[str, Any], keys: bool) -> None:
    """API keys, as the key middleware takes them: 401 without one and 403 for a write with
    the read key, where the bank has keys. Only a bank with keys asks for one (a padlock on
    each route in Swagger UI): a bank without keys is open, and /health always is."""
    if keys:
        _require_keys(schema)
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}}
    for path, operations in schema.get("paths", {}).items():
        if path in OPEN_OPERATIONS:
            continue
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            responses.setdefault(
                "401",
                {"description": "The bank has API keys and none (or a wrong one) was sent.",
                 "content": error},
            )  # fmt: skip
            if method != "get":
                responses.setdefault(
                    "403",
                    {"description": "The key sent may only read.", "content": error},
                )


def _require_keys(schema: dict[str, Any]) -> None:
    schema.setdefault("components", {})["securitySchemes"] = {
        "bearer": {"type": "http", "scheme": "bearer", "description": "BANK_API_KEY, "
                   "BANK_READ_API_KEY or a sandbox's key (sbk_..., from POST /sandboxes, "
                   "good in that sandbox only), as Authorization: Bearer <key>."},
        "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key",
                   "description": "The same keys, as X-API-Key: <key>."},
    }  # fmt: skip
    schema["security"] = [{"bearer": []}, {"apiKey": []}]
    for path in OPEN_OPERATIONS:
        for operation in schema.get("paths", {}).get(path, {}).values():
            operation["security"] = []


def openapi_without_422(app: FastAPI, *, keys: bool) -> dict[str, Any]:
    """The OpenAPI document, minus FastAPI's default 422 (validation): this API answers 400
    instead. A route's own 422, a bank rule's refusal, stays. ``keys``: whether the bank
    has API keys, and so asks for one. Parameters are plain (``params.plain_parameters``)."""
    if app.openapi_schema is None:
        schema = get_openapi(
            title=app.title,
            version=app.version,
            description=app.description,
            routes=app.routes,
            tags=app.openapi_tags,
        )
        for operations in schema.get("paths", {}).values():
            for operation in operations.values():
                responses = operation.get("responses", {})
                if "HTTPValidationError" in json.dumps(responses.get("422", {})):
                    responses.pop("422")
        for unused in ("HTTPValidationError", "ValidationError"):
            schema.get("components", {}).get("schemas", {}).pop(unused, None)
        _document_keys(schema, keys)
        plain_parameters(schema)
        app.openapi_schema = schema
    return app.openapi_schema
