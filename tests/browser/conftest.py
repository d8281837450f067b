"""Browser tests: Debian's chromium driven by Playwright (never `playwright install`, which
downloads a browser and fails here), against the registration service over real HTTP."""

import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.conftest import module_settings  # noqa: F401 (a fixture)
from tests.integration.notification.conftest import platform  # noqa: F401 (a fixture)
from tests.integration.registration.conftest import service  # noqa: F401 (a fixture)

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module")
async def chromium() -> AsyncIterator[Any]:
    """The browser, or a skip where chromium or Playwright is not installed — a failure instead
    where they must run (.ci/run sets DIALOGNET_REQUIRE_BROWSER_TESTS)."""
    required = os.environ.get("DIALOGNET_REQUIRE_BROWSER_TESTS") == "1"
    if not CHROMIUM.exists():
        message = f"no {CHROMIUM}: apt-get install -y chromium"
        if required:
            pytest.fail(message)
        pytest.skip(message)
    async_api = pytest.importorskip("playwright.async_api")
    async with async_api.async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            await browser.close()
