"""Registrations: register for a forum (public for open forums), list (staff), cancel."""

from collections.abc import Sequence
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Body, Header, Query, Response
from starlette.datastructures import State

from schemas import commands
from services.registration import links
from services.registration.domain.registrations import Registration
from services.registration.domain.trace import Trace
from services.registration.http.deps import PublicCallerDep, ServicesDep, TraceDep
from services.registration.http.problems import REFUSALS
from services.registration.http.views import AdmittedView, RegistrationPage, RegistrationView
from services.registration.services import Services
from services.registration.store import registrations as registration_store
from services.runtime import paging
from services.runtime.auth import Caller, CallerDep, StaffDep, unauthorized
from services.runtime.http import linked, problem_responses
from services.runtime.paging import DEFAULT_PAGE_SIZE, Cursor, Limit, PageOrder

router = APIRouter(tags=["registrations"], responses=REFUSALS)
ROUTE_TEMPLATE = "/v1/forums/{forum_id}/registrations"


def _arrival(parts: Sequence[str]) -> int:
    [arrival] = parts
    return paging.bigint(arrival)


# By arrival, as the store lists them (the order of the waitlist).
REGISTRATION_ORDER = PageOrder[int, Registration](
    position_of=lambda registration: (registration.arrival,), read=_arrival
)

IdempotencyKey = Annotated[
    str | None,
    Header(alias="Idempotency-Key", max_length=200, description="Repeat a request safely"),
]


# The operation as the OpenAPI document describes it. `fast_path.RegistrationFastPath` answers
# every POST to this path before routing, whatever spelling of the forum id, so this endpoint is
# never reached: one implementation. It stays mounted so that other methods get 405 with
# `Allow: GET, POST`.
@router.post(
    "/v1/forums/{forum_id}/registrations",
    status_code=201,
    response_model=AdmittedView,
    # 403: a partners-only forum for another organisation; 409: closed, or the e-mail is
    # registered already; 401 also for an anonymous caller on a partners-only forum.
    responses={
        **problem_responses(403, 404, 409),
        **linked(201, "Registered", "registration_id", "cancel_registration"),
    },
    summary="Register for a forum",
    description="Public for open forums (rate-limited per address); staff and intake tokens "
    "register for every forum. The response is the only place besides the registrant's e-mail "
    "where the cancel token appears.",
)
async def register(
    forum_id: UUID,
    body: commands.Register,
    who: PublicCallerDep,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    raise RuntimeError(f"{ROUTE_TEMPLATE} is answered by RegistrationFastPath, not routed")


async def admit_registration(
    state: State,
    forum_id: UUID,
    body: commands.Register,
    who: Caller,
    trace: Trace,
    idempotency_key: str | None,
) -> Response:
    services: Services = state.services
    admitted = await services.registrations.register(
        forum_id,
        body,
        trace,
        idempotency_key=idempotency_key,
        anonymous=not who.is_authenticated,
    )
    base = state.settings.public_base_url
    registration_id = admitted.registration.id
    view = AdmittedView.admitted(
        admitted.registration,
        admitted.cancel_token,
        cancel_url=links.cancel_api_url(base, registration_id, admitted.cancel_token),
        cancel_page_url=links.cancel_page_url(base, registration_id, admitted.cancel_token),
    )
    # Serialised once here: FastAPI would validate the model again against response_model
    # (kept on the route for the OpenAPI document).
    return Response(
        view.model_dump_json(),
        status_code=201,
        media_type="application/json",
        headers={"Idempotent-Replayed": "true"} if admitted.replayed else None,
    )


@router.get(
    "/v1/forums/{forum_id}/registrations",
    response_model=RegistrationPage,
    responses=problem_responses(403, 404),
)
async def list_registrations(
    forum_id: UUID,
    services: ServicesDep,
    _: StaffDep,
    limit: Limit = DEFAULT_PAGE_SIZE,
    cursor: Cursor = None,
) -> RegistrationPage:
    page = REGISTRATION_ORDER.request(cursor, limit)
    await services.forums.get(forum_id)  # 404 for an unknown forum, not an empty page
    async with services.pool.acquire() as conn:
        found = await registration_store.list_page(
            conn, forum_id, after_arrival=page.after or 0, limit=page.fetch_size
        )
    registrations, following = page.page(found)
    return RegistrationPage(
        items=[RegistrationView.of(registration) for registration in registrations],
        next=following,
    )


@router.post(
    "/v1/registrations/{registration_id}/cancel",
    response_model=RegistrationView,
    responses=problem_responses(403, 404, 409),
)
async def cancel_registration(
    registration_id: UUID,
    services: ServicesDep,
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
    cancelled = await services.registrations.cancel(registration_id, command, trace, by=by)
    return RegistrationView.of(cancelled)
