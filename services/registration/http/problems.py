"""The problem body of a refused command, for the FastAPI handler and the fast path alike."""

from http import HTTPStatus

from fastapi.responses import JSONResponse

from services.registration import metrics
from services.registration.domain.errors import AuthenticationRequired, DomainError
from services.runtime import http
from services.runtime.auth import BEARER_CHALLENGE


def domain_error_problem(error: DomainError) -> JSONResponse:
    metrics.REJECTIONS.labels(type(error).__name__.lower()).inc()
    errors = [{"field": error.field, "message": error.message}] if error.field else []
    response = http.problem(error.status, HTTPStatus(error.status).phrase, error.message, errors)
    if isinstance(error, AuthenticationRequired):
        response.headers["WWW-Authenticate"] = BEARER_CHALLENGE
    return response
