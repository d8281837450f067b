"""The security walk: every endpoint of every service by every kind of caller → the status the
table in walk_table.py expects; the endpoints are read from each app's routes, so a route the
table does not judge fails the walk."""

import contextlib
import hashlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

import asyncpg
import httpx
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from starlette.routing import Mount
from starlette.types import ASGIApp

from services.notification.app import create_app as notification_app
from services.registration.app import create_app as registration_app
from services.registration.web.staff.access import COOKIE_NAME as CONSOLE_COOKIE
from services.reporting.app import create_app as reporting_app
from services.runtime.access.tokens import Role, create_token, revoke_tokens
from services.runtime.csrf import FORM_FIELD
from services.runtime.mailbox.app import create_app as mailbox_app
from services.runtime.sessions import COOKIE_NAME as DASHBOARD_COOKIE
from services.runtime.settings import Settings
from tests.conftest import TEST_ADMIN_TOKEN
from tests.html_page import forms
from tests.integration.registration import bodies
from tests.integration.registration.steps import new_forum, new_partner, ok
from tests.security import walk_table
from tests.security.conftest import WholePlatform
from tests.security.walk_table import Caller, Expected, Outcome

Route = tuple[str, str]  # method, path template


def _api_of(app: ASGIApp) -> FastAPI:
    """The FastAPI app inside a service's middleware (metrics, body limit, fast path)."""
    while not isinstance(app, FastAPI):
        app = app.app  # type: ignore[attr-defined]
    return app


def routes_of(app: ASGIApp) -> tuple[set[Route], set[str]]:
    """Every (method, path) the app serves, HEAD aside (Starlette adds it to each GET), and the
    paths its static files are mounted at."""
    served: set[Route] = set()
    mounts: set[str] = set()
    for context in iter_route_contexts(_api_of(app).router.routes):
        path = str(context.path)
        if isinstance(context.original_route, Mount):
            mounts.add(path)
            continue
        served.update((method, path) for method in context.methods or () if method != "HEAD")
    return served, mounts


def table_of(service: str) -> dict[Route, Expected]:
    own = {
        "registration": walk_table.REGISTRATION,
        "notification": walk_table.NOTIFICATION,
        "reporting": walk_table.REPORTING,
        "mailbox": walk_table.MAILBOX,
    }[service]
    return {**walk_table.EVERY_SERVICE, **own}


def test_every_route_of_every_service_is_in_the_table(settings: Settings) -> None:
    apps = {
        "registration": registration_app(settings),
        "notification": notification_app(settings),
        "reporting": reporting_app(settings),
        "mailbox": mailbox_app(settings),
    }
    for service, app in apps.items():
        served, mounts = routes_of(app)
        table = table_of(service)
        assert served - table.keys() == set(), f"{service}: routes the walk does not judge"
        assert table.keys() - served == set(), f"{service}: table rows of no route"
        assert mounts <= set(walk_table.STATIC_MOUNTS), service


@dataclass
class Ids:
    """Real ids (and the secrets of links) the walk fills the paths with."""

    path_values: dict[str, str]
    cancel_token: str
    unsubscribe_token: str


@dataclass
class Tokens:
    staff: str
    intake: str
    revoked: str


@dataclass
class Browser:
    """One caller's client on one service: its cookies, and the CSRF token its pages gave."""

    client: httpx.AsyncClient
    csrf_token: str = ""
    headers: dict[str, str] = field(default_factory=dict)


async def _tokens(settings: Settings) -> tuple[Tokens, asyncpg.Connection]:
    conn = await asyncpg.connect(settings.service_database_url("access"))
    made = {
        role_name: await create_token(conn, role=role, name=f"walk {role_name}")
        for role_name, role in (
            ("staff", Role.STAFF),
            ("intake", Role.INTAKE),
            ("revoked", Role.STAFF),
        )
    }
    return Tokens(made["staff"], made["intake"], made["revoked"]), conn


async def _ids(whole: WholePlatform) -> Ids:
    """A partner invited to a new forum (an unsubscribe link), a registration to it (a cancel
    token, a confirmation mail with its .ics in the sink, a delivery)."""
    platform = whole.services
    service = platform.registration
    address = bodies.unique_email("walk")
    partner = await new_partner(service, with_contact=bodies.contact(email=address))
    forum = await new_forum(service)
    invitation = await platform.received_once(address, "forum_invitation", forum["id"])
    link = str(invitation.message["List-Unsubscribe"]).strip("<>")
    [unsubscribe_token] = parse_qs(urlsplit(link).query)["token"]
    registrant = bodies.unique_email("walk")
    made = ok(
        await service.staff.post(
            f"/v1/forums/{forum['id']}/registrations", json=bodies.registration(email=registrant)
        ),
        201,
    )
    confirmation = await platform.received_once(registrant, "registration_confirmed")
    [message] = await platform.messages(registrant)
    shown = ok(await platform.mailbox.http.get(f"/api/messages/{message['id']}"))
    ics = shown["attachments"][0]  # the .ics, or the logo the HTML shows inline
    return Ids(
        {
            "organization_id": partner["id"],
            "forum_id": forum["id"],
            "registration_id": made["id"],
            "delivery_id": confirmation.delivery["id"],
            "message_id": message["id"],
            "index": ics["url"].rsplit("/", 1)[-1],
            "step": "interest",
        },
        made["cancel_token"],
        unsubscribe_token,
    )


def _forged(cookie: str) -> str:
    """A session cookie of the admin token's digest, signed with a made-up key."""
    expires, _, _ = cookie.split(".")
    digest = hashlib.sha256(TEST_ADMIN_TOKEN.encode()).hexdigest()
    return f"{expires}.{digest}.{hashlib.sha256(b'not the key').hexdigest()}"


def _is_sign_in(response: httpx.Response) -> bool:
    if response.status_code == 303:
        return "sign-in" in response.headers["location"]
    return response.status_code == 200 and any(
        form.action.endswith("sign-in") and "token" in form.fields for form in forms(response.text)
    )


def outcome_of(method: str, response: httpx.Response) -> Outcome | str:
    """What the caller got, in the table's words; anything else as its status."""
    status = response.status_code
    if status in (401, 403):
        return Outcome.UNAUTHORIZED if status == 401 else Outcome.FORBIDDEN
    if _is_sign_in(response):
        return Outcome.SIGN_IN
    if status >= 500 or (method == "GET" and status not in (200, 303)):
        return f"{status}: {response.text[:200]}"
    return Outcome.LET_IN


def _walk_order(route: Route) -> tuple[int, str, str]:
    """Reading first, then writing, signing out last: a staff caller's DELETE or sign-out must
    not change what the reads of the others find."""
    method, path = route
    return (2 if path.endswith("sign-out") else 0 if method == "GET" else 1, path, method)


# The services whose pages open with a staff session.
SESSION_SERVICES = ("registration", "reporting")


def _uses_session(service: str, path: str) -> bool:
    return (service == "registration" and path.startswith("/staff/")) or (
        service == "reporting" and path in ("/", "/v1/dashboard")
    )


def _fill(path: str, ids: Ids) -> str:
    for name, value in ids.path_values.items():
        path = path.replace(f"{{{name}}}", value)
    return path


def _link_token(path: str, caller: Caller, ids: Ids) -> dict[str, str]:
    """The `?token=` of the routes a link's token opens: the right one, or a wrong one."""
    right = {
        "/unsubscribe": ids.unsubscribe_token,
        "/registrations/{registration_id}/cancel": ids.cancel_token,
        "/v1/registrations/{registration_id}/cancel": ids.cancel_token,
    }.get(path)
    if right is None:
        return {}
    if caller is Caller.WRONG_CANCEL:
        return {"token": f"{right[:-2]}{'AA' if right[-2:] != 'AA' else 'BB'}"}
    api_cancel = path.startswith("/v1/")
    # Through the API only the registrant holds the token; a token-holding caller cancels by id.
    return {"token": right} if caller is Caller.ANONYMOUS or not api_cancel else {}


async def request_as(browser: Browser, route: Route, caller: Caller, ids: Ids) -> httpx.Response:
    """The request a caller's client sends: JSON to the APIs, a form (with its CSRF token) to
    the pages, the link's token where one applies."""
    method, template = route
    path = _fill(template, ids)
    query = _link_token(template, caller, ids)
    if method == "GET" or template.startswith(("/v1/", "/api/")):
        body: dict[str, str] | None = (
            {} if method in ("POST", "PATCH") and "cancel" not in template else None
        )
        return await browser.client.request(
            method, path, params=query, json=body, headers=browser.headers
        )
    form = {FORM_FIELD: browser.csrf_token, **query}
    return await browser.client.request(
        method, path, params=query, data=form, headers=browser.headers
    )


def base_url(settings: Settings, service: str) -> str:
    return {
        "registration": settings.public_base_url,
        "notification": settings.notification_public_base_url,
        "reporting": settings.reporting_public_base_url,
        "mailbox": f"http://127.0.0.1:{settings.mailbox_port}",
    }[service]


CSRF_PAGES = {
    "registration": "/staff/sign-in",
    "notification": None,  # the unsubscribe page, with its token
    "reporting": "/",
    "mailbox": None,  # no CSRF: the sink's forms are the local user's
}


async def _csrf_token(client: httpx.AsyncClient, service: str, ids: Ids) -> str:
    page = CSRF_PAGES[service]
    params: dict[str, str] = {}
    if service == "notification":
        page, params = "/unsubscribe", {"token": ids.unsubscribe_token}
    if page is None:
        return ""
    shown = await client.get(page, params=params)
    assert shown.status_code == 200, f"{service} {page}: {shown.status_code}"
    found = [form.fields[FORM_FIELD] for form in forms(shown.text) if FORM_FIELD in form.fields]
    return found[0] if found else ""  # the unsubscribe form has none: its link's token is it


async def _sign_in(browser: Browser, service: str, token: str) -> None:
    action = "/staff/sign-in" if service == "registration" else "/sign-in"
    answer = await browser.client.post(
        action, data={FORM_FIELD: browser.csrf_token, "token": token}
    )
    assert answer.status_code == 303, f"{service} sign-in: {answer.status_code} {answer.text[:200]}"


@contextlib.asynccontextmanager
async def browsers(
    settings: Settings, service: str, tokens: Tokens, ids: Ids
) -> AsyncIterator[dict[Caller, Browser]]:
    """A client per caller on one service, each with the cookies and headers it stands for.
    The revoked caller signed in while its token was good (a session outliving its token)."""
    base = base_url(settings, service)
    async with contextlib.AsyncExitStack() as stack:
        found: dict[Caller, Browser] = {}
        for caller in Caller:
            client = await stack.enter_async_context(httpx.AsyncClient(base_url=base, timeout=30))
            browser = Browser(client, await _csrf_token(client, service, ids))
            found[caller] = browser
        bearer = {
            Caller.INTAKE: tokens.intake,
            Caller.STAFF: tokens.staff,
            Caller.REVOKED: tokens.revoked,
        }
        if service in SESSION_SERVICES:
            for caller in (Caller.STAFF, Caller.REVOKED):
                await _sign_in(found[caller], service, bearer[caller])
            cookie_name = CONSOLE_COOKIE if service == "registration" else DASHBOARD_COOKIE
            signed = found[Caller.STAFF].client.cookies[cookie_name]
            found[Caller.FORGED_SESSION].client.cookies.set(cookie_name, _forged(signed))
        for caller, token in bearer.items():
            found[caller].headers = {"Authorization": f"Bearer {token}"}
        yield found


def _session_view(service: str, path: str, caller: Caller, browser: Browser) -> Browser:
    """On a session's routes a signed-in caller goes as the browser, without a bearer header."""
    if _uses_session(service, path) and caller in (Caller.STAFF, Caller.REVOKED):
        return Browser(browser.client, browser.csrf_token)
    return browser


SERVICES = ("registration", "notification", "mailbox", "reporting")


async def _walk_service(service: str, by_caller: dict[Caller, Browser], ids: Ids) -> list[str]:
    """Every route of the service as every caller its row names; what differs from the table."""
    wrong = []
    table = table_of(service)
    for route in sorted(table, key=_walk_order):
        for caller, expected in table[route].items():
            browser = _session_view(service, route[1], caller, by_caller[caller])
            got = outcome_of(route[0], await request_as(browser, route, caller, ids))
            if got != expected:
                shown = got.value if isinstance(got, Outcome) else got
                wrong.append(f"{service} {' '.join(route)} as {caller.value}: {shown}")
    return wrong


async def test_every_endpoint_answers_every_caller_as_the_table_says(whole: WholePlatform) -> None:
    ids = await _ids(whole)
    tokens, conn = await _tokens(whole.settings)
    async with contextlib.AsyncExitStack() as stack:
        every = {
            service: await stack.enter_async_context(browsers(whole.settings, service, tokens, ids))
            for service in SERVICES
        }
        # Revoked after its sessions were signed in: they must end with it.
        await revoke_tokens(conn, name="walk revoked")
        await conn.close()
        wrong = [
            line
            for service in SERVICES
            for line in await _walk_service(service, every[service], ids)
        ]

    assert wrong == [], "\n".join(wrong)
