"""How big a fault run is: reduced (CI, the default) or full (DIALOGNET_FAULTS_SIZE=full)."""

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class Size:
    name: str
    registrations: int  # attempted over the whole suite, spread over its fault segments
    forums: int
    kills_per_service: int  # SIGKILLs of a random replica of each service
    rate_per_second: float  # the stream's pace, so that each segment spans its faults


REDUCED = Size("reduced", registrations=1000, forums=10, kills_per_service=1, rate_per_second=20)
FULL = Size("full", registrations=10_000, forums=50, kills_per_service=10, rate_per_second=40)
# The fault tests, each one segment of the stream: service kills, broker kill, leaders' broker,
# broker paused, PostgreSQL restart, connections cut.
SEGMENTS = 6


def chosen() -> Size:
    """DIALOGNET_FAULTS_SIZE: `full` for the documented full run; anything else is reduced."""
    return FULL if os.environ.get("DIALOGNET_FAULTS_SIZE") == "full" else REDUCED
