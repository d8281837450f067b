"""The result page after the form registered someone: `GET /registrations/{id}/registered`
(POST/redirect/GET, so reloading it registers nobody again), shown only to the browser that sent
the form. The proof is a signed cookie, never a URL parameter: URLs land in logs and histories,
and the cancel token they would need travels only by e-mail."""

import hashlib
import hmac
from uuid import UUID

from fastapi import Request, Response

from services.registration.domain.errors import NotFound
from services.registration.http.deps import ServicesDep
from services.registration.web.public_router import public_router
from services.runtime.csrf import CsrfProtection
from services.runtime.pages import LANGUAGE_PARAMETER, PagesDep, reader_language

RESULT_PAGE_PATH = "/registrations/{registration_id}/registered"
RESULT_COOKIE = "dialognet_registered"
# Beside the CSRF tokens made with the same key: a purpose of its own, so neither passes as
# the other.
_PURPOSE = b"registration-result:"

router = public_router()


def result_page_url(registration_id: UUID, language: str) -> str:
    path = RESULT_PAGE_PATH.format(registration_id=registration_id)
    return f"{path}?{LANGUAGE_PARAMETER}={language}"


def remember_result(request: Request, response: Response, registration_id: UUID) -> None:
    """Lets this browser (only) see the result page for the rest of its session."""
    protection: CsrfProtection = request.app.state.csrf
    response.set_cookie(
        RESULT_COOKIE,
        _proof(protection, registration_id),
        path=RESULT_PAGE_PATH.format(registration_id=registration_id),
        httponly=True,
        samesite="strict",
        secure=protection.secure_cookie,
    )


def _proof(protection: CsrfProtection, registration_id: UUID) -> str:
    return hmac.new(protection.key, _PURPOSE + registration_id.bytes, hashlib.sha256).hexdigest()


def _holds_proof(request: Request, registration_id: UUID) -> bool:
    offered = request.cookies.get(RESULT_COOKIE, "")
    expected = _proof(request.app.state.csrf, registration_id)
    return hmac.compare_digest(expected.encode(), offered.encode("utf-8", "surrogatepass"))


@router.get(RESULT_PAGE_PATH)
async def result_page(
    request: Request, registration_id: str, services: ServicesDep, pages: PagesDep
) -> Response:
    language = reader_language(request)
    try:
        found = UUID(registration_id)
    except ValueError:
        found = None
    if found is None or not _holds_proof(request, found):
        return pages.render(request, "registrations/result_elsewhere.html", {},
                            language=language, status=403)  # fmt: skip
    try:
        registration = await services.registrations.get(found)
        forum = await services.forums.get(registration.forum_id)
    except NotFound:  # erased since, with its organisation
        return pages.render(request, "registrations/result_elsewhere.html", {},
                            language=language, status=404)  # fmt: skip
    context = {"registration": registration, "forum": forum}
    return pages.render(request, "registrations/registered.html", context, language=language)
