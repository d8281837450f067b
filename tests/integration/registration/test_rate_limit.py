"""The public registration form's rate limit over HTTP: per client address behind our proxies."""

from ipaddress import ip_network
from typing import Any

import httpx
import pytest

from services.runtime.settings import Settings
from tests.integration.conftest import RunningService, running_registration
from tests.integration.registration.steps import new_forum, problem, register


async def test_the_public_registration_form_is_rate_limited_per_address(
    settings: Settings,
) -> None:
    limited = settings.model_copy(update={"public_rate_limit_per_minute": 3})
    async with running_registration(limited) as service:
        forum = await new_forum(service)
        allowed = [await register(service, forum["id"], client=service.public) for _ in range(3)]
        refused = await register(service, forum["id"], client=service.public)
        # Reading open forums is not limited, and token holders are never limited.
        reads = [await service.public.get("/v1/forums") for _ in range(5)]
        with_token = [await register(service, forum["id"]) for _ in range(4)]

    assert [response.status_code for response in allowed] == [201, 201, 201]
    problem(refused, 429)
    assert int(refused.headers["retry-after"]) >= 1
    assert all(response.status_code == httpx.codes.OK for response in reads)
    assert all(response.status_code == httpx.codes.CREATED for response in with_token)


async def _statuses(service: RunningService, forum_id: str, *chains: str) -> list[int]:
    """Anonymous registrations, each with `X-Forwarded-For: chain`, as a proxy would send them."""
    statuses = []
    for chain in chains:
        response = await register(
            service, forum_id, client=service.public, headers={"X-Forwarded-For": chain}
        )
        assert response.status_code != httpx.codes.INTERNAL_SERVER_ERROR, response.text
        statuses.append(response.status_code)
    return statuses


async def test_behind_a_trusted_proxy_the_client_is_the_right_most_untrusted_hop(
    settings: Settings,
) -> None:
    """The test client connects from loopback, the default trusted proxy."""
    limited = settings.model_copy(
        update={"public_rate_limit_per_minute": 2, "trust_forwarded_for": True}
    )
    async with running_registration(limited) as service:
        forum = await new_forum(service)
        # One client writing a new left-most address each time: still one bucket.
        spoofing = await _statuses(
            service, forum["id"], *(f"198.51.100.{n}, 203.0.113.7" for n in range(3))
        )
        # Another client, forwarded through a second proxy of ours (loopback): its own bucket.
        other = await _statuses(service, forum["id"], "203.0.113.8, 127.0.0.1")
        # Every address of one IPv6 /64 shares a bucket; the next /64 has its own.
        ipv6 = await _statuses(
            service, forum["id"], "2001:db8:1:2::1", "2001:db8:1:2::2", "2001:db8:1:2:ff::3"
        )
        next_64 = await _statuses(service, forum["id"], "2001:db8:1:3::1")
        # Garbage is never a fresh bucket: the nearest hop we trust (the proxy) stands in.
        garbled = await _statuses(service, forum["id"], "x, not-an-address", "1.2.3.4, ,", "%%%")

    assert spoofing == [201, 201, 429]
    assert other == [201]
    assert ipv6 == [201, 201, 429]
    assert next_64 == [201]
    assert garbled == [201, 201, 429]


@pytest.mark.parametrize(
    "trust",
    [
        {"trust_forwarded_for": False},
        # Trusted by setting, but the peer (loopback) is not among the trusted proxies.
        {"trust_forwarded_for": True, "trusted_proxies": (ip_network("10.0.0.0/8"),)},
    ],
    ids=["not-trusted", "peer-not-a-trusted-proxy"],
)
async def test_forwarded_for_is_ignored_unless_a_trusted_proxy_sent_it(
    settings: Settings, trust: dict[str, Any]
) -> None:
    limited = settings.model_copy(update={"public_rate_limit_per_minute": 2, **trust})
    async with running_registration(limited) as service:
        forum = await new_forum(service)
        statuses = await _statuses(
            service, forum["id"], "203.0.113.1", "203.0.113.2", "203.0.113.3"
        )

    assert statuses == [201, 201, 429]
