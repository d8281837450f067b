"""The mailbox's web pages for people: the list, a message (its HTML in a sandboxed frame, the
text, attachments and every header), deleting. Server-rendered with autoescaping templates; no
JavaScript. Like the API, routes are plain functions run in worker threads."""

from base64 import b64encode
from datetime import datetime
from functools import cache
from importlib.resources import files
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import Environment, PackageLoader, StrictUndefined

from services.runtime.mailbox.api import (
    AttachmentOut,
    Cursor,
    MailboxDependency,
    SubjectFilter,
    ToFilter,
    message_path,
)
from services.runtime.mailbox.messages import MessageFilter
from services.runtime.mailbox.parsing import Attachment
from services.runtime.mailbox.sandbox import mail_content_headers, page_headers

PAGE_SIZE = 50
BERLIN = ZoneInfo("Europe/Berlin")  # times are UTC inside, Berlin when shown to people

router = APIRouter(include_in_schema=False)


def _berlin(moment: datetime) -> str:
    return moment.astimezone(BERLIN).strftime("%Y-%m-%d %H:%M:%S %Z")


def _size(count: int) -> str:
    if count < 1000:
        return f"{count} bytes"
    return f"{count / 1000:.1f} kB" if count < 1_000_000 else f"{count / 1_000_000:.1f} MB"


@cache
def _templates() -> Environment:
    environment = Environment(
        loader=PackageLoader("services.runtime.mailbox", "templates"),
        autoescape=True,  # every value a mail brings is text, never markup, in our pages
        undefined=StrictUndefined,
    )
    environment.filters["berlin"] = _berlin
    environment.filters["size"] = _size
    return environment


def _page(template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    html = _templates().get_template(template).render(**context)
    return HTMLResponse(html, status_code=status_code, headers=page_headers())


def _problem_page(status_code: int, title: str, detail: str) -> HTMLResponse:
    return _page("problem.html", status_code, title=title, detail=detail)


def _no_such_message() -> HTMLResponse:
    return _problem_page(404, "No such message", "It may have been deleted.")


@router.get("/")
def message_list(
    request: Request,
    mailbox: MailboxDependency,
    to: ToFilter = None,
    subject: SubjectFilter = None,
    cursor: Cursor = None,
) -> HTMLResponse:
    wanted = MessageFilter(to=to or None, subject=subject or None)
    page = mailbox.page(wanted, PAGE_SIZE, cursor)
    next_url = None
    if page.next_cursor is not None:
        query = {"to": to, "subject": subject, "cursor": page.next_cursor}
        next_url = "/?" + urlencode({name: value for name, value in query.items() if value})
    settings = request.app.state.settings
    smtp_address = f"127.0.0.1:{settings.mailbox_smtp_port}"
    return _page(
        "list.html", page=page, wanted=wanted, next_url=next_url, smtp_address=smtp_address
    )


@router.get("/messages/{message_id}")
def message_view(message_id: str, mailbox: MailboxDependency) -> HTMLResponse:
    opened = mailbox.open(message_id)
    if opened is None:
        return _no_such_message()
    attachments = [AttachmentOut.of(message_id, a) for a in opened.parsed.attachments]
    return _page(
        "message.html",
        summary=opened.summary,
        parsed=opened.parsed,
        attachments=attachments,
        raw_url=f"{message_path(message_id)}/raw",
        json_url=message_path(message_id),
    )


@router.get("/messages/{message_id}/html")
def message_html(message_id: str, mailbox: MailboxDependency) -> Response:
    """The HTML body as its own document, for the sandboxed frame of the message page."""
    opened = mailbox.open(message_id)
    if opened is None or opened.parsed.html is None:
        return _no_such_message()
    html = _with_inline_images(opened.parsed.html, opened.parsed.attachments)
    return HTMLResponse(html, headers=mail_content_headers())


def _with_inline_images(html: str, attachments: tuple[Attachment, ...]) -> str:
    """`cid:` references replaced by data: URIs of the parts they name, so the sandboxed
    document shows embedded images without fetching anything, not even from the mailbox."""
    for attachment in attachments:
        if attachment.content_id:
            encoded = b64encode(attachment.content).decode()
            data_uri = f"data:{attachment.content_type};base64,{encoded}"
            html = html.replace(f"cid:{attachment.content_id}", data_uri)
    return html


@router.post("/messages/delete")
def delete_all_messages(request: Request, mailbox: MailboxDependency) -> Response:
    if not _from_this_site(request):
        return _cross_site_refused()
    mailbox.delete_all()
    return RedirectResponse("/", status_code=303)


@router.post("/messages/{message_id}/delete")
def delete_one_message(message_id: str, request: Request, mailbox: MailboxDependency) -> Response:
    if not _from_this_site(request):
        return _cross_site_refused()
    if not mailbox.delete(message_id):
        return _no_such_message()
    return RedirectResponse("/", status_code=303)


def _from_this_site(request: Request) -> bool:
    """Browsers send Origin with every form POST: a page of another site, open in the same
    browser, must not empty the mailbox. Scripts (no Origin) may."""
    origin = request.headers.get("origin")
    return origin is None or origin == f"{request.url.scheme}://{request.headers.get('host')}"


def _cross_site_refused() -> HTMLResponse:
    return _problem_page(403, "Refused", "Only the mailbox's own pages can delete messages.")


@cache
def _stylesheet() -> bytes:
    return (files("services.runtime.mailbox") / "static" / "mailbox.css").read_bytes()


@router.get("/static/mailbox.css")
def stylesheet() -> Response:
    return Response(
        _stylesheet(),
        media_type="text/css",
        headers={"Cache-Control": "max-age=3600", "X-Content-Type-Options": "nosniff"},
    )
