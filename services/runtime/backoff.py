"""Exponential delays between attempts of something that fails transiently: a redelivered
message, a restarted background task, a database write retried."""

INITIAL_DELAY_SECONDS = 0.1
MAX_DELAY_SECONDS = 30.0


class Backoff:
    """Delays doubling from `initial_seconds` up to `max_seconds`; `reset` after a success."""

    def __init__(
        self, initial_seconds: float = INITIAL_DELAY_SECONDS, max_seconds: float = MAX_DELAY_SECONDS
    ) -> None:
        self._initial = initial_seconds
        self._max = max_seconds
        self._delay = initial_seconds

    def next_delay(self) -> float:
        delay = self._delay
        self._delay = min(self._delay * 2, self._max)
        return delay

    def reset(self) -> None:
        self._delay = self._initial
