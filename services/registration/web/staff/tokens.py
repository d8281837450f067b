"""Tokens in the console: create one for an intake system (shown once: only its hash is kept),
list them by name (never a token or its hash), revoke every active token of a name."""

from typing import Annotated

from fastapi import Form, Request, Response

from services.registration.web.staff.access import PREFIX, console_router
from services.registration.web.staff.rendering import page, reader_language, see_other
from services.runtime.access import tokens
from services.runtime.access.tokens import Role
from services.runtime.forms import FieldError
from services.runtime.host import ServiceHost

router = console_router()

# As long as a name people give a system, well within the column.
MAX_NAME_LENGTH = 100


@router.get("/tokens")
async def token_list(request: Request) -> Response:
    return await _list_page(request, "", [])


@router.post("/tokens")
async def create(request: Request, name: Annotated[str, Form()] = "") -> Response:
    name = name.strip()
    language = reader_language(request)
    if not name or len(name) > MAX_NAME_LENGTH or not name.isprintable():
        message = language.gettext("Enter a name of at most %(limit)s characters.") % {
            "limit": MAX_NAME_LENGTH
        }
        return await _list_page(request, name, [FieldError("name", message)], status=422)
    host: ServiceHost = request.app.state.host
    async with host.access.pool.acquire() as conn:
        token = await tokens.create_token(conn, role=Role.INTAKE, name=name)
    # Shown in this answer only (no redirect: a page to return to would show it again).
    return page(request, "token_created.html", {"name": name, "token": token}, status=201)


@router.post("/tokens/revoke")
async def revoke(request: Request, name: Annotated[str, Form()] = "") -> Response:
    host: ServiceHost = request.app.state.host
    async with host.access.pool.acquire() as conn:
        await tokens.revoke_tokens(conn, name=name.strip())
    return see_other(f"{PREFIX}/tokens", "revoked")


async def _list_page(
    request: Request, name: str, errors: list[FieldError], status: int = 200
) -> Response:
    host: ServiceHost = request.app.state.host
    async with host.access.pool.acquire() as conn:
        listed = await tokens.list_tokens(conn)
    context = {"tokens": listed, "name": name, "errors": errors}
    return page(request, "tokens.html", context, status=status)
