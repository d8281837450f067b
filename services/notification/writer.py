"""Writing mails in a process of their own: composing one is ~4 ms of pure Python, and on the
service's event loop every mail on its way held up each await of the consumer — a fact's eight
round trips each waited behind a mail being written, and facts were read at 25/s instead of
150/s while mail went out (in a thread the GIL did the same).

The process is spoken to over its stdin and stdout by the event loop itself: a request is a
`Mail` as JSON with the headers it needs, an answer the bytes that go on the wire (or why the
mail cannot be written). Answers come in the order of the requests. A ProcessPoolExecutor did
this with two threads of its own in the service (one feeding the pipe, one reading results),
which took the GIL from the event loop for every mail.
"""

import asyncio
import contextlib
import json
import logging
import signal
import struct
import sys
from collections import deque
from datetime import datetime

from schemas.envelope import utc_now
from services.notification.compose import MailNotComposable, compose
from services.notification.compose.examples import example_mail
from services.notification.domain.mails import Kind, Mail
from services.runtime.embedded import die_with_parent

log = logging.getLogger(__name__)

# A frame: its length, then its bytes; an answer's first byte says what it holds.
_LENGTH = struct.Struct("!I")
_WRITTEN, _NOT_COMPOSABLE, _FAILED = b"W", b"N", b"F"
# The largest request or answer a frame may hold (a mail is some 20 kB; a bound, not a need).
MAX_FRAME_BYTES = 64 * 1024 * 1024


class WriterLost(Exception):
    """The writing process died; a new one is started, and the mail can be written again."""


class MailWriter:
    def __init__(self, sender: str) -> None:
        self._sender = sender
        self._child: _Child | None = None
        self._starting = asyncio.Lock()

    async def start(self) -> None:
        """Start the process and load its templates now, not with the first real mail."""
        await self.write(example_mail(Kind.REGISTRATION_CONFIRMED), "<warm-up@dialognet>")

    async def write(self, mail: Mail, message_id: str) -> bytes:
        """The message as it goes on the wire; raises MailNotComposable or WriterLost."""
        request = json.dumps(
            [mail.model_dump_json(), self._sender, message_id, utc_now().isoformat()]
        ).encode()
        written = await (await self._running()).ask(request)
        kind, body = written[:1], written[1:]
        if kind == _NOT_COMPOSABLE:
            raise MailNotComposable(body.decode())
        if kind != _WRITTEN:
            raise RuntimeError(f"the writing process failed: {body.decode()}")
        return body

    async def close(self) -> None:
        if self._child is not None:
            await self._child.close()

    @property
    def pid(self) -> int:
        """The writing process's (started by the first write)."""
        assert self._child is not None, "no process before the first write"
        return self._child.pid

    async def _running(self) -> "_Child":
        async with self._starting:
            if self._child is None or self._child.gone:
                if self._child is not None:
                    log.error("the mail writing process died; starting a new one")
                self._child = await _Child.start()
            return self._child


class _Child:
    """One writing process, and the answers still owed by it, in the order asked."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self._process = process
        self._owed: deque[asyncio.Future[bytes]] = deque()
        self._ended = False  # its output ended: nothing asked of it now is answered
        self._reading = asyncio.create_task(self._read_answers(), name="mail writer answers")

    @classmethod
    async def start(cls) -> "_Child":
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            __name__,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            preexec_fn=die_with_parent,  # also when the service is killed (SIGKILL)
        )
        return cls(process)

    @property
    def gone(self) -> bool:
        return self._ended

    @property
    def pid(self) -> int:
        return self._process.pid

    async def ask(self, request: bytes) -> bytes:
        if self.gone:
            raise WriterLost
        stdin = self._process.stdin
        assert stdin is not None
        answer: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        self._owed.append(answer)
        stdin.write(_LENGTH.pack(len(request)) + request)
        with contextlib.suppress(ConnectionError):  # gone: the reader fails every answer owed
            await stdin.drain()
        return await answer

    async def close(self) -> None:
        if self._process.stdin is not None:
            self._process.stdin.close()  # the process ends at the end of its input
        try:
            await asyncio.wait_for(self._process.wait(), timeout=5)
        except TimeoutError:
            self._process.kill()
        await asyncio.gather(self._reading, return_exceptions=True)

    async def _read_answers(self) -> None:
        stdout = self._process.stdout
        assert stdout is not None
        try:
            while True:
                answer = await _read_frame(stdout)
                owed = self._owed.popleft()
                if not owed.done():  # its caller may have been cancelled meanwhile
                    owed.set_result(answer)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            # Whatever was asked of it is lost with it: each caller writes its mail again.
            self._ended = True
            while self._owed:
                owed = self._owed.popleft()
                if not owed.done():
                    owed.set_exception(WriterLost())
            # A process whose answers can no longer be read (a frame beyond the bound) would
            # live on beside its successor: ended here. One that closed its output has exited.
            with contextlib.suppress(ProcessLookupError):
                self._process.kill()
            await self._process.wait()


async def _read_frame(stream: asyncio.StreamReader) -> bytes:
    (length,) = _LENGTH.unpack(await stream.readexactly(_LENGTH.size))
    if length > MAX_FRAME_BYTES:
        raise ConnectionError(f"a frame of {length} bytes")
    return await stream.readexactly(length)


def _answer(request: bytes) -> bytes:
    """In the writing process: the written mail, or why it cannot be written (a failure of
    the code is answered too: the process stays, and the mail is not written again and again)."""
    try:
        mail_json, sender, message_id, date = json.loads(request)
        mail = Mail.model_validate_json(mail_json)
        message = compose(
            mail, sender=sender, message_id=message_id, date=datetime.fromisoformat(date)
        )
        return _WRITTEN + message.as_bytes()
    except MailNotComposable as error:
        return _NOT_COMPOSABLE + str(error).encode()
    except Exception as error:
        return _FAILED + type(error).__name__.encode()


def _serve() -> None:
    """The writing process: a request from stdin, its answer to stdout, until stdin ends."""
    # Ctrl-C in a terminal reaches the whole process group: the service stops this process by
    # closing its input, after the mails on their way are written.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    requests, answers = sys.stdin.buffer, sys.stdout.buffer
    while header := requests.read(_LENGTH.size):
        (length,) = _LENGTH.unpack(header)
        answer = _answer(requests.read(length))
        answers.write(_LENGTH.pack(len(answer)) + answer)
        answers.flush()


if __name__ == "__main__":
    _serve()
