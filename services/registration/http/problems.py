"""The problem body of a refused command, for the FastAPI handler and the fast path alike."""

from http import HTTPStatus

from fastapi.responses import JSONResponse

from services.registration import metrics
from services.registration.domain.errors import AuthenticationRequired, DomainError
from services.runtime import http
from services.runtime.auth import BEARER_CHALLENGE

# What any operation of the API may answer: a bad token, a body over the limit, invalid fields,
# the rate limit (anonymous callers, and callers sending unknown tokens).
REFUSALS = http.problem_responses(401, 413, 422, 429)


def domain_error_problem(error: DomainError) -> JSONResponse:
    metrics.REJECTIONS.labels(error.reason).inc()
    errors = [{"field": error.field, "message": error.message}] if error.field else []
    response = http.problem(error.status, HTTPStatus(error.status).phrase, error.message, errors)
    if isinstance(error, AuthenticationRequired):
        response.headers["WWW-Authenticate"] = BEARER_CHALLENGE
    return response
