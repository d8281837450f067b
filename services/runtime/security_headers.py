"""Security headers of the web pages (sent by `pages.Pages.render`, which every page passes
through) and of their static files (the SecurityHeaders middleware around them)."""

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# No inline script or style, nothing from another origin, no framing (clickjacking), forms
# post only to us, and no <base> to redirect relative links.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
)
STATIC_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    # Page URLs carry secrets (the cancel token): they must never reach another site in a
    # Referer header, whatever link is followed from the page.
    "Referrer-Policy": "no-referrer",
}
# Pages show personal data and carry CSRF tokens: no browser or proxy may keep a copy.
PAGE_HEADERS = {**STATIC_HEADERS, "Cache-Control": "no-store"}


class SecurityHeaders:
    """Adds `headers` to every response of the wrapped app (a header it set itself stays)."""

    def __init__(self, app: ASGIApp, headers: dict[str, str]) -> None:
        self.app = app
        self.headers = headers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in self.headers.items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)
