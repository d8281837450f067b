"""Signing in to the console with a staff token (the admin token counts; an intake token is
refused) and out again."""

from typing import Annotated

from fastapi import Form, Request, Response

from services.registration.web.staff.access import PREFIX, console_router, sessions_of
from services.registration.web.staff.rendering import page, see_other
from services.runtime.sessions import MAX_TOKEN_LENGTH, SignInRefused, staff_token_digest

router = console_router(needs_session=False)


@router.get("/sign-in")
async def sign_in_page(request: Request) -> Response:
    return page(request, "sign_in.html", {"error": None})


@router.post("/sign-in")
async def sign_in(
    request: Request, token: Annotated[str, Form(max_length=MAX_TOKEN_LENGTH)] = ""
) -> Response:
    """The CSRF token was checked before this runs (console_router)."""
    try:
        digest = await staff_token_digest(request, token)
    except SignInRefused as refused:
        refusal = page(
            request,
            "sign_in.html",
            {"error": refused.reason},
            status=refused.status,
        )
        if refused.retry_after is not None:
            refusal.headers["Retry-After"] = str(int(refused.retry_after) + 1)
        return refusal
    response = see_other(f"{PREFIX}/")
    sessions_of(request).attach(response, digest)
    return response


@router.post("/sign-out")
async def sign_out(request: Request) -> Response:
    response = see_other(f"{PREFIX}/sign-in", "signed_out")
    sessions_of(request).clear(response)
    return response
