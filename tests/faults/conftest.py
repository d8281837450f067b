"""The fault suite's platform, started once for the package (marker `faults`), and its figures
in the session's summary."""

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.conftest import outside_pytest_tmp
from tests.faults.figures import Figures
from tests.faults.scenario import FaultPlatform, fault_platform
from tests.faults.size import chosen
from tests.kafka.conftest import kafka_jars_or_skip

HERE = Path(__file__).parent
# Where the figures of the last run are kept (docs/reliability.md is written from them).
FIGURES_FILE = HERE.parent.parent / ".pytest_cache" / "faults-figures.json"
_figures: list[Figures] = []


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in item.path.parents:
            item.add_marker(pytest.mark.faults)
            item.add_marker(pytest.mark.apache_kafka)


@pytest.fixture(scope="package")
async def faults() -> AsyncIterator[FaultPlatform]:
    """Cluster, PostgreSQL, proxies, mail sink, two replicas of every service, the forums."""
    lib = kafka_jars_or_skip()
    with outside_pytest_tmp() as folder:
        async with fault_platform(lib, folder, chosen()) as platform:
            _figures.append(platform.figures)
            yield platform


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    for figures in _figures:
        terminalreporter.section(f"fault suite figures ({chosen().name} size)")
        for line in figures.lines():
            terminalreporter.write_line(line)
        FIGURES_FILE.parent.mkdir(exist_ok=True)
        figures.write(FIGURES_FILE)
