"""A staff member's browser on the console over plain HTTP: its own cookie jar, forms read from
the pages they are on (with their CSRF token) and sent as the browser would."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpx

from tests.conftest import TEST_ADMIN_TOKEN
from tests.html_page import Form, forms
from tests.integration.conftest import RunningService

SIGN_IN = "/staff/sign-in"


@dataclass
class Console:
    client: httpx.AsyncClient

    async def form(self, page: str, action: str) -> Form:
        """The form posting to `action` on `page` (which must answer 200)."""
        shown = await self.client.get(page)
        assert shown.status_code == 200, f"{page}: {shown.status_code} {shown.text[:300]}"
        found = [form for form in forms(shown.text) if form.action == action]
        assert found, f"no form to {action} on {page}"
        return found[0]

    async def send(self, page: str, action: str, **fields: str | list[str]) -> httpx.Response:
        """Fill in the form to `action` on `page` with `fields` (over what it holds) and send it."""
        form = await self.form(page, action)
        return await self.client.post(action, data={**form.fields, **fields})

    async def sign_in(self, token: str = TEST_ADMIN_TOKEN) -> httpx.Response:
        return await self.send(SIGN_IN, SIGN_IN, token=token)


@asynccontextmanager
async def console_of(service: RunningService, *, signed_in: bool = True) -> AsyncIterator[Console]:
    """A new browser (no cookies), signed in with the admin token unless told otherwise."""
    async with httpx.AsyncClient(base_url=service.base_url, timeout=30) as client:
        console = Console(client)
        if signed_in:
            answer = await console.sign_in()
            assert answer.status_code == 303, answer.text
        yield console
