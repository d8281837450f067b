"""Registrations: register for a forum (public for open forums), list (staff), cancel."""

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Body, Header, Query, Request, Response
from starlette.datastructures import State

from schemas import commands
from services.registration.domain.trace import Trace
from services.registration.http.deps import PublicCallerDep, ServiceDep, TraceDep
from services.registration.http.paging import DEFAULT_PAGE_SIZE, Cursor, Limit, bad_cursor
from services.registration.http.views import (
    AdmittedView,
    RegistrationPage,
    RegistrationView,
    decode_cursor,
    encode_cursor,
)
from services.registration.service import RegistrationService
from services.registration.store import registrations as registration_store
from services.runtime.auth import Caller, CallerDep, StaffDep, unauthorized

router = APIRouter(tags=["registrations"])

IdempotencyKey = Annotated[
    str | None,
    Header(alias="Idempotency-Key", max_length=200, description="Repeat a request safely"),
]


@router.post("/v1/forums/{forum_id}/registrations", status_code=201, response_model=AdmittedView)
async def register(
    forum_id: UUID,
    body: commands.Register,
    request: Request,
    trace: TraceDep,
    who: PublicCallerDep,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Register for a forum. Public for open forums (rate-limited); the response is the only
    place besides the registrant's e-mail where the cancel token appears.

    Under load this endpoint is answered by `fast_path.RegistrationFastPath` with the same
    `admit_registration`; this route is its documented contract and serves it without the fast
    path."""
    return await admit_registration(request.app.state, forum_id, body, who, trace, idempotency_key)


async def admit_registration(
    state: State,
    forum_id: UUID,
    body: commands.Register,
    who: Caller,
    trace: Trace,
    idempotency_key: str | None,
) -> Response:
    service: RegistrationService = state.service
    admitted = await service.register(
        forum_id,
        body,
        trace,
        idempotency_key=idempotency_key,
        anonymous=not who.is_authenticated,
    )
    base = state.settings.public_base_url.rstrip("/")
    registration_id = admitted.registration.id
    view = AdmittedView.admitted(
        admitted.registration,
        admitted.cancel_token,
        f"{base}/v1/registrations/{registration_id}/cancel?token={admitted.cancel_token}",
    )
    # Serialised once here: FastAPI would validate the model again against response_model
    # (kept on the route for the OpenAPI document).
    return Response(
        view.model_dump_json(),
        status_code=201,
        media_type="application/json",
        headers={"Idempotent-Replayed": "true"} if admitted.replayed else None,
    )


@router.get("/v1/forums/{forum_id}/registrations", response_model=RegistrationPage)
async def list_registrations(
    forum_id: UUID,
    service: ServiceDep,
    _: StaffDep,
    limit: Limit = DEFAULT_PAGE_SIZE,
    cursor: Cursor = None,
) -> RegistrationPage:
    after = 0
    if cursor:
        try:
            after = int(decode_cursor(cursor)[0])
        except (ValueError, IndexError) as error:
            raise bad_cursor() from error
    await service.forum(forum_id)  # 404 for an unknown forum, not an empty page
    async with service.pool.acquire() as conn:
        found = await registration_store.list_page(
            conn, forum_id, after_arrival=after, limit=limit + 1
        )
    last = found[limit - 1] if len(found) > limit else None
    return RegistrationPage(
        items=[RegistrationView.of(registration) for registration in found[:limit]],
        next=encode_cursor(last.arrival) if last else None,
    )


@router.post("/v1/registrations/{registration_id}/cancel", response_model=RegistrationView)
async def cancel_registration(
    registration_id: UUID,
    service: ServiceDep,
    trace: TraceDep,
    who: CallerDep,
    body: Annotated[commands.CancelRegistration | None, Body()] = None,
    token: Annotated[
        str | None,
        Query(max_length=200, description="The cancel token, as in the registrant's cancel_url"),
    ] = None,
) -> RegistrationView:
    """Staff (or an intake system) cancel by id; a registrant with the cancel token, in the body
    or as `?token=` (the `cancel_url` the registration answered with, posted as it is)."""
    command = body or commands.CancelRegistration()
    if command.cancel_token is None and token is not None:
        command = command.model_copy(update={"cancel_token": token})
    if who.is_authenticated and command.cancel_token is None:
        by = "staff" if who.is_staff else "intake"
    elif command.cancel_token is not None:
        by = "registrant"
    else:
        raise unauthorized("give the cancel_token from the confirmation, or a staff token")
    cancelled = await service.cancel_registration(registration_id, command, trace, by=by)
    return RegistrationView.of(cancelled)
