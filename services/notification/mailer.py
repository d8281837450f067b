"""SMTP with aiosmtplib: the relay named by DIALOGNET_SMTP_URL, a few connections kept open and
reused, and every failure told apart as transient (try again later) or permanent (5xx)."""

import asyncio
import contextlib
import logging
import re
from dataclasses import dataclass, field
from urllib.parse import parse_qs, unquote, urlsplit

import aiosmtplib

log = logging.getLogger(__name__)

TIMEOUT_SECONDS = 30.0  # aiosmtplib's, per command; the whole send is bounded tighter
CHECK_TIMEOUT_SECONDS = 5.0
PORTS = {"smtp": 25, "smtps": 465}
EMAIL_ADDRESS = re.compile(r"<?[^\s<>@]+@[^\s<>@]+>?")


class InvalidSmtpUrl(ValueError):
    """DIALOGNET_SMTP_URL cannot be used; the message says why (never the password)."""


class SendFailed(Exception):
    """The relay did not take the mail. `permanent`: it said no for good (5xx); otherwise it
    may take it later (connection refused, timeout, 4xx)."""

    def __init__(self, reason: str, *, permanent: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent


@dataclass(frozen=True)
class SmtpTarget:
    host: str
    port: int
    username: str | None
    # Out of the repr: a log record keeps its arguments (the ready line logs the target), and
    # structured log handlers and error reporters print them with repr, not str.
    password: str | None = field(repr=False)
    implicit_tls: bool  # smtps://
    start_tls: bool  # ?starttls=true

    @classmethod
    def from_url(cls, url: str) -> "SmtpTarget":
        """`smtp://[user:pass@]host[:port][?starttls=true]` or `smtps://…` (implicit TLS)."""
        parts = urlsplit(url)
        if parts.scheme not in PORTS or not parts.hostname:
            raise InvalidSmtpUrl("DIALOGNET_SMTP_URL must be smtp://host[:port] or smtps://…")
        query = parse_qs(parts.query)
        start_tls = query.get("starttls", ["false"])[0].lower() in ("1", "true", "yes")
        try:
            port = parts.port or PORTS[parts.scheme]
        except ValueError as error:
            raise InvalidSmtpUrl(f"DIALOGNET_SMTP_URL has an invalid port: {error}") from None
        return cls(
            host=parts.hostname,
            port=port,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            implicit_tls=parts.scheme == "smtps",
            start_tls=start_tls,
        )

    def __str__(self) -> str:  # where the mail goes, for logs and health: no credentials
        return f"{self.host}:{self.port}"


class NotAttempted(Exception):
    """No connection came free in time: nothing was sent, the mail can go back to the queue."""


class Mailer:
    """Up to `connections` SMTP sessions, opened when needed and reused for the next mail; a
    session that failed is dropped and a new one opened for the next.

    Every wait is bounded: for a connection (`send`'s `slot_within`) and for the relay
    (`send_timeout`, connecting and the whole transaction). A relay that hangs would otherwise
    hold a mail for up to 30 s a command, and the mails queued behind it longer than the
    sending timeout, after which another replica takes them too (sender.py).
    """

    def __init__(self, target: SmtpTarget, connections: int, send_timeout: float) -> None:
        self._target = target
        self._idle: asyncio.Queue[aiosmtplib.SMTP] = asyncio.Queue()
        self._slots = asyncio.Semaphore(connections)
        self._send_timeout = send_timeout

    async def send(
        self, envelope_from: str, recipient: str, message: bytes, *, slot_within: float
    ) -> None:
        """Hand one message to the relay; raises SendFailed, or NotAttempted when no
        connection came free within `slot_within` seconds."""
        try:
            await asyncio.wait_for(self._slots.acquire(), slot_within)
        except TimeoutError:
            raise NotAttempted from None
        try:
            async with asyncio.timeout(self._send_timeout):
                await self._send(envelope_from, recipient, message)
        except TimeoutError:
            raise SendFailed(
                f"the relay did not answer within {self._send_timeout:.0f} s", permanent=False
            ) from None
        finally:
            self._slots.release()

    async def _send(self, envelope_from: str, recipient: str, message: bytes) -> None:
        client = await self._session()
        try:
            await client.sendmail(envelope_from, [recipient], message)
        except BaseException as error:
            _drop(client)
            if isinstance(error, Exception):
                raise _classified(error) from error
            raise
        self._idle.put_nowait(client)

    async def check(self) -> None:
        """For /health/ready: the relay answers (a NOOP on an idle session, else a new one),
        within CHECK_TIMEOUT_SECONDS; a connection busy sending is not waited for longer."""
        async with asyncio.timeout(CHECK_TIMEOUT_SECONDS), self._slots:
            client = await self._session()
            try:
                await client.noop()
            except BaseException:
                _drop(client)
                raise
            self._idle.put_nowait(client)

    async def close(self) -> None:
        while not self._idle.empty():
            await _close(self._idle.get_nowait())

    async def _session(self) -> aiosmtplib.SMTP:
        while not self._idle.empty():
            client = self._idle.get_nowait()
            if client.is_connected:
                return client
        target = self._target
        client = aiosmtplib.SMTP(
            hostname=target.host,
            port=target.port,
            use_tls=target.implicit_tls,
            start_tls=target.start_tls if not target.implicit_tls else False,
            timeout=TIMEOUT_SECONDS,
        )
        try:
            await client.connect()
            if target.username is not None:
                await client.login(target.username, target.password or "")
        except BaseException as error:
            _drop(client)
            if isinstance(error, Exception):
                raise _classified(error) from error
            raise
        return client


def _classified(error: Exception) -> SendFailed:
    """5xx is the relay's final no; everything else (4xx, no connection, timeouts, a failed
    login or STARTTLS — configuration that staff can mend) is worth trying again."""
    if isinstance(error, aiosmtplib.SMTPRecipientsRefused):
        codes = [refused.code for refused in error.recipients]
        permanent = bool(codes) and all(code >= 500 for code in codes)
        return SendFailed(f"recipient refused: {_codes(codes)}", permanent=permanent)
    if isinstance(error, aiosmtplib.SMTPAuthenticationError):
        return SendFailed(f"SMTP login refused ({error.code})", permanent=False)
    if isinstance(error, aiosmtplib.SMTPResponseException):
        return SendFailed(
            f"SMTP {error.code}: {_without_addresses(error.message)[:200]}",
            permanent=500 <= error.code < 600,
        )
    text = _without_addresses(str(error))
    return SendFailed(f"{type(error).__name__}: {text[:200]}", permanent=False)


def _without_addresses(text: str) -> str:
    """The relay's words without any e-mail address in them: many name the recipient
    ("550 <ana@example.org>: rejected"), and the reason goes to the deliveries table, the log
    and notification.failed, none of which may hold an address (erasure keeps only its hash)."""
    return EMAIL_ADDRESS.sub("<address>", text)


def _codes(codes: list[int]) -> str:
    return ", ".join(str(code) for code in codes) or "no code"


async def _close(client: aiosmtplib.SMTP) -> None:
    """An idle session, politely (QUIT)."""
    with contextlib.suppress(Exception):
        if client.is_connected:
            await client.quit()
    _drop(client)


def _drop(client: aiosmtplib.SMTP) -> None:
    """A session that failed or was cut short: closed at once (a QUIT could hang as long)."""
    with contextlib.suppress(Exception):
        client.close()
