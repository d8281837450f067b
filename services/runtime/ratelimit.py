"""Per-client rate limit for public endpoints: a token bucket per address, in process memory."""

import math
import time
from collections import OrderedDict
from dataclasses import dataclass, field

from starlette.exceptions import HTTPException


@dataclass
class _Bucket:
    tokens: float
    updated: float = field(default_factory=time.monotonic)


class RateLimiter:
    """Allows `per_minute` requests per key on average, with bursts up to the same number.

    In memory per replica: N replicas allow N times the rate, which still stops a single
    client from flooding the form; a shared limit would belong in the ingress.

    At most `max_keys` buckets are kept; a new key evicts the least recently used one. Clearing
    every bucket instead would let a client that sends from enough addresses to fill the table
    reset everyone's limit, its own heavily used buckets included.
    """

    def __init__(self, per_minute: int, max_keys: int = 100_000) -> None:
        self._capacity = float(per_minute)
        self._refill_per_second = per_minute / 60.0
        self._max_keys = max_keys
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()

    def allow(self, key: str) -> tuple[bool, float]:
        """(allowed, seconds until the next request would be allowed)."""
        bucket = self._refilled(key)
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return True, 0.0
        return False, (1 - bucket.tokens) / self._refill_per_second

    def refund(self, key: str) -> None:
        """Give back what `allow` took, for a request that turned out not to count."""
        bucket = self._refilled(key)
        bucket.tokens = min(self._capacity, bucket.tokens + 1)

    def _refilled(self, key: str) -> _Bucket:
        now = time.monotonic()
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= self._max_keys:
                self._buckets.popitem(last=False)
            bucket = self._buckets[key] = _Bucket(tokens=self._capacity, updated=now)
        else:
            self._buckets.move_to_end(key)
        bucket.tokens = min(
            self._capacity, bucket.tokens + (now - bucket.updated) * self._refill_per_second
        )
        bucket.updated = now
        return bucket


def too_many_requests(detail: str, retry_after: float) -> HTTPException:
    """The 429 answer of a refused request, saying in whole seconds when to try again."""
    return HTTPException(429, detail, headers={"Retry-After": str(math.ceil(retry_after))})
