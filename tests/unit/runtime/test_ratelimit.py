"""The public endpoints' token bucket: bursts up to the limit, refill over time, per key."""

import pytest

from services.runtime.ratelimit import RateLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr("services.runtime.ratelimit.time.monotonic", clock)
    return clock


def test_a_burst_up_to_the_limit_then_refused_with_retry_after(clock: Clock) -> None:
    limiter = RateLimiter(per_minute=3)
    assert [limiter.allow("10.0.0.1")[0] for _ in range(3)] == [True, True, True]
    allowed, retry_after = limiter.allow("10.0.0.1")
    assert not allowed
    assert retry_after == pytest.approx(20.0)  # one token per 20 s at 3 per minute


def test_tokens_refill_with_time_but_never_beyond_the_burst(clock: Clock) -> None:
    limiter = RateLimiter(per_minute=60)
    for _ in range(60):
        limiter.allow("a")
    assert not limiter.allow("a")[0]
    clock.now += 1.0
    assert limiter.allow("a") == (True, 0.0)
    assert not limiter.allow("a")[0]
    clock.now += 3600
    assert sum(limiter.allow("a")[0] for _ in range(100)) == 60


def test_each_client_has_its_own_bucket(clock: Clock) -> None:
    limiter = RateLimiter(per_minute=1)
    assert limiter.allow("a")[0]
    assert not limiter.allow("a")[0]
    assert limiter.allow("b")[0]


def test_memory_stays_bounded_by_evicting_the_least_recently_used_key(clock: Clock) -> None:
    limiter = RateLimiter(per_minute=1, max_keys=2)
    limiter.allow("a")
    limiter.allow("b")
    limiter.allow("a")  # "a" used again: "b" is now the least recently used
    limiter.allow("c")  # the table is full: "b" goes, "a" keeps its empty bucket
    assert not limiter.allow("a")[0]
    assert not limiter.allow("c")[0]
    assert limiter.allow("b")[0]  # evicted: starts afresh


def test_a_flood_of_new_keys_does_not_reset_a_busy_client(clock: Clock) -> None:
    """Clearing every bucket when full would hand the flooding client a fresh burst."""
    limiter = RateLimiter(per_minute=2, max_keys=100)
    limiter.allow("flooder")
    limiter.allow("flooder")
    for number in range(1000):
        limiter.allow(f"spoofed-{number}")
        assert not limiter.allow("flooder")[0]


def test_a_refund_gives_back_what_allow_took_but_never_beyond_the_burst(clock: Clock) -> None:
    limiter = RateLimiter(per_minute=2)
    limiter.allow("a")
    limiter.allow("a")
    limiter.refund("a")
    assert limiter.allow("a")[0]
    assert not limiter.allow("a")[0]
    for _ in range(5):
        limiter.refund("b")
    assert [limiter.allow("b")[0] for _ in range(3)] == [True, True, False]
