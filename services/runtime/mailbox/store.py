"""The mailbox's messages on disk: one directory a message under `<data_dir>/mailbox/`, holding
the message exactly as received (`message.eml`) and its SMTP envelope (`envelope.json`)."""

import json
import os
import re
import secrets
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

MESSAGE_FILE = "message.eml"
ENVELOPE_FILE = "envelope.json"
# Messages being written, and messages being deleted: neither is ever listed (their names are
# not message ids), and what a crash left in them is removed on the next start.
INCOMING_DIR = ".incoming"
DELETING_DIR = ".deleting"

# The time received (UTC, to the microsecond) and a random suffix: sorting the ids sorts the
# messages by arrival, and an id is safe as a file name and a URL path segment.
MESSAGE_ID = re.compile(r"\d{8}T\d{12}Z-[0-9a-f]{8}")


@dataclass(frozen=True)
class Envelope:
    """What the SMTP session said, beyond the message: who sent it to whom, and when."""

    sender: str  # MAIL FROM; empty for the null sender <>
    recipients: tuple[str, ...]  # RCPT TO: every address it went to, Bcc included
    received_at: datetime

    def to_json(self) -> bytes:
        return json.dumps(
            {
                "sender": self.sender,
                "recipients": list(self.recipients),
                "received_at": self.received_at.isoformat(),
            },
            ensure_ascii=False,
        ).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> "Envelope":
        fields = json.loads(raw)
        return cls(
            sender=fields["sender"],
            recipients=tuple(fields["recipients"]),
            received_at=datetime.fromisoformat(fields["received_at"]),
        )


@dataclass(frozen=True)
class StoredMessage:
    message_id: str
    envelope: Envelope
    raw: bytes


def new_message_id(received_at: datetime) -> str:
    return f"{received_at.astimezone(UTC):%Y%m%dT%H%M%S%f}Z-{secrets.token_hex(4)}"


class MessageStore:
    """Blocking file operations; the sink calls them from worker threads, off its event loop."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def open(self) -> None:
        """Create the directory; drop what an interrupted write or delete left behind."""
        self.root.mkdir(parents=True, exist_ok=True)
        for leftover in (INCOMING_DIR, DELETING_DIR):
            shutil.rmtree(self.root / leftover, ignore_errors=True)
            (self.root / leftover).mkdir()

    def save(self, raw: bytes, envelope: Envelope) -> str:
        """Store a message whole, or not at all: both files are written and synced in a staging
        directory, which one rename then moves into the mailbox. A crash before the rename leaves
        only staging (removed on start); the SMTP client hears 250 only after it."""
        message_id = new_message_id(envelope.received_at)
        staging = self.root / INCOMING_DIR / message_id
        staging.mkdir()
        _write_synced(staging / MESSAGE_FILE, raw)
        _write_synced(staging / ENVELOPE_FILE, envelope.to_json())
        _sync_directory(staging)
        staging.rename(self.root / message_id)
        _sync_directory(self.root)
        return message_id

    def message_ids(self) -> list[str]:
        """Every stored message, newest first."""
        names = (entry.name for entry in os.scandir(self.root))
        return sorted((name for name in names if MESSAGE_ID.fullmatch(name)), reverse=True)

    def read(self, message_id: str) -> StoredMessage | None:
        """The message, or None when there is none by that id (or the id is not one of ours)."""
        if not MESSAGE_ID.fullmatch(message_id):
            return None
        directory = self.root / message_id
        try:
            raw = (directory / MESSAGE_FILE).read_bytes()
            envelope = Envelope.from_json((directory / ENVELOPE_FILE).read_bytes())
        except FileNotFoundError:  # deleted meanwhile
            return None
        return StoredMessage(message_id, envelope, raw)

    def delete(self, message_id: str) -> bool:
        """Remove one message; False when there was none. Moved aside first, so that a crash
        halfway through removing its files never leaves half a message listed."""
        if not MESSAGE_ID.fullmatch(message_id):
            return False
        doomed = self.root / DELETING_DIR / message_id
        try:
            (self.root / message_id).rename(doomed)
        except FileNotFoundError:
            return False
        shutil.rmtree(doomed, ignore_errors=True)
        return True

    def delete_all(self) -> int:
        """Empty the mailbox; a message arriving meanwhile may stay. Returns how many went."""
        return sum(self.delete(message_id) for message_id in self.message_ids())

    def check_writable(self) -> None:
        """Raises OSError when a message could not be stored now (disk full, read-only)."""
        # A name of its own: readiness probes may run concurrently.
        probe = self.root / INCOMING_DIR / f"probe-{secrets.token_hex(4)}"
        _write_synced(probe, b"ok")
        probe.unlink()


def _write_synced(path: Path, content: bytes) -> None:
    with path.open("wb") as file:
        file.write(content)
        file.flush()
        os.fsync(file.fileno())


def _sync_directory(path: Path) -> None:
    """Make a rename or a new file in `path` survive a power loss, not only a process crash."""
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
