"""`/unsubscribe?token=…`: GET shows a confirmation with one button, POST unsubscribes — also
the one-click POST a mail program sends (RFC 8058: `List-Unsubscribe=One-Click`), which comes
without any cookie: the signed token is what authorises it, not a CSRF token."""

from pathlib import Path

from fastapi import APIRouter, FastAPI, Request, Response

from services.notification.store import unsubscribes
from services.notification.unsubscribe import UnsubscribeTokens
from services.runtime.languages import choose_language
from services.runtime.pages import LANGUAGE_PARAMETER, Pages, mount_static

WEB = Path(__file__).parent
TEMPLATES = WEB / "templates"
LOCALES = WEB / "locale"
MAX_TOKEN_LENGTH = 200

router = APIRouter(include_in_schema=False)


def install(app: FastAPI) -> None:
    app.state.pages = Pages(TEMPLATES, [LOCALES])
    app.include_router(router)
    mount_static(app)


@router.get("/unsubscribe")
async def confirm(request: Request, token: str = "") -> Response:
    if _recipient(request, token) is None:
        return _page(request, "invalid_link.html", {}, status=403)
    return _page(request, "unsubscribe.html", {"token": token}, offer_languages=True)


@router.post("/unsubscribe")
async def unsubscribe(request: Request) -> Response:
    form = await request.form()
    offered = request.query_params.get("token") or form.get("token") or ""
    token = offered if isinstance(offered, str) else ""
    recipient = _recipient(request, token)
    if recipient is None:
        return _page(request, "invalid_link.html", {}, status=403)
    async with request.app.state.host.pool.acquire() as conn:
        await unsubscribes.unsubscribe(conn, recipient)
    return _page(request, "unsubscribed.html", {})


def _recipient(request: Request, token: str) -> str | None:
    tokens: UnsubscribeTokens = request.app.state.unsubscribe_tokens
    return tokens.recipient(token[:MAX_TOKEN_LENGTH]) if token else None


def _page(
    request: Request,
    template: str,
    context: dict[str, object],
    *,
    status: int = 200,
    offer_languages: bool = False,
) -> Response:
    pages: Pages = request.app.state.pages
    language = choose_language(
        request.query_params.get(LANGUAGE_PARAMETER), _accepted(request.headers)
    )
    return pages.render(
        request,
        template,
        context,
        language=language,
        status=status,
        offer_languages=offer_languages,
    )


def _accepted(headers: object) -> str | None:
    """The reader's first language (`Accept-Language: en-GB,en;q=0.9` → `en`)."""
    value = getattr(headers, "get", lambda _: None)("accept-language") or ""
    first = value.split(",")[0].split(";")[0].strip()
    return first.split("-")[0].lower() or None
