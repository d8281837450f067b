"""The problem body of a refused command, for the FastAPI handler and the fast path alike."""

from http import HTTPStatus

from fastapi.responses import JSONResponse

from services.registration import metrics
from services.registration.domain.errors import DomainError
from services.runtime import http


def domain_error_problem(error: DomainError) -> JSONResponse:
    metrics.REJECTIONS.labels(type(error).__name__.lower()).inc()
    errors = [{"field": error.field, "message": error.message}] if error.field else []
    return http.problem(error.status, HTTPStatus(error.status).phrase, error.message, errors)
