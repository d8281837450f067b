"""The mailbox as people and scripts see it: messages newest first, filtered and paged, each
read from the store and parsed when asked for. A stored message never changes, so its summary
is read once (when it arrives, or when first listed after a start) and kept."""

import asyncio
from dataclasses import dataclass
from datetime import datetime

from services.runtime.mailbox import metrics
from services.runtime.mailbox.parsing import Overview, ParsedMessage, parse, read_overview
from services.runtime.mailbox.store import Envelope, MessageStore


@dataclass(frozen=True)
class Summary:
    """What the list shows of a message."""

    id: str
    envelope: Envelope
    sender: str | None
    to: tuple[str, ...]
    cc: tuple[str, ...]
    subject: str
    date: datetime | None
    message_id: str | None  # the Message-ID header, not the mailbox's id
    size: int
    attachment_count: int

    @property
    def bcc(self) -> tuple[str, ...]:
        """Envelope recipients that no header names: the blind copies."""
        named = {address.lower() for address in (*self.to, *self.cc)}
        return tuple(r for r in self.envelope.recipients if r.lower() not in named)

    @property
    def received_at(self) -> datetime:
        return self.envelope.received_at


@dataclass(frozen=True)
class MessageFilter:
    """What scripts and tests look for; every given criterion must hold, case does not count."""

    to: str | None = None  # an address it went to: envelope recipient (Bcc too), To or Cc
    sender: str | None = None  # the From address or the envelope sender
    subject: str | None = None  # a part of the subject

    def selects_all(self) -> bool:
        return self.to is None and self.sender is None and self.subject is None

    def matches(self, summary: Summary) -> bool:
        return (
            _has(self.to, (*summary.envelope.recipients, *summary.to, *summary.cc))
            and _has(self.sender, (summary.envelope.sender, summary.sender or ""))
            and (self.subject is None or self.subject.lower() in summary.subject.lower())
        )


def _has(wanted: str | None, addresses: tuple[str, ...]) -> bool:
    return wanted is None or wanted.lower() in {address.lower() for address in addresses}


@dataclass(frozen=True)
class Page:
    items: list[Summary]
    total: int  # messages matching the filter, on every page
    next_cursor: str | None  # the last item's id when older messages match


@dataclass(frozen=True)
class OpenedMessage:
    summary: Summary
    parsed: ParsedMessage


class Mailbox:
    """Reads are blocking (files): the HTTP routes run them in worker threads."""

    def __init__(self, store: MessageStore) -> None:
        self.store = store
        self._summaries: dict[str, Summary] = {}

    async def receive(self, raw: bytes, envelope: Envelope) -> str:
        """Store a message (off the event loop, which serves SMTP and HTTP); returns its id."""
        message_id = await asyncio.to_thread(self._store_and_summarise, raw, envelope)
        metrics.MESSAGES_RECEIVED.inc()
        metrics.BYTES_RECEIVED.inc(len(raw))
        return message_id

    def _store_and_summarise(self, raw: bytes, envelope: Envelope) -> str:
        message_id = self.store.save(raw, envelope)
        self._summaries[message_id] = _summarise(message_id, envelope, read_overview(raw), len(raw))
        return message_id

    def page(self, wanted: MessageFilter, limit: int, cursor: str | None = None) -> Page:
        """Newest first; `cursor` is the id of the last message of the previous page."""
        ids = self.store.message_ids()
        self._forget_all_but(ids)
        if wanted.selects_all():
            # Only this page's messages are read: the first list after a start would otherwise
            # read every message in the mailbox (0.6 ms each for a confirmation).
            after_ids = [i for i in ids if i < cursor] if cursor is not None else ids
            items = [s for s in map(self._summary, after_ids[:limit]) if s is not None]
            return _page(items, total=len(ids), more=len(after_ids) > limit)
        matching = [s for s in map(self._summary, ids) if s is not None and wanted.matches(s)]
        after = [s for s in matching if s.id < cursor] if cursor is not None else matching
        return _page(after[:limit], total=len(matching), more=len(after) > limit)

    def open(self, message_id: str) -> OpenedMessage | None:
        stored = self.store.read(message_id)
        if stored is None:
            return None
        parsed = parse(stored.raw)
        summary = _summarise(message_id, stored.envelope, parsed.overview, len(stored.raw))
        self._summaries[message_id] = summary
        return OpenedMessage(summary, parsed)

    def raw(self, message_id: str) -> bytes | None:
        stored = self.store.read(message_id)
        return stored.raw if stored is not None else None

    def delete(self, message_id: str) -> bool:
        self._summaries.pop(message_id, None)
        return self.store.delete(message_id)

    def delete_all(self) -> int:
        self._summaries.clear()
        return self.store.delete_all()

    def _summary(self, message_id: str) -> Summary | None:
        known = self._summaries.get(message_id)
        if known is not None:
            return known
        stored = self.store.read(message_id)
        if stored is None:  # deleted meanwhile
            return None
        overview = read_overview(stored.raw)
        summary = _summarise(message_id, stored.envelope, overview, len(stored.raw))
        self._summaries[message_id] = summary
        return summary

    def _forget_all_but(self, ids: list[str]) -> None:
        """Drop the summaries of messages no longer stored (deleted by hand, say)."""
        # set() copies the keys in one step (under the GIL): worker threads add to the dict.
        for gone in set(self._summaries) - set(ids):
            self._summaries.pop(gone, None)


def _page(items: list[Summary], total: int, more: bool) -> Page:
    return Page(items, total, next_cursor=items[-1].id if more and items else None)


def _summarise(message_id: str, envelope: Envelope, overview: Overview, size: int) -> Summary:
    return Summary(
        id=message_id,
        envelope=envelope,
        sender=overview.sender,
        to=overview.to,
        cc=overview.cc,
        subject=overview.subject,
        date=overview.date,
        message_id=overview.message_id,
        size=size,
        attachment_count=overview.attachment_count,
    )
