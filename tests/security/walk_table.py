"""The security walk's table: every route of every service, what each caller must get from it.

A route is named by (service, method, path template) exactly as its app's routes spell it; the
walk fails on a route missing here, so a new endpoint is judged before it ships."""

from enum import Enum


class Caller(Enum):
    ANONYMOUS = "no token"
    INTAKE = "intake token"
    STAFF = "staff token"  # a bearer header on the API, a signed-in session on the pages
    REVOKED = "revoked token"
    FORGED_SESSION = "forged session cookie"
    WRONG_CANCEL = "wrong cancel token"  # or unsubscribe token: the link's signed token


class Outcome(Enum):
    LET_IN = "let in"  # past every check: 2xx (200 on a GET), a redirect, or the body judged
    UNAUTHORIZED = "401"
    FORBIDDEN = "403"
    SIGN_IN = "sent to sign in"  # 303 to the sign-in page, or the sign-in page itself


IN, U401, F403, SIGN = Outcome.LET_IN, Outcome.UNAUTHORIZED, Outcome.FORBIDDEN, Outcome.SIGN_IN
C = Caller
Expected = dict[Caller, Outcome]

# Bearer-token API routes a staff token only may use.
STAFF_API: Expected = {C.ANONYMOUS: U401, C.INTAKE: F403, C.STAFF: IN, C.REVOKED: U401}
# Open to everyone, and to every known token; an unknown or revoked token is refused, never
# silently read as anonymous (a caller who sent a token wants to know it no longer works).
OPEN_API: Expected = {C.ANONYMOUS: IN, C.INTAKE: IN, C.STAFF: IN, C.REVOKED: U401}
# Pages anyone may see; a bearer header is no part of a browser's visit and changes nothing.
PUBLIC: Expected = {
    C.ANONYMOUS: IN,
    C.INTAKE: IN,
    C.STAFF: IN,
    C.REVOKED: IN,
    C.FORGED_SESSION: IN,
}
# A link's signed token is the permission: the right one lets in, a wrong one is 403.
SIGNED_LINK: Expected = {**PUBLIC, C.WRONG_CANCEL: F403}
# The sign-in page (and signing out, which leads back to it) is for everyone.
SIGN_IN_PAGE: Expected = dict.fromkeys(PUBLIC, SIGN)
# A sign-in form sent without a token (the walk sends none): refused, the page says why.
SIGN_IN_WITHOUT_TOKEN: Expected = dict.fromkeys(PUBLIC, U401)
# The page after the form: only the browser that sent the form (a signed cookie it got then).
RESULT_PAGE: Expected = dict.fromkeys(PUBLIC, F403)
# A registration's cancel through the API: its cancel token, or a staff token.
CANCEL_API: Expected = {
    C.ANONYMOUS: IN,  # with its cancel token
    C.INTAKE: IN,  # an intake system cancels by id
    C.STAFF: IN,
    C.REVOKED: U401,
    C.WRONG_CANCEL: F403,
}
# The staff console: a session signed in with a staff token; everything else to sign in.
CONSOLE: Expected = {
    C.ANONYMOUS: SIGN,
    C.INTAKE: SIGN,  # a bearer header is no session
    C.STAFF: IN,
    C.REVOKED: SIGN,
    C.FORGED_SESSION: SIGN,
}
# The staff's reading on the dashboard's service: a staff bearer token or a staff session.
STAFF_READER: Expected = {**STAFF_API, C.FORGED_SESSION: U401}

REGISTRATION: dict[tuple[str, str], Expected] = {
    ("POST", "/v1/organizations"): STAFF_API,
    ("GET", "/v1/organizations"): STAFF_API,
    ("GET", "/v1/organizations/{organization_id}"): STAFF_API,
    ("POST", "/v1/organizations/{organization_id}/interest"): STAFF_API,
    ("POST", "/v1/organizations/{organization_id}/join"): STAFF_API,
    ("POST", "/v1/organizations/{organization_id}/leave"): STAFF_API,
    ("DELETE", "/v1/organizations/{organization_id}"): STAFF_API,
    ("POST", "/v1/forums"): STAFF_API,
    ("GET", "/v1/forums"): OPEN_API,
    ("GET", "/v1/forums/{forum_id}"): OPEN_API,
    ("PATCH", "/v1/forums/{forum_id}"): STAFF_API,
    ("POST", "/v1/forums/{forum_id}/cancel"): STAFF_API,
    ("POST", "/v1/forums/{forum_id}/held"): STAFF_API,
    ("POST", "/v1/forums/{forum_id}/registrations"): OPEN_API,
    ("GET", "/v1/forums/{forum_id}/registrations"): STAFF_API,
    ("POST", "/v1/registrations/{registration_id}/cancel"): CANCEL_API,
    ("GET", "/"): PUBLIC,
    ("GET", "/forums/{forum_id}"): PUBLIC,
    ("POST", "/forums/{forum_id}"): PUBLIC,
    ("GET", "/registrations/{registration_id}/registered"): RESULT_PAGE,
    ("GET", "/registrations/{registration_id}/cancel"): SIGNED_LINK,
    ("POST", "/registrations/{registration_id}/cancel"): SIGNED_LINK,
    ("GET", "/privacy"): PUBLIC,
    ("GET", "/staff/sign-in"): SIGN_IN_PAGE,
    ("POST", "/staff/sign-in"): SIGN_IN_WITHOUT_TOKEN,
    ("POST", "/staff/sign-out"): SIGN_IN_PAGE,
    ("GET", "/staff/"): CONSOLE,
    ("GET", "/staff/forums/new"): CONSOLE,
    ("POST", "/staff/forums"): CONSOLE,
    ("GET", "/staff/forums/{forum_id}"): CONSOLE,
    ("GET", "/staff/forums/{forum_id}/edit"): CONSOLE,
    ("POST", "/staff/forums/{forum_id}/edit"): CONSOLE,
    ("GET", "/staff/forums/{forum_id}/cancel"): CONSOLE,
    ("POST", "/staff/forums/{forum_id}/cancel"): CONSOLE,
    ("GET", "/staff/forums/{forum_id}/held"): CONSOLE,
    ("POST", "/staff/forums/{forum_id}/held"): CONSOLE,
    ("GET", "/staff/registrations/{registration_id}/cancel"): CONSOLE,
    ("POST", "/staff/registrations/{registration_id}/cancel"): CONSOLE,
    ("GET", "/staff/forums/{forum_id}/registrations.csv"): CONSOLE,
    ("GET", "/staff/organizations"): CONSOLE,
    ("GET", "/staff/organizations/new"): CONSOLE,
    ("POST", "/staff/organizations"): CONSOLE,
    ("GET", "/staff/organizations/{organization_id}"): CONSOLE,
    ("GET", "/staff/organizations/{organization_id}/erase"): CONSOLE,
    ("POST", "/staff/organizations/{organization_id}/erase"): CONSOLE,
    ("POST", "/staff/organizations/{organization_id}/{step}"): CONSOLE,
    ("GET", "/staff/tokens"): CONSOLE,
    ("POST", "/staff/tokens"): CONSOLE,
    ("POST", "/staff/tokens/revoke"): CONSOLE,
}

NOTIFICATION: dict[tuple[str, str], Expected] = {
    ("GET", "/v1/deliveries"): STAFF_API,
    ("GET", "/v1/deliveries/{delivery_id}"): STAFF_API,
    ("POST", "/v1/deliveries/{delivery_id}/retry"): STAFF_API,
    ("GET", "/unsubscribe"): SIGNED_LINK,
    ("POST", "/unsubscribe"): SIGNED_LINK,
}

REPORTING: dict[tuple[str, str], Expected] = {
    ("GET", "/v1/reports/network"): STAFF_READER,
    ("GET", "/v1/reports/forums"): STAFF_READER,
    ("GET", "/v1/reports/forums/{forum_id}"): STAFF_READER,
    ("GET", "/v1/reports/funnel"): STAFF_READER,
    ("GET", "/v1/reports/emails"): STAFF_READER,
    ("GET", "/v1/dashboard"): STAFF_READER,
    ("GET", "/"): {**CONSOLE, C.ANONYMOUS: SIGN},
    ("POST", "/sign-in"): SIGN_IN_WITHOUT_TOKEN,
    ("POST", "/sign-out"): PUBLIC,
}

# The mail sink stands for the recipients' mailboxes on one machine (`dialognet up` only, on
# loopback): it has no callers but the person at that machine, so nothing of it is guarded.
MAILBOX: dict[tuple[str, str], Expected] = {
    ("GET", "/api/messages"): PUBLIC,
    ("DELETE", "/api/messages"): PUBLIC,
    ("GET", "/api/messages/{message_id}"): PUBLIC,
    ("DELETE", "/api/messages/{message_id}"): PUBLIC,
    ("GET", "/api/messages/{message_id}/raw"): PUBLIC,
    ("GET", "/api/messages/{message_id}/attachments/{index}"): PUBLIC,
    ("GET", "/"): PUBLIC,
    ("GET", "/messages/{message_id}"): PUBLIC,
    ("GET", "/messages/{message_id}/html"): PUBLIC,
    ("POST", "/messages/delete"): PUBLIC,
    ("POST", "/messages/{message_id}/delete"): PUBLIC,
    ("GET", "/static/mailbox.css"): PUBLIC,
}

# Public on purpose on every service: probes, scrapes, the API's documents, stylesheets.
EVERY_SERVICE: dict[tuple[str, str], Expected] = {
    ("GET", "/health/live"): PUBLIC,
    ("GET", "/health/ready"): PUBLIC,
    ("GET", "/metrics"): PUBLIC,
    ("GET", "/openapi.json"): PUBLIC,
    ("GET", "/docs"): PUBLIC,
    ("GET", "/docs/oauth2-redirect"): PUBLIC,
    ("GET", "/redoc"): PUBLIC,
}
# Mounted static files, by mount path: public; their files are fetched by name.
STATIC_MOUNTS = ("/static", "/staff/static")
