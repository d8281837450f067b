"""The mailbox's JSON API for scripts and tests: messages newest first (filtered, paged), one
message with its bodies, headers and attachments, the raw message, attachment downloads, and
emptying the mailbox. Routes are plain functions: FastAPI runs them in worker threads, so file
reads never hold up the event loop that also serves SMTP."""

from datetime import datetime
from typing import Annotated, Self

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from pydantic import AfterValidator, BaseModel, Field

from services.runtime.http import problem_responses
from services.runtime.mailbox.messages import Mailbox, MessageFilter, OpenedMessage, Summary
from services.runtime.mailbox.parsing import Attachment
from services.runtime.mailbox.sandbox import mail_content_headers
from services.runtime.mailbox.store import MESSAGE_ID

PREFIX = "/api/messages"
DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000
# Longer than any SMTP line (RFC 5321: 1,000 octets), so no address or subject a filter could
# meet is longer.
MAX_FILTER_LENGTH = 1000

router = APIRouter(prefix=PREFIX, tags=["messages"])


def mailbox_of(request: Request) -> Mailbox:
    mailbox: Mailbox = request.app.state.mailbox
    return mailbox


MailboxDependency = Annotated[Mailbox, Depends(mailbox_of)]
ToFilter = Annotated[
    str | None,
    Query(max_length=MAX_FILTER_LENGTH, description="An address it was sent to (Bcc too)"),
]
FromFilter = Annotated[
    str | None,
    Query(alias="from", max_length=MAX_FILTER_LENGTH, description="The sender's address"),
]
SubjectFilter = Annotated[
    str | None, Query(max_length=MAX_FILTER_LENGTH, description="A part of the subject")
]
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description="Page size (default 100)")]


def _given_out_cursor(cursor: str | None) -> str | None:
    if cursor is not None and not MESSAGE_ID.fullmatch(cursor):
        raise ValueError("not a cursor this API gave out; start without one")
    return cursor


Cursor = Annotated[
    str | None,
    Query(max_length=100, description="`next` of the previous page"),
    AfterValidator(_given_out_cursor),
]


class MessageSummaryOut(BaseModel):
    id: str = Field(description="The mailbox's id of the message")
    sender: str | None = Field(serialization_alias="from", description="The From address")
    to: list[str] = Field(description="The addresses of the To header")
    cc: list[str]
    bcc: list[str] = Field(description="Recipients of the envelope that no header names")
    recipients: list[str] = Field(description="Every address it was sent to (SMTP RCPT TO)")
    envelope_sender: str = Field(description="SMTP MAIL FROM; empty for the null sender")
    subject: str
    date: datetime | None = Field(description="The Date header in UTC; null if it has none")
    received_at: datetime
    message_id: str | None = Field(description="The Message-ID header")
    size: int = Field(description="Bytes, as received")
    attachment_count: int
    url: str

    @classmethod
    def of(cls, summary: Summary) -> Self:
        return cls(
            id=summary.id,
            sender=summary.sender,
            to=list(summary.to),
            cc=list(summary.cc),
            bcc=list(summary.bcc),
            recipients=list(summary.envelope.recipients),
            envelope_sender=summary.envelope.sender,
            subject=summary.subject,
            date=summary.date,
            received_at=summary.received_at,
            message_id=summary.message_id,
            size=summary.size,
            attachment_count=summary.attachment_count,
            url=message_path(summary.id),
        )


class MessagePageOut(BaseModel):
    total: int = Field(description="Messages matching the filters, on all pages")
    items: list[MessageSummaryOut]
    next: str | None = Field(description="Pass as `cursor` for older messages; null at the end")


class HeaderOut(BaseModel):
    name: str
    value: str = Field(description="Encoded words (RFC 2047) decoded")


class AttachmentOut(BaseModel):
    filename: str
    content_type: str
    size: int
    content_id: str | None = Field(description="What `cid:` references in the HTML name")
    inline: bool
    url: str = Field(description="Downloads it as it was attached")

    @classmethod
    def of(cls, message_id: str, attachment: Attachment) -> Self:
        return cls(
            filename=attachment.filename,
            content_type=attachment.content_type,
            size=len(attachment.content),
            content_id=attachment.content_id,
            inline=attachment.inline,
            url=attachment_path(message_id, attachment.index),
        )


class MessageOut(MessageSummaryOut):
    text: str | None = Field(description="The plain text body")
    html: str | None = Field(description="The HTML body, as sent: render it only sandboxed")
    headers: list[HeaderOut]
    attachments: list[AttachmentOut]
    raw_url: str

    @classmethod
    def of_opened(cls, opened: OpenedMessage) -> Self:
        message_id = opened.summary.id
        parsed = opened.parsed
        return cls(
            **MessageSummaryOut.of(opened.summary).model_dump(),
            text=parsed.text,
            html=parsed.html,
            headers=[HeaderOut(name=name, value=value) for name, value in parsed.headers],
            attachments=[AttachmentOut.of(message_id, a) for a in parsed.attachments],
            raw_url=f"{message_path(message_id)}/raw",
        )


def message_path(message_id: str) -> str:
    return f"{PREFIX}/{message_id}"


def attachment_path(message_id: str, index: int) -> str:
    return f"{PREFIX}/{message_id}/attachments/{index}"


def no_such_message() -> HTTPException:
    return HTTPException(404, "no message with this id in the mailbox (it may have been deleted)")


@router.get("", summary="Messages, newest first")
def list_messages(
    mailbox: MailboxDependency,
    to: ToFilter = None,
    sender: FromFilter = None,
    subject: SubjectFilter = None,
    limit: Limit = DEFAULT_PAGE_SIZE,
    cursor: Cursor = None,
) -> MessagePageOut:
    page = mailbox.page(MessageFilter(to=to, sender=sender, subject=subject), limit, cursor)
    items = [MessageSummaryOut.of(summary) for summary in page.items]
    return MessagePageOut(total=page.total, items=items, next=page.next_cursor)


@router.delete("", status_code=204, summary="Empty the mailbox")
def delete_messages(mailbox: MailboxDependency) -> Response:
    mailbox.delete_all()
    return Response(status_code=204)


@router.get("/{message_id}", summary="One message", responses=problem_responses(404))
def get_message(message_id: str, mailbox: MailboxDependency) -> MessageOut:
    opened = mailbox.open(message_id)
    if opened is None:
        raise no_such_message()
    return MessageOut.of_opened(opened)


@router.delete(
    "/{message_id}", status_code=204, summary="Delete one message", responses=problem_responses(404)
)
def delete_message(message_id: str, mailbox: MailboxDependency) -> Response:
    if not mailbox.delete(message_id):
        raise no_such_message()
    return Response(status_code=204)


@router.get(
    "/{message_id}/raw",
    summary="The message as received (.eml)",
    response_class=Response,
    responses={200: {"content": {"message/rfc822": {}}}, **problem_responses(404)},
)
def get_raw_message(message_id: str, mailbox: MailboxDependency) -> Response:
    raw = mailbox.raw(message_id)
    if raw is None:
        raise no_such_message()
    headers = mail_content_headers(download_as=f"{message_id}.eml")
    return Response(raw, media_type="message/rfc822", headers=headers)


@router.get(
    "/{message_id}/attachments/{index}",
    summary="An attachment, byte for byte",
    response_class=Response,
    responses=problem_responses(404),
)
def get_attachment(message_id: str, index: int, mailbox: MailboxDependency) -> Response:
    opened = mailbox.open(message_id)
    if opened is None:
        raise no_such_message()
    attachment = next((a for a in opened.parsed.attachments if a.index == index), None)
    if attachment is None:
        raise HTTPException(404, "the message has no attachment with this number")
    headers = {
        **mail_content_headers(download_as=attachment.filename),
        # Set here, not as media_type: Starlette would add "charset=utf-8" to any text/ type.
        "Content-Type": attachment.http_content_type,
    }
    return Response(attachment.content, headers=headers)
