"""Browser tests: Debian's chromium driven by Playwright (never `playwright install`, which
downloads a browser and fails here), against the registration service over real HTTP."""

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

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
    """The browser, or a skip where chromium or Playwright is not installed."""
    async_api = pytest.importorskip("playwright.async_api")
    if not CHROMIUM.exists():
        pytest.skip(f"no {CHROMIUM} (apt-get install -y chromium)")
    async with async_api.async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            await browser.close()
