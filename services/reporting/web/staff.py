"""Who may read the reports: a staff bearer token (programs, curl) or a staff session (the
dashboard in a browser)."""

from typing import Annotated

from fastapi import Depends, HTTPException, Request

from services.runtime.auth import Caller, TokenRoles, client_key, resolve_caller, unauthorized
from services.runtime.sessions import Sessions

STAFF_ONLY = "the reports need a staff token (Authorization: Bearer) or a staff sign-in"


async def signed_in_staff(request: Request) -> Caller | None:
    """The caller of a valid staff session, else None (no cookie, forged, expired, revoked)."""
    sessions: Sessions = request.app.state.sessions
    return await sessions.signed_in_staff(request)


async def staff_reader(request: Request) -> Caller:
    """401 without either, 403 for a token of another role."""
    authorization = request.headers.get("authorization")
    if authorization:
        roles: TokenRoles = request.app.state.token_roles
        caller = await resolve_caller(authorization, await client_key(request), roles)
        if not caller.is_staff:
            raise HTTPException(403, "the reports need the staff role")
        return caller
    signed_in = await signed_in_staff(request)
    if signed_in is None:
        raise unauthorized(STAFF_ONLY)
    return signed_in


StaffReaderDep = Annotated[Caller, Depends(staff_reader)]
