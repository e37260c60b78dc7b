"""System routes: health."""

from fastapi import APIRouter, Response
from sqlmodel import Session

from api.answers import answer_cheap
from api.http_errors import error_responses
from db import DatabaseDep, check_database
from schemas.common import HealthResponse

router = APIRouter(tags=["system"])


HEALTHY = HealthResponse(status="healthy", service="dummy-bank-api")


@router.get(
    "/health",
    summary="Service and database health",
    responses=error_responses(),
    response_model=HealthResponse,
)
async def health(database: DatabaseDep) -> Response:
    """`healthy` when the service can reach its database; 503 with a reason otherwise."""

    def check(session: Session) -> HealthResponse:
        check_database(session)
        return HEALTHY

    return await answer_cheap(database, check)
