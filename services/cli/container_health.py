"""The image's HEALTHCHECK (`python -m services.cli.container_health`): asks /health/live of the
service the container runs, read from its first process's command line, on the port its
settings give. A container running a one-off command (`migrate`, `replay`) has nothing to ask."""

import sys
import urllib.error
import urllib.request
from pathlib import Path

from services.runtime.settings import environment_settings

FIRST_PROCESS_COMMAND = Path("/proc/1/cmdline")
TIMEOUT_SECONDS = 4.0


def served_service(argv: list[str]) -> str | None:
    """SERVICE of `… run SERVICE`, or None for any other command."""
    if "run" not in argv[:-1]:
        return None
    return argv[argv.index("run") + 1]


def check(argv: list[str]) -> str | None:
    """None when healthy, else what is wrong (one line)."""
    service = served_service(argv)
    if service is None:
        return None
    # Every service's port setting is `<service>_port` (service_catalog's port_setting): read
    # here without importing the catalog, which pulls in the platform and its Kafka clients.
    port = getattr(environment_settings(), f"{service}_port", None)
    if port is None:
        return f"no port setting for {service!r}"
    url = f"http://127.0.0.1:{port}/health/live"
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_SECONDS):
            return None
    except (urllib.error.URLError, OSError) as error:
        return f"{url}: {error}"


def main() -> None:
    argv = FIRST_PROCESS_COMMAND.read_bytes().decode().split("\0")
    problem = check([part for part in argv if part])
    if problem is not None:
        print(f"unhealthy: {problem}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
