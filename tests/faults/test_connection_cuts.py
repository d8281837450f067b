"""Connections cut and restored through the test's TCP proxies (tests/faults/proxy.py): every
connection of every replica to PostgreSQL, then to every broker (each node advertises its
proxy's port, so no client reaches a broker around it). The cluster itself stays whole: the
brokers talk to each other on their own listener."""

import pytest

from tests.faults.scenario import FaultPlatform

CUT_SECONDS = 5.0


@pytest.mark.timeout(600)
async def test_database_and_broker_connections_cut(faults: FaultPlatform) -> None:
    database_moment, brokers_moment = faults.moments(2)

    async def inject() -> None:
        await faults.stream.reached(database_moment)
        await faults.sends_may_be_cut()  # a send cut before its row says `sent`
        await faults.database_proxy.cut()
        await faults.hold(CUT_SECONDS)
        await faults.sends_may_be_cut()  # the checks read the database around the proxy
        await faults.database_proxy.restore()
        faults.restored("database connections cut 5 s", "every replica ↔ PostgreSQL")

        await faults.stream.reached(max(brokers_moment, faults.stream.attempts))
        proxies = list(faults.broker_proxies.values())
        for proxy in proxies:
            await proxy.cut()
        await faults.hold(CUT_SECONDS)
        for proxy in proxies:
            await proxy.restore()
        faults.restored("broker connections cut 5 s", "every replica ↔ every broker")

    await faults.segment(inject)
    assert all(proxy.connections > 0 for proxy in faults.broker_proxies.values())
