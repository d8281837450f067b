"""SIGKILL each service's replicas at seeded random moments of the stream; the supervisor
starts each again (as an orchestrator would). Nothing accepted is lost, no mail goes out twice
but the one a kill cut mid-send, every report equals the registration database."""

import asyncio

import pytest

from tests.faults.scenario import SERVICES, FaultPlatform


@pytest.mark.timeout(600)
async def test_replicas_killed_at_random_moments(faults: FaultPlatform) -> None:
    kills = [
        (moment, service)
        for service in SERVICES
        for moment in faults.moments(faults.size.kills_per_service)
    ]

    async def inject() -> None:
        for moment, service in sorted(kills):
            await faults.stream.reached(moment)
            # A replica killed a moment ago may not be back yet: kill one that runs (the full
            # size's 30 kills once hit a dead one, which the supervisor then restarted once).
            while not (running := [r for r in faults.fleet.of(service) if not r.exited()]):
                await asyncio.sleep(0.1)
            replica = faults.chance.choice(running)
            replica.kill()
            if service == "notification":
                # Its mails on their way stay `sending` until the other takes them again.
                await faults.sends_may_be_cut()
            faults.restored("service SIGKILL", replica.name)

    await faults.segment(inject)
    # Each kill was answered by the supervisor's restart, and each restarted replica was ready
    # again before the checks passed (segment() waits for every replica).
    assert sum(replica.restarts for replica in faults.fleet.replicas) >= len(kills)
