"""A mail relay a test controls, between the notification service and the mail sink: it passes
each message on to the sink, or answers 451 for a while, refuses some recipients for good (550),
or is down altogether (connection refused) — a real SMTP server (aiosmtpd) on a real port."""

import asyncio
import contextlib
import warnings
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import aiosmtplib
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from services.runtime.embedded import free_port

TRY_LATER = "451 4.3.0 Mail system busy, try again later"
NO_SUCH_MAILBOX = "550 5.1.1 Mailbox unavailable"
HANG_SECONDS = 60.0


@dataclass
class SmtpGate:
    sink_port: int
    port: int = field(default_factory=free_port)
    # While set, every message is answered with it after DATA (a 4xx: try again later).
    answer: str | None = None
    # Recipients refused at RCPT TO with 550, for good.
    refused: set[str] = field(default_factory=set)
    # Recipients whose message is refused after DATA with a 550 that names them, as many
    # relays answer.
    refused_naming: set[str] = field(default_factory=set)
    # Every answer given to a DATA, in order (what the relay saw).
    answers: list[str] = field(default_factory=list)
    # How long each message takes to pass on (a slow relay).
    delay_seconds: float = 0.0
    # While set, the relay takes the message and does not answer (then says 451, never
    # passing it on): a relay that hangs.
    hanging: bool = False
    # While set, the relay requires SMTP AUTH with this (user, password), over plain TCP as a
    # relay on loopback may; `logins` counts the sessions that logged in with it.
    credentials: tuple[str, str] | None = None
    logins: int = 0
    _server: asyncio.Server | None = None
    _sessions: list[SMTP] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: object
    ) -> AuthResult:
        offered = (
            (auth_data.login.decode(), auth_data.password.decode())
            if isinstance(auth_data, LoginPassword)
            else None
        )
        accepted = offered is not None and offered == self.credentials
        self.logins += accepted
        return AuthResult(success=accepted)

    async def handle_RCPT(  # noqa: N802 (aiosmtpd's hook name)
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if address.lower() in self.refused:
            return NO_SUCH_MAILBOX
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        if self.answer is not None:
            self.answers.append(self.answer)
            return self.answer
        if self.hanging:
            self.answers.append("hung")
            await asyncio.sleep(HANG_SECONDS)
            return TRY_LATER
        named = [address for address in envelope.rcpt_tos if address in self.refused_naming]
        if named:
            return f"550 5.7.1 <{named[0]}>: message refused by policy"
        if self.delay_seconds:
            await asyncio.sleep(self.delay_seconds)
        await aiosmtplib.send(
            envelope.original_content or b"",
            sender=envelope.mail_from,
            recipients=envelope.rcpt_tos,
            hostname="127.0.0.1",
            port=self.sink_port,
        )
        self.answers.append("250")
        return "250 2.0.0 OK: passed on"

    async def up(self) -> None:
        loop = asyncio.get_running_loop()

        def session() -> SMTP:
            with warnings.catch_warnings():
                # AUTH without TLS, which aiosmtpd warns of: a relay on loopback, in a test.
                warnings.simplefilter("ignore", UserWarning)
                smtp = self._smtp(loop)
            self._sessions.append(smtp)
            return smtp

        self._server = await loop.create_server(session, host="127.0.0.1", port=self.port)

    def _smtp(self, loop: asyncio.AbstractEventLoop) -> SMTP:
        login = self.credentials is not None
        return SMTP(
            self,
            hostname="gate",
            ident="test gate",
            loop=loop,
            authenticator=self.authenticate if login else None,
            auth_required=login,
            auth_require_tls=False,
        )

    async def down(self) -> None:
        """Refuse connections, and drop the open ones (a relay that went away)."""
        server, self._server = self._server, None
        if server is not None:
            server.close()
        for smtp in self._sessions:
            if smtp.transport is not None:
                smtp.transport.abort()
        self._sessions.clear()
        if server is not None:
            await server.wait_closed()


@contextlib.asynccontextmanager
async def smtp_gate(sink_port: int) -> AsyncIterator[SmtpGate]:
    gate = SmtpGate(sink_port)
    await gate.up()
    try:
        yield gate
    finally:
        await gate.down()
