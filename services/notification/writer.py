"""Writing mails in a process of their own: composing one is ~5 ms of pure Python, and on the
service's event loop every mail on its way held up each await of the consumer — a fact's eight
round trips each waited behind a mail being written, and facts were read at 25/s instead of
150/s while mail went out (in a thread the GIL did the same). The process takes a `Mail` as
JSON and gives back the bytes that go on the wire."""

import asyncio
import logging
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from datetime import datetime

from schemas.envelope import utc_now
from services.notification.compose import compose
from services.notification.compose.examples import example_mail
from services.notification.domain.mails import Kind, Mail
from services.runtime.embedded import die_with_parent

log = logging.getLogger(__name__)

# One process writes ~200 mails/s here, more than two SMTP connections take (bench/README.md).
WRITER_PROCESSES = 1


class WriterLost(Exception):
    """The writing process died; a new one is started, and the mail can be written again."""


def _write(mail_json: str, sender: str, message_id: str, date: datetime) -> bytes:
    """In the writing process: MailNotComposable travels back to the caller as it is."""
    mail = Mail.model_validate_json(mail_json)
    return compose(mail, sender=sender, message_id=message_id, date=date).as_bytes()


class MailWriter:
    def __init__(self, sender: str) -> None:
        self._sender = sender
        self._pool = _new_pool()

    async def start(self) -> None:
        """Start the process and load its templates now, not with the first real mail."""
        await self.write(example_mail(Kind.REGISTRATION_CONFIRMED), "<warm-up@dialognet>")

    async def write(self, mail: Mail, message_id: str) -> bytes:
        """The message as it goes on the wire; raises MailNotComposable or WriterLost."""
        loop = asyncio.get_running_loop()
        arguments = (mail.model_dump_json(), self._sender, message_id, utc_now())
        try:
            return await loop.run_in_executor(self._pool, _write, *arguments)
        except BrokenProcessPool:
            log.error("the mail writing process died; starting a new one")
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = _new_pool()
            raise WriterLost from None

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


def _new_pool() -> ProcessPoolExecutor:
    # spawn, not fork: the service has threads (the event loop's executor, the Kafka client)
    # that a forked child would inherit in whatever state they were.
    return ProcessPoolExecutor(
        WRITER_PROCESSES,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_outlive_nobody,
        initargs=(os.getpid(),),
    )


def _outlive_nobody(service_pid: int) -> None:
    """In the writing process: end with the service, also when it is killed (SIGKILL leaves
    no time to stop its pool); a kill -9 in the crash test left the writer behind before."""
    die_with_parent()
    if os.getppid() != service_pid:  # the service died before the line above took effect
        os._exit(0)
