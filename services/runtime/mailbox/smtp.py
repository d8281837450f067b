"""The sink's SMTP side (aiosmtpd) on the process's event loop: any sender, any recipient, no
authentication; a message is answered 250 only once it is stored whole, and refused with 552
over the size limit (advertised as SIZE in EHLO, so clients know before sending)."""

import asyncio
import logging
from datetime import UTC, datetime

from aiosmtpd.smtp import SMTP, Envelope, Session

from services.runtime.log_privacy import hold_payload_loggers
from services.runtime.mailbox import metrics
from services.runtime.mailbox.messages import Mailbox
from services.runtime.mailbox.store import Envelope as StoredEnvelope
from services.runtime.settings import Settings

log = logging.getLogger(__name__)

# Said in the greeting and EHLO; without it aiosmtpd looks up this machine's FQDN for every
# connection, which can wait on DNS.
SERVER_NAME = "dialognet-mailbox"


class StoringHandler:
    """aiosmtpd's DATA hook: store the message with its envelope, then accept it."""

    def __init__(self, mailbox: Mailbox) -> None:
        self.mailbox = mailbox

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802 (aiosmtpd's hook name)
        envelope_kept = StoredEnvelope(
            sender=envelope.mail_from or "",
            recipients=tuple(envelope.rcpt_tos),
            received_at=datetime.now(UTC),
        )
        try:
            message_id = await self.mailbox.receive(envelope.original_content or b"", envelope_kept)
        except OSError as error:  # disk full, mailbox removed: the client keeps it and retries
            metrics.STORE_FAILURES.inc()
            log.error("a message could not be stored: %s", error)
            return "451 4.3.0 The mailbox cannot store messages right now; try again later"
        return f"250 2.0.0 OK: stored as {message_id}"


async def start_smtp_server(settings: Settings, mailbox: Mailbox) -> asyncio.Server:
    """Listen on the mailbox's SMTP port until the returned server is closed."""
    hold_payload_loggers()  # aiosmtpd's log of every command holds the addresses
    loop = asyncio.get_running_loop()
    handler = StoringHandler(mailbox)

    def new_session() -> SMTP:
        return SMTP(
            handler,
            data_size_limit=settings.mailbox_max_message_bytes,
            # Any recipient, internationalised addresses too.
            enable_SMTPUTF8=True,
            hostname=SERVER_NAME,
            ident="dialognet mailbox",
            loop=loop,
        )

    return await loop.create_server(
        new_session, host=settings.mailbox_host, port=settings.mailbox_smtp_port
    )
