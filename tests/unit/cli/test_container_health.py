"""The image's healthcheck asks the service the container runs, on that service's port."""

import http.server
import threading
from collections.abc import Iterator

import pytest

from services.cli.container_health import check, served_service
from services.runtime.embedded import free_port


class Health(http.server.BaseHTTPRequestHandler):
    status = 200

    def do_GET(self) -> None:
        self.send_response(self.status if self.path == "/health/live" else 404)
        self.end_headers()

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture
def health_port() -> Iterator[int]:
    port = free_port()
    server = http.server.HTTPServer(("127.0.0.1", port), Health)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield port
    server.shutdown()
    server.server_close()


def test_the_service_is_read_from_the_command_line() -> None:
    assert served_service(["/opt/dialognet/bin/dialognet", "run", "notification"]) == "notification"
    assert served_service(["python", "-m", "services.cli", "run", "reporting"]) == "reporting"
    assert served_service(["dialognet", "migrate"]) is None
    assert served_service(["dialognet", "run"]) is None


def test_healthy_when_the_service_answers_on_its_own_port(
    health_port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DIALOGNET_NOTIFICATION_PORT", str(health_port))
    assert check(["dialognet", "run", "notification"]) is None
    # registration's port (another one) has nothing listening: unhealthy, saying where it asked.
    monkeypatch.setenv("DIALOGNET_REGISTRATION_PORT", str(free_port()))
    problem = check(["dialognet", "run", "registration"])
    assert problem is not None
    assert "/health/live" in problem


def test_unhealthy_when_liveness_fails(health_port: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Health, "status", 503)
    monkeypatch.setenv("DIALOGNET_REPORTING_PORT", str(health_port))
    assert check(["dialognet", "run", "reporting"]) is not None


def test_a_one_off_command_is_healthy_without_asking() -> None:
    assert check(["dialognet", "migrate"]) is None
