"""PostgreSQL restarted as after a crash (immediate stop: no checkpoint, every connection of
every replica dropped) under the stream: the pools reconnect, nothing accepted is lost."""

import asyncio

import pytest

from tests.faults.scenario import FaultPlatform


@pytest.mark.timeout(600)
async def test_postgresql_restarted(faults: FaultPlatform) -> None:
    (moment,) = faults.moments(1)

    async def inject() -> None:
        await faults.stream.reached(moment)
        # A send can be cut between the relay's answer and the row saying so.
        await faults.sends_may_be_cut()
        await asyncio.to_thread(faults.postgres.restart)  # the proxies and stream go on
        await faults.sends_may_be_cut()
        faults.restored("PostgreSQL restart (immediate)", "PostgreSQL")

    await faults.segment(inject)
    assert faults.database_proxy.connections > 0, "the services reached PostgreSQL through it"
