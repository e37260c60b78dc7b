"""System routes: health."""

from fastapi import APIRouter

from api_errors import error_responses
from db import SessionDep, check_database
from schemas import HealthResponse

router = APIRouter(tags=["system"])


@router.get("/health", summary="Service and database health", responses=error_responses())
def health(session: SessionDep) -> HealthResponse:
    """`healthy` when the service can reach its database; 503 with a reason otherwise."""
    check_database(session)
    return HealthResponse(status="healthy", service="dummy-bank-api")
