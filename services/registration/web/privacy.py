"""`/privacy`: the privacy notice of the registration form, in German and English, from the
templates the staff edit (templates/content/privacy.<lang>.html)."""

from fastapi import Request, Response

from services.registration.web.public_router import public_router
from services.runtime.pages import PagesDep, reader_language

PRIVACY_PATH = "/privacy"

router = public_router()


@router.get(PRIVACY_PATH)
async def privacy_page(request: Request, pages: PagesDep) -> Response:
    language = reader_language(request)
    context = {"notice": f"content/privacy.{language}.html"}
    return pages.render(request, "privacy.html", context, language=language,
                        offer_languages=True)  # fmt: skip
