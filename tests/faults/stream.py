"""The stream the faults land in: registrations over HTTP across many forums, alternating
between the registration replicas at a steady pace, and cancellations of some accepted ones.
Only a 201 (or a cancellation's 200) counts as accepted: a request cut by a fault may or may not
have taken effect, which the checks allow (nothing accepted may be lost)."""

import asyncio
import random
import time
from dataclasses import dataclass, field

import httpx

from tests.conftest import TEST_ADMIN_TOKEN
from tests.integration.registration import bodies

CANCEL_SHARE = 0.2  # of accepted registrations, so waitlists move (promotions) under faults
REQUEST_TIMEOUT_SECONDS = 15.0
IN_FLIGHT = 4


@dataclass
class Stream:
    """What was sent and what was accepted, over the whole suite."""

    registration_urls: list[str]
    forum_ids: list[str]
    rate_per_second: float
    seed: int
    accepted: dict[str, str] = field(default_factory=dict)  # registration id → forum id
    cancelled: set[str] = field(default_factory=set)  # accepted cancellations
    attempts: int = 0
    refused: dict[str, int] = field(default_factory=dict)  # "status 503", "ConnectError" → n
    _random: random.Random = field(init=False)

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)

    async def run(self, count: int, until: asyncio.Event) -> None:
        """Send at least `count` registrations at the stream's pace (cancellations among them),
        and on until `until` is set: every fault lands in the stream."""
        headers = {"Authorization": f"Bearer {TEST_ADMIN_TOKEN}"}
        limit = asyncio.Semaphore(IN_FLIGHT)
        started = time.monotonic()
        async with httpx.AsyncClient(headers=headers, timeout=REQUEST_TIMEOUT_SECONDS) as client:
            pending: set[asyncio.Task[None]] = set()
            number = 0
            while number < count or not until.is_set():
                # The pace, not a wait for async work: request n leaves at n / rate.
                await asyncio.sleep(
                    max(0.0, started + number / self.rate_per_second - time.monotonic())
                )
                await limit.acquire()
                task = asyncio.create_task(self._one(client, limit))
                pending.add(task)
                task.add_done_callback(pending.discard)
                number += 1
            await asyncio.gather(*pending)

    async def reached(self, attempts: int) -> None:
        """Return once `attempts` requests have been sent (a fault's moment in the stream)."""
        while self.attempts < attempts:
            await asyncio.sleep(0.05)  # the stream's own progress, sampled

    async def _one(self, client: httpx.AsyncClient, limit: asyncio.Semaphore) -> None:
        try:
            self.attempts += 1
            url = self.registration_urls[self.attempts % len(self.registration_urls)]
            if self.accepted and self._random.random() < CANCEL_SHARE:
                await self._cancel(client, url)
            await self._register(client, url)
        finally:
            limit.release()

    async def _register(self, client: httpx.AsyncClient, url: str) -> None:
        forum_id = self._random.choice(self.forum_ids)
        body = bodies.registration(email=bodies.unique_email("fault"))
        response = await self._post(client, f"{url}/v1/forums/{forum_id}/registrations", body)
        if response is not None and response.status_code == 201:
            self.accepted[response.json()["id"]] = forum_id

    async def _cancel(self, client: httpx.AsyncClient, url: str) -> None:
        open_ones = [rid for rid in self.accepted if rid not in self.cancelled]
        if not open_ones:
            return
        chosen = self._random.choice(open_ones)
        response = await self._post(client, f"{url}/v1/registrations/{chosen}/cancel", {})
        if response is not None and response.status_code == 200:
            self.cancelled.add(chosen)

    async def _post(
        self, client: httpx.AsyncClient, url: str, body: dict[str, object]
    ) -> httpx.Response | None:
        try:
            response = await client.post(url, json=body)
        except httpx.HTTPError as error:
            self._refused(type(error).__name__)
            return None
        if response.status_code >= 300:
            self._refused(f"status {response.status_code}")
        return response

    def _refused(self, reason: str) -> None:
        self.refused[reason] = self.refused.get(reason, 0) + 1
