"""`dialognet up` as a user runs it: starts everything, serves, publishes facts, stops cleanly."""

import asyncio
import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest
from aiosmtpd.controller import Controller

from services.runtime.embedded import free_port, is_alive, metadata_available
from tests.kafka_helpers import ConsumedMessage, consume_until
from tests.mail_helpers import confirmation, send
from tests.polling import until

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

READY_WITHIN = 120.0
EXIT_WITHIN = 40.0


@dataclass
class RunningPlatform:
    """A `dialognet up` process and what its banner said."""

    process: "subprocess.Popen[str]"
    data_dir: Path
    kafka_port: int
    registration_port: int
    mailbox_port: int
    smtp_port: int
    notification_port: int
    output: list[str] = field(default_factory=list)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.registration_port}"

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.kafka_port}"

    @property
    def token(self) -> str:
        [line] = [line for line in self.output if line.strip().startswith("staff token")]
        return line.split()[-1]

    def link(self, label: str) -> str:
        """The address the banner shows beside `label`."""
        [line] = [line for line in self.output if line.strip().startswith(label)]
        return line.split()[-1]

    def staff(self) -> httpx.AsyncClient:
        headers = {"Authorization": f"Bearer {self.token}"}
        return httpx.AsyncClient(base_url=self.base_url, headers=headers, timeout=30.0)

    def service_process(self, name: str) -> psutil.Process | None:
        """The child running `dialognet run NAME`, if there is one."""
        for child in _process_tree(self.process.pid):
            if child.cmdline()[-2:] == ["run", name]:
                return child
        return None


def _platform_env(
    kafka_port: int,
    registration_port: int,
    mailbox_port: int,
    smtp_port: int,
    notification_port: int,
) -> dict[str, str]:
    # Everything embedded: no external database, broker, mail relay or token may leak in from
    # the caller. Every port is free: other test runs on the machine use the defaults. The
    # links in e-mails follow the ports, as a user who moves a service sets its public URL.
    env = {name: value for name, value in os.environ.items() if not name.startswith("DIALOGNET_")}
    env["DIALOGNET_KAFKA_PORT"] = str(kafka_port)
    env["DIALOGNET_REGISTRATION_PORT"] = str(registration_port)
    env["DIALOGNET_PUBLIC_BASE_URL"] = f"http://127.0.0.1:{registration_port}"
    env["DIALOGNET_MAILBOX_PORT"] = str(mailbox_port)
    env["DIALOGNET_MAILBOX_SMTP_PORT"] = str(smtp_port)
    # Every service up starts gets a free port: tests running beside each other never collide.
    env["DIALOGNET_REPORTING_PORT"] = str(free_port())
    env["DIALOGNET_NOTIFICATION_PORT"] = str(notification_port)
    env["DIALOGNET_NOTIFICATION_PUBLIC_BASE_URL"] = f"http://127.0.0.1:{notification_port}"
    return env


def _free_ports() -> tuple[int, int, int, int, int]:
    return (free_port(), free_port(), free_port(), free_port(), free_port())


def _drain(process: "subprocess.Popen[str]", output: list[str]) -> None:
    # Read until EOF so the child never blocks on a full pipe.
    assert process.stdout is not None
    for line in process.stdout:
        output.append(line.rstrip("\n"))


def _wait_for_ready(platform: RunningPlatform) -> None:
    deadline = time.monotonic() + READY_WITHIN
    while "ready." not in platform.output:
        if platform.process.poll() is not None:
            pytest.fail(
                f"dialognet up exited with {platform.process.returncode}: {platform.output}"
            )
        if time.monotonic() > deadline:
            pytest.fail(f"no `ready.` after {READY_WITHIN}s: {platform.output}")
        time.sleep(0.1)


@pytest.fixture
def start_up(tmp_path: Path, scratch_dir: Path) -> Iterator[Any]:
    """Start `dialognet up` with extra arguments and DIALOGNET_* variables; the process is
    killed if a test leaves it."""
    started: list[RunningPlatform] = []

    def start(*args: str, env: dict[str, str] | None = None) -> RunningPlatform:
        ports = _free_ports()
        data_dir = scratch_dir / "data"
        command = [sys.executable, "-m", "services.cli", "up", "--data-dir", str(data_dir), *args]
        process = subprocess.Popen(
            command,
            cwd=tmp_path,
            env={**_platform_env(*ports), **(env or {})},
            stdout=subprocess.PIPE,
            text=True,
        )
        platform = RunningPlatform(process, data_dir, *ports)
        started.append(platform)
        threading.Thread(target=_drain, args=(process, platform.output), daemon=True).start()
        _wait_for_ready(platform)
        return platform

    yield start
    for platform in started:
        if platform.process.poll() is None:
            platform.process.send_signal(signal.SIGTERM)
            platform.process.wait(EXIT_WITHIN)


def _in_days(days: int, hour: int = 10) -> datetime:
    day = datetime.now(UTC) + timedelta(days=days)
    return day.replace(hour=hour, minute=0, second=0, microsecond=0)


def _contact(email: str) -> dict[str, Any]:
    return {"name": "Test Person", "email": email, "phone": None, "language": "de"}


async def _schedule_forum(client: httpx.AsyncClient) -> str:
    starts = _in_days(20)
    response = await client.post(
        "/v1/forums",
        json={
            "format": "forum",
            "title": f"E2E forum {uuid.uuid4().hex[:6]}",
            "topics": ["Gleichbehandlung"],
            "venue": "Polizeipräsidium",
            "starts_at": starts.isoformat(),
            "ends_at": (starts + timedelta(hours=2)).isoformat(),
            "registration_deadline": (starts - timedelta(days=3)).isoformat(),
            "capacity": 50,
            "seats_per_organization": 3,
            "audience": "open",
        },
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def _create_organization(client: httpx.AsyncClient) -> str:
    response = await client.post(
        "/v1/organizations",
        json={
            "name": "Testverein Brücke e.V.",
            "kind": "migrant_organization",
            "district": "Nordstadt",
            "website": None,
            "contact": _contact("verein@example.org"),
        },
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def _register(
    client: httpx.AsyncClient,
    forum_id: str,
    organization_id: str,
    email: str = "anmeldung@example.net",
) -> str:
    response = await client.post(
        f"/v1/forums/{forum_id}/registrations",
        json={
            "organization_id": organization_id,
            "contact": _contact(email),
            "attendees": 2,
            "wants_to_present": False,
            "interested_in_partnership": True,
            "accessibility_needs": None,
            "consent": True,
        },
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def _check_made_envelope(message: ConsumedMessage, forum_id: str, registration_id: str) -> None:
    envelope = message.value
    uuid.UUID(envelope["event_id"])
    assert message.headers["type"] == "registration.made"
    assert envelope["type"] == "registration.made"
    assert message.key == forum_id
    assert envelope["key"] == forum_id
    assert envelope["producer"] == "registration"
    assert envelope["data"]["registration_id"] == registration_id


def _process_tree(pid: int) -> list[psutil.Process]:
    return psutil.Process(pid).children(recursive=True)


def _brokers(platform: RunningPlatform) -> list[psutil.Process]:
    """The embedded brokers among up's processes; the services up stops while it restarts the
    broker may be gone between the listing and the look at their names."""
    found = []
    for child in _process_tree(platform.process.pid):
        with contextlib.suppress(psutil.NoSuchProcess):
            if "tansu" in child.name():
                found.append(child)
    return found


def _stop(platform: RunningPlatform) -> int:
    platform.process.send_signal(signal.SIGTERM)
    return platform.process.wait(EXIT_WITHIN)


def _leftovers(platform: RunningPlatform, children: list[psutil.Process]) -> list[str]:
    """Processes `up` started that are still alive after it exited."""
    left = [f"child {child.pid}" for child in children if is_alive(child)]
    pgdata = str((platform.data_dir / "postgres").resolve())
    listener = f"tcp://127.0.0.1:{platform.kafka_port}"
    for process in psutil.process_iter(["name", "cmdline"]):
        cmdline = " ".join(process.info["cmdline"] or [])
        started_by_us = (pgdata in cmdline and "postgres" in cmdline) or (
            "tansu" in cmdline and listener in cmdline
        )
        if started_by_us and is_alive(process):
            left.append(f"{process.pid}: {cmdline}")
    return left


async def test_up_serves_publishes_and_stops_cleanly(start_up: Any) -> None:
    platform: RunningPlatform = start_up()
    assert platform.token
    assert (platform.data_dir / "platform.json").exists()
    async with platform.staff() as staff:
        forum_id = await _schedule_forum(staff)
        organization_id = await _create_organization(staff)
    async with httpx.AsyncClient(base_url=platform.base_url, timeout=30.0) as public:
        registration_id = await _register(public, forum_id, organization_id)

    messages = await consume_until(
        platform.bootstrap,
        "dialognet.registrations",
        lambda message: message.value["data"].get("registration_id") == registration_id,
        timeout=30,
    )
    _check_made_envelope(messages[-1], forum_id, registration_id)

    children = _process_tree(platform.process.pid)
    assert children, "the services run as child processes"
    assert _stop(platform) == 0
    assert not (platform.data_dir / "platform.json").exists()
    assert _leftovers(platform, children) == []


async def _register_once_back(
    client: httpx.AsyncClient, forum_id: str, organization_id: str, email: str
) -> str:
    """Register as soon as the restarted service answers (polling while it starts)."""
    deadline = time.monotonic() + READY_WITHIN
    while True:
        try:
            return await _register(client, forum_id, organization_id, email)
        except httpx.TransportError:
            assert time.monotonic() < deadline, "the service did not come back"
            await asyncio.sleep(0.2)  # polling interval while the service restarts


async def _broker_back(platform: RunningPlatform, replaced: int) -> None:
    async def restarted() -> bool:
        brokers = _brokers(platform)
        return any(p.pid != replaced for p in brokers) and await metadata_available(
            platform.bootstrap
        )

    await until(restarted, READY_WITHIN, "a broker again", interval=0.2)


# Registrations before Tansu is lost and after it is back: each must be on the new broker's
# topic (the replayed outbox) and mailed once — the fault suite's checks on the embedded platform.
AROUND_THE_LOSS = 8


async def test_up_restarts_a_dead_broker_and_publishes_the_outbox_again(start_up: Any) -> None:
    """Tansu lost entirely (SIGKILL: it kept every message in memory only): `up` starts it
    again and queues every outbox for publishing again (what `dialognet replay` does), so no
    accepted registration is lost, the facts keep their order, and nobody is mailed twice."""
    platform: RunningPlatform = start_up()
    async with platform.staff() as staff:
        forum_id = await _schedule_forum(staff)
        organizations = [await _create_organization(staff) for _ in range(2 * AROUND_THE_LOSS)]
    emails = [f"verlust{n}@example.net" for n in range(2 * AROUND_THE_LOSS)]
    topic = "dialognet.registrations"
    async with httpx.AsyncClient(base_url=platform.base_url, timeout=30.0) as public:
        accepted = [
            await _register(public, forum_id, organizations[n], emails[n])
            for n in range(AROUND_THE_LOSS)
        ]
        await consume_until(
            platform.bootstrap,
            topic,
            lambda message: message.value["data"]["registration_id"] == accepted[-1],
            timeout=30,
        )
        [broker] = _brokers(platform)
        lost_at = time.monotonic()
        broker.kill()  # its messages were in memory only
        broker.wait(EXIT_WITHIN)
        await _broker_back(platform, replaced=broker.pid)
        accepted += [
            await _register_once_back(public, forum_id, organizations[n], emails[n])
            for n in range(AROUND_THE_LOSS, 2 * AROUND_THE_LOSS)
        ]
        recovered_in = time.monotonic() - lost_at

    messages = await consume_until(
        platform.bootstrap,
        topic,
        lambda message: message.value["data"]["registration_id"] == accepted[-1],
        timeout=60,
    )
    # The new broker started empty: the first facts are there because the outbox was replayed.
    republished = [m.value["data"]["registration_id"] for m in messages]
    assert republished == accepted
    await _each_mailed_once(platform, emails)
    print(f"Tansu lost: registrations accepted again after {recovered_in:.1f}s")
    children = _process_tree(platform.process.pid)
    assert _stop(platform) == 0
    assert _leftovers(platform, children) == []


async def _each_mailed_once(platform: RunningPlatform, emails: list[str]) -> None:
    """Every address's confirmation in up's mail sink, and never a second one."""
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{platform.mailbox_port}") as sink:

        async def counts() -> list[int]:
            found = [(await sink.get("/api/messages", params={"to": to})).json() for to in emails]
            return [page["total"] for page in found]

        async def all_mailed() -> bool:
            return min(await counts()) >= 1

        await until(all_mailed, READY_WITHIN, "a confirmation to every registrant", interval=0.5)
        # Once nothing is left to send, a second mail would be in the sink already.
        await until(_nothing_to_send(platform), READY_WITHIN, "no mail left to send")
        assert max(await counts()) == 1, dict(zip(emails, await counts(), strict=True))


def _nothing_to_send(platform: RunningPlatform) -> Callable[[], Awaitable[bool]]:
    url = f"http://127.0.0.1:{platform.notification_port}/v1/deliveries"
    headers = {"Authorization": f"Bearer {platform.token}"}

    async def idle() -> bool:
        async with httpx.AsyncClient(headers=headers, timeout=30.0) as notification:
            listed = (await notification.get(url, params={"limit": 1000})).json()["items"]
        return not [d for d in listed if d["status"] in ("queued", "sending", "retrying")]

    return idle


async def _demo_loaded(staff: httpx.AsyncClient) -> list[dict[str, Any]]:
    """The forums once the demo is complete (2 held, 2 open); polls until then."""
    deadline = time.monotonic() + 90
    while True:
        forums: list[dict[str, Any]] = (await staff.get("/v1/forums")).json()["items"]
        held = [forum for forum in forums if forum["status"] == "held"]
        open_ = [forum for forum in forums if forum["registration_open"]]
        if len(held) == 2 and len(open_) >= 2:
            return forums
        assert time.monotonic() < deadline, f"demo incomplete: {forums}"
        await asyncio.sleep(0.5)  # polling interval while the demo loads


async def test_up_demo_loads_partners_and_forums(start_up: Any) -> None:
    platform: RunningPlatform = start_up("--demo")
    async with platform.staff() as staff:
        forums = await _demo_loaded(staff)
        partners = await staff.get("/v1/organizations", params={"status": "partner"})
    assert partners.status_code == 200, partners.text
    assert len(partners.json()["items"]) == 13
    closed = [f for f in forums if f["status"] == "scheduled" and not f["registration_open"]]
    assert len(closed) == 1, "the conference whose deadline has passed"
    assert _stop(platform) == 0


async def _signed_in(dashboard: httpx.AsyncClient, token: str) -> None:
    """Through the sign-in form, as a browser does: its CSRF token, then the session cookie."""
    form = await dashboard.get("/")
    assert form.status_code == 200
    assert "Anmeldung zu den Auswertungen" in form.text
    [csrf_token] = re.findall(r'name="csrf_token" value="([^"]+)"', form.text)
    signed_in = await dashboard.post("/sign-in", data={"token": token, "csrf_token": csrf_token})
    assert signed_in.status_code == 303, signed_in.text
    assert "dialognet_session" in dashboard.cookies


async def test_up_runs_reporting_and_its_dashboard_answers(start_up: Any) -> None:
    platform: RunningPlatform = start_up("--demo")
    assert platform.service_process("reporting") is not None
    dashboard_url = platform.link("reporting dashboard")
    async with httpx.AsyncClient(base_url=dashboard_url, timeout=30.0) as dashboard:
        assert (await dashboard.get("/v1/dashboard")).status_code == 401
        for path in ("/static/site.css", "/static/dashboard.css", "/static/dashboard.js"):
            assert (await dashboard.get(path)).status_code == 200, path
        await _signed_in(dashboard, platform.token)

        async def demo_counted() -> bool:
            network = (await dashboard.get("/v1/reports/network")).json()
            return bool(network["partners"] == 13)

        await until(demo_counted, 90, "the demo's 13 partners in the network report", interval=0.5)
        page = await dashboard.get("/")
        assert "<h1>Dashboard</h1>" in page.text
        assert "Kommende Foren" in page.text
        numbers = (await dashboard.get("/v1/dashboard")).json()
        assert [section["id"] for section in numbers["sections"]] == [
            "network", "growth", "funnel", "forums", "activity", "emails", "pipeline",
        ]  # fmt: skip
    assert _stop(platform) == 0


def _up_failing(env_changes: dict[str, str], data_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {**_platform_env(*_free_ports()), **env_changes}
    return subprocess.run(
        [sys.executable, "-m", "services.cli", "up", "--data-dir", str(data_dir)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_up_refuses_a_bad_setting_by_name(tmp_path: Path) -> None:
    result = _up_failing({"DIALOGNET_REGISTRATION_PORT": "eighty"}, tmp_path / "data")
    assert result.returncode == 2, result.stderr
    assert "DIALOGNET_REGISTRATION_PORT='eighty'" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "data").exists(), "nothing started"


def test_up_says_when_the_configured_database_is_unreachable(tmp_path: Path) -> None:
    url = f"postgresql://dialognet:hunter2@127.0.0.1:{free_port()}/dialognet"
    result = _up_failing({"DIALOGNET_DATABASE_URL": url}, tmp_path / "data")
    assert result.returncode == 1, result.stderr
    assert "cannot connect to the database" in result.stderr
    assert "DIALOGNET_DATABASE_URL" in result.stderr
    assert "hunter2" not in result.stderr + result.stdout
    assert "Traceback" not in result.stderr


async def test_a_second_up_on_the_same_data_dir_is_refused(start_up: Any) -> None:
    platform: RunningPlatform = start_up()

    second = _up_failing({}, platform.data_dir)  # other ports, same data dir

    assert second.returncode == 1, second.stderr
    assert f"(pid {platform.process.pid}) is using" in second.stderr
    async with platform.staff() as staff:  # the first one's database is still there
        ready = await staff.get("/health/ready")
        assert ready.status_code == 200, ready.text
        assert (await staff.get("/v1/organizations")).status_code == 200
    assert _stop(platform) == 0


async def test_up_runs_the_mailbox_and_points_every_service_at_it(start_up: Any) -> None:
    platform: RunningPlatform = start_up()
    mailbox_url = f"http://127.0.0.1:{platform.mailbox_port}"
    assert ["mailbox", mailbox_url] in [line.split() for line in platform.output]
    registration = platform.service_process("registration")
    assert registration is not None
    smtp_url = registration.environ()["DIALOGNET_SMTP_URL"]
    assert smtp_url == f"smtp://127.0.0.1:{platform.smtp_port}"

    await send(platform.smtp_port, confirmation(), ["ana@example.org"])

    async with httpx.AsyncClient(base_url=mailbox_url, timeout=30.0) as mailbox:
        listed = (await mailbox.get("/api/messages")).json()
    assert [item["subject"] for item in listed["items"]] == [
        "Anmeldung bestätigt: Forum Gleichbehandlung"
    ]
    stored = [path for path in (platform.data_dir / "mailbox").iterdir() if path.name[0] != "."]
    assert [path.name for path in stored] == [listed["items"][0]["id"]]
    children = _process_tree(platform.process.pid)
    assert _stop(platform) == 0
    assert _leftovers(platform, children) == []


class _Relay:
    """An organisation's mail relay (aiosmtpd, in a thread of its own): keeps what it gets."""

    def __init__(self) -> None:
        self.recipients: list[str] = []

    async def handle_DATA(self, server: object, session: object, envelope: Any) -> str:  # noqa: N802 (aiosmtpd's hook name)
        self.recipients.extend(envelope.rcpt_tos)
        return "250 OK"


@pytest.fixture
def mail_relay() -> Iterator[tuple[str, _Relay]]:

    relay = _Relay()
    port = free_port()
    controller = Controller(relay, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield f"smtp://127.0.0.1:{port}", relay
    finally:
        controller.stop()


async def test_up_with_a_mail_relay_configured_starts_no_mailbox(
    start_up: Any, mail_relay: tuple[str, _Relay]
) -> None:
    url, relay = mail_relay

    platform: RunningPlatform = start_up(env={"DIALOGNET_SMTP_URL": url})

    assert not [line for line in platform.output if line.strip().startswith("mailbox")]
    assert platform.service_process("mailbox") is None
    for name in ("registration", "notification"):
        service = platform.service_process(name)
        assert service is not None
        assert service.environ()["DIALOGNET_SMTP_URL"] == url
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        assert probe.connect_ex(("127.0.0.1", platform.mailbox_port)) != 0, "nothing listens"
    async with platform.staff() as staff:  # and the mail goes to the relay
        forum_id = await _schedule_forum(staff)
        organization_id = await _create_organization(staff)
        await _register(staff, forum_id, organization_id, "relay@example.net")

    async def relayed() -> bool:
        return "relay@example.net" in relay.recipients

    await until(relayed, 60, "the confirmation at the relay", interval=0.2)
    assert _stop(platform) == 0


def test_up_refuses_a_busy_smtp_port_by_name(tmp_path: Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = _up_failing({"DIALOGNET_MAILBOX_SMTP_PORT": str(port)}, tmp_path / "data")
    assert result.returncode == 1, result.stderr
    assert f"port {port} is in use; choose another with DIALOGNET_MAILBOX_SMTP_PORT" in (
        result.stderr
    )


async def _final_deliveries(platform: RunningPlatform) -> list[dict[str, Any]]:
    """Every delivery of the notification service once none is left to send (polls)."""
    url = f"http://127.0.0.1:{platform.notification_port}"
    headers = {"Authorization": f"Bearer {platform.token}"}
    found: list[dict[str, Any]] = []
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=30.0) as notification:

        async def settled() -> bool:
            response = await notification.get("/v1/deliveries", params={"limit": 1000})
            assert response.status_code == 200, response.text
            found[:] = response.json()["items"]
            pending = [d for d in found if d["status"] in ("queued", "sending", "retrying")]
            kinds = [d["kind"] for d in found]
            # The demo's last facts: the upcoming forum's and the conference's invitations.
            planned = kinds.count("partner_welcome") == 13 and kinds.count("forum_invitation") >= 26
            return planned and not pending

        await until(settled, 120, "the demo's mail sent", interval=0.5)
    return found


async def _subjects(platform: RunningPlatform) -> list[tuple[str, str]]:
    """(recipient, subject) of every message in the mailbox."""
    url = f"http://127.0.0.1:{platform.mailbox_port}"
    async with httpx.AsyncClient(base_url=url, timeout=30.0) as mailbox:
        listed = (await mailbox.get("/api/messages", params={"limit": 1000})).json()
    assert listed["total"] == len(listed["items"])
    return [(item["to"][0], item["subject"]) for item in listed["items"]]


async def test_up_demo_fills_the_mailbox_with_the_mail_its_history_causes(
    start_up: Any,
) -> None:
    from services.cli.demo import HELD_FORUMS, PARTNERS, PROSPECTS

    platform: RunningPlatform = start_up("--demo")
    async with platform.staff() as staff:
        await _demo_loaded(staff)
    deliveries = await _final_deliveries(platform)
    mail = await _subjects(platform)

    def count(prefix: str, to: str | None = None) -> int:
        return len([s for r, s in mail if s.startswith(prefix) and to in (None, r)])

    # Every partner welcomed once, and invited to the forums still ahead.
    for partner in PARTNERS:
        assert count(f"Willkommen im Dialognetzwerk, {partner.name}", partner.email) == 1
        for title in ("3. Forum Dialog und Vertrauen", "Fachtag Vielfalt und Polizei"):
            assert count(f"Einladung: {title}", partner.email) == 1, (partner.email, title)
    # Confirmations of the registrations for the conference and the upcoming forum.
    assert count("Anmeldung bestätigt: Offene Netzwerkkonferenz") == 8
    assert count("Anmeldung bestätigt: 3. Forum Dialog und Vertrauen") == 4
    for prospect in PROSPECTS:
        assert count("Anmeldung bestätigt: Offene Netzwerkkonferenz", prospect.email) == 1
    # The forums of 2025 were moved into the past and reported held: no change, no thanks.
    held_titles = {forum.title for forum in HELD_FORUMS}
    assert not [s for _, s in mail if s.startswith(("Geänderte Angaben", "Danke für"))]
    about_held = [d for d in deliveries if d["kind"] in ("forum_updated", "forum_thanks")]
    assert about_held
    assert {d["status"] for d in about_held} == {"suppressed"}
    # Their invitations and confirmations (and the conference's invitations, whose deadline
    # the demo then moves into the past) went out while still ahead, or were suppressed if
    # the change was known first: the demo's facts come within a second.
    for title in (*held_titles, "Offene Netzwerkkonferenz"):
        assert count(f"Einladung: {title}") <= 13
    assert len(mail) == len([d for d in deliveries if d["status"] == "sent"])
    assert len(set(mail)) == len(mail), "a mail twice"
    assert _stop(platform) == 0
