"""The message store on a real file system: a message is in the mailbox whole or not at all."""

from datetime import UTC, datetime
from pathlib import Path

import pytest

from services.runtime.mailbox.store import (
    DELETING_DIR,
    INCOMING_DIR,
    MESSAGE_FILE,
    Envelope,
    MessageStore,
)

pytestmark = pytest.mark.integration

ENVELOPE = Envelope("a@example.org", ("b@example.org", "c@example.org"), datetime.now(UTC))


def test_a_saved_message_reads_back_with_its_envelope(tmp_path: Path) -> None:
    store = MessageStore(tmp_path)
    store.open()

    message_id = store.save(b"Subject: x\r\n\r\nbody\r\n", ENVELOPE)

    stored = store.read(message_id)
    assert stored is not None
    assert stored.raw == b"Subject: x\r\n\r\nbody\r\n"
    assert stored.envelope == ENVELOPE
    assert store.message_ids() == [message_id]


def test_what_an_interrupted_write_or_delete_left_is_never_listed(tmp_path: Path) -> None:
    store = MessageStore(tmp_path)
    store.open()
    kept = store.save(b"Subject: kept\r\n\r\n", ENVELOPE)
    # As a crash leaves them: a message half written in staging, one half removed.
    half_written = tmp_path / INCOMING_DIR / "20260101T000000000000Z-00000001"
    half_written.mkdir()
    (half_written / MESSAGE_FILE).write_bytes(b"Subject: half")
    half_deleted = tmp_path / DELETING_DIR / "20260101T000000000000Z-00000002"
    half_deleted.mkdir()

    assert store.message_ids() == [kept]
    store.open()  # the next start

    assert store.message_ids() == [kept]
    assert list((tmp_path / INCOMING_DIR).iterdir()) == []
    assert list((tmp_path / DELETING_DIR).iterdir()) == []


def test_ids_sort_by_arrival(tmp_path: Path) -> None:
    store = MessageStore(tmp_path)
    store.open()
    earlier = Envelope("a@example.org", ("b@example.org",), datetime(2026, 1, 1, tzinfo=UTC))
    later = Envelope("a@example.org", ("b@example.org",), datetime(2026, 1, 2, tzinfo=UTC))

    second = store.save(b"Subject: 2\r\n\r\n", later)
    first = store.save(b"Subject: 1\r\n\r\n", earlier)

    assert store.message_ids() == [second, first]


def test_ids_that_are_not_ours_read_as_nothing(tmp_path: Path) -> None:
    store = MessageStore(tmp_path)
    store.open()
    (tmp_path / "secret.txt").write_text("not a message")

    assert store.read("../secret.txt") is None
    assert store.read(INCOMING_DIR) is None
    assert store.delete("../secret.txt") is False
    assert (tmp_path / "secret.txt").exists()
