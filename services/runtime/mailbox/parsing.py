"""Reading a received message for people and scripts: addresses, subject, date, the text and HTML
bodies, every header and the attachments. The sink accepts any bytes, so nothing here may fail
on a malformed message: what cannot be decoded is shown as it came."""

import email
import logging
import mimetypes
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.header import decode_header, make_header
from email.message import EmailMessage
from email.policy import compat32
from email.policy import default as default_policy
from email.utils import getaddresses, parsedate_to_datetime
from functools import partial
from typing import TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")

# A MIME type as HTTP may carry it; anything else a part declares is served as octet-stream.
_MIME_TYPE = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*")
_CHARSET = re.compile(r"[A-Za-z0-9_.:+-]{1,40}")
# Path separators and control characters never reach a downloaded file's name.
_UNSAFE_IN_FILENAME = re.compile(r'[\x00-\x1f\x7f/\\"]')
MAX_FILENAME_LENGTH = 200

Headers = tuple[tuple[str, str], ...]
NO_HEADERS: Headers = ()


@dataclass(frozen=True)
class Attachment:
    """A part of the message other than the text and HTML bodies shown: a file, an inline
    image, a calendar invitation, an attached message."""

    index: int  # its position among the message's parts: the address of its download
    filename: str
    content_type: str  # type/subtype, lower case
    charset: str | None
    content: bytes
    content_id: str | None  # without angle brackets; what `cid:` URLs in the HTML name
    inline: bool

    @property
    def http_content_type(self) -> str:
        return f"{self.content_type}; charset={self.charset}" if self.charset else self.content_type


@dataclass(frozen=True)
class ParsedMessage:
    sender: str | None  # the first address of From
    to: tuple[str, ...]
    cc: tuple[str, ...]
    subject: str
    date: datetime | None  # the Date header in UTC; None when missing or unreadable
    message_id: str | None
    headers: Headers  # every header in order, encoded words decoded
    text: str | None
    html: str | None
    attachments: tuple[Attachment, ...]


def parse(raw: bytes) -> ParsedMessage:
    """Every field read leniently; should the parser still fail, the message is shown as text."""
    try:
        return _parse(raw)
    except Exception:  # nothing a sender writes may break the view
        log.warning("a message could not be parsed; shown as text", exc_info=True)
        return _unparsed(raw)


def _lenient(read: Callable[[], T], fallback: T) -> T:
    """`read()`, or `fallback` where the stdlib's header parser fails on a malformed header: it
    raises ValueError, IndexError and others on some (found by mutating messages at random)."""
    try:
        return read()
    except Exception:
        return fallback


def _unparsed(raw: bytes) -> ParsedMessage:
    """The headers as the old, lenient parser reads them and the whole message as text."""
    headers = _lenient(partial(_old_headers, raw), NO_HEADERS)
    return ParsedMessage(
        sender=next(iter(_old_addresses(headers, "From")), None),
        to=_old_addresses(headers, "To"),
        cc=_old_addresses(headers, "Cc"),
        subject=next((value for name, value in headers if name.lower() == "subject"), ""),
        date=None,
        message_id=None,
        headers=headers,
        text=raw.decode("utf-8", errors="replace"),
        html=None,
        attachments=(),
    )


def _old_headers(raw: bytes) -> Headers:
    message = email.message_from_bytes(raw, policy=compat32)
    pairs = [(str(name), str(value)) for name, value in message.items()]
    return tuple((name, _lenient(partial(_decoded_words, value), value)) for name, value in pairs)


def _decoded_words(value: str) -> str:
    return _unfolded(str(make_header(decode_header(value))))


def _old_addresses(headers: Headers, name: str) -> tuple[str, ...]:
    values = [value for header_name, value in headers if header_name.lower() == name.lower()]
    nothing: list[tuple[str, str]] = []
    found = _lenient(partial(getaddresses, values), nothing)
    return tuple(address for _, address in found if address)


def _parse(raw: bytes) -> ParsedMessage:
    message = email.message_from_bytes(raw, _class=EmailMessage, policy=default_policy)
    text_part = _body_part(message, "plain")
    html_part = _body_part(message, "html")
    return ParsedMessage(
        sender=next(iter(_addresses(message, "From")), None),
        to=_addresses(message, "To"),
        cc=_addresses(message, "Cc"),
        subject=_header_text(message, "Subject") or "",
        date=_date(message),
        message_id=_header_text(message, "Message-ID"),
        headers=_headers(message),
        text=_text(text_part) if text_part is not None else None,
        html=_text(html_part) if html_part is not None else None,
        attachments=_attachments(message, shown=(text_part, html_part)),
    )


def _header_text(message: EmailMessage, name: str) -> str | None:
    """The header decoded (RFC 2047 encoded words); as it came if the parser fails on it."""
    for header_name, raw_value in message.raw_items():
        if header_name.lower() == name.lower():
            return _decoded(message, header_name, raw_value)
    return None


def _decoded(message: EmailMessage, name: str, raw_value: str) -> str:
    return _lenient(
        lambda: str(message.policy.header_fetch_parse(name, raw_value)), _unfolded(raw_value)
    )


def _unfolded(raw_value: str) -> str:
    return re.sub(r"\r?\n[ \t]+", " ", raw_value).strip()


def _headers(message: EmailMessage) -> Headers:
    return tuple((name, _decoded(message, name, value)) for name, value in message.raw_items())


def _addresses(message: EmailMessage, name: str) -> tuple[str, ...]:
    """The addr-specs of every address in every `name` header (groups included)."""
    found: list[str] = []
    for header_name, raw_value in message.raw_items():
        if header_name.lower() != name.lower():
            continue
        read = _lenient(partial(_addr_specs, message, header_name, raw_value), None)
        # The old parser, far less strict, reads what the new one fails on.
        found += read if read is not None else _old_addresses(((name, raw_value),), name)
    return tuple(address for address in found if address)


def _addr_specs(message: EmailMessage, name: str, raw_value: str) -> list[str]:
    header = message.policy.header_fetch_parse(name, raw_value)
    return [address.addr_spec for address in getattr(header, "addresses", ())]


def _date(message: EmailMessage) -> datetime | None:
    value = _header_text(message, "Date")
    if value is None:
        return None
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    # A zone of -0000 means "unknown" (RFC 5322): taken as UTC, the only reading left.
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _body_part(message: EmailMessage, subtype: str) -> EmailMessage | None:
    # A broken MIME structure has no body to show; its parts are still listed as attachments.
    body = _lenient(lambda: message.get_body(preferencelist=(subtype,)), None)
    return body if isinstance(body, EmailMessage) else None


def _content_type(part: EmailMessage) -> str:
    content_type = _lenient(part.get_content_type, "application/octet-stream")
    return content_type if _MIME_TYPE.fullmatch(content_type) else "application/octet-stream"


def _charset(part: EmailMessage) -> str | None:
    charset = _lenient(part.get_content_charset, None)
    return charset if charset and _CHARSET.fullmatch(charset) else None


def _text(part: EmailMessage) -> str:
    payload = _payload(part)
    try:
        return payload.decode(_charset(part) or "utf-8", errors="replace")
    except LookupError:  # a charset Python does not know
        return payload.decode("utf-8", errors="replace")


def _payload(part: EmailMessage) -> bytes:
    """The part's content, transfer encoding (base64, quoted-printable) undone."""
    if part.is_multipart():  # an attached message: its bytes as a whole
        return b"".join(_lenient(inner.as_bytes, b"") for inner in _children(part))
    return _lenient(partial(_decoded_payload, part), b"")


def _decoded_payload(part: EmailMessage) -> bytes:
    payload = part.get_payload(decode=True)
    return payload if isinstance(payload, bytes) else b""


def _children(part: EmailMessage) -> list[EmailMessage]:
    payload = part.get_payload()
    return (
        [child for child in payload if isinstance(child, EmailMessage)]
        if isinstance(payload, list)
        else []
    )


def _leaf_parts(part: EmailMessage) -> list[EmailMessage]:
    """Every part that holds content, in order; an attached message counts as one."""
    if _content_type(part) == "message/rfc822" or not part.is_multipart():
        return [part]
    return [leaf for child in _children(part) for leaf in _leaf_parts(child)]


def _attachments(
    message: EmailMessage, shown: tuple[EmailMessage | None, ...]
) -> tuple[Attachment, ...]:
    attachments = []
    for index, part in enumerate(_leaf_parts(message)):
        if any(part is body for body in shown):
            continue
        content_type = _content_type(part)
        content_id = _header_text(part, "Content-ID")
        attachments.append(
            Attachment(
                index=index,
                filename=_filename(part, index, content_type),
                content_type=content_type,
                charset=_charset(part),
                content=_payload(part),
                content_id=content_id.strip().strip("<>") if content_id else None,
                inline=_lenient(part.get_content_disposition, None) != "attachment",
            )
        )
    return tuple(attachments)


def _filename(part: EmailMessage, index: int, content_type: str) -> str:
    """The part's own file name made safe to save, else `part-N` with a fitting extension."""
    declared = _lenient(part.get_filename, None)
    name = _UNSAFE_IN_FILENAME.sub("_", declared or "").strip(" .")[:MAX_FILENAME_LENGTH]
    if name:
        return name
    extension = (
        ".eml" if content_type == "message/rfc822" else mimetypes.guess_extension(content_type)
    )
    return f"part-{index}{extension or '.bin'}"
