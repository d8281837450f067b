"""One `Mail` becomes one `EmailMessage`, ready to send: headers, text, HTML and the .ics.

The structure is the one calendar services send (Google Calendar's, which Outlook, Gmail,
Apple Mail and Thunderbird all read):

    multipart/mixed
      multipart/alternative
        text/plain
        text/html
        text/calendar; method=…     (what Outlook and Gmail act on: add, update, remove)
      text/calendar attachment     (einladung.ics: for clients and people who save the file)

The inline part is what makes an update (same UID, higher SEQUENCE) or a CANCEL change the
entry already in a calendar; the attachment is what everyone else can open.

Headers are set only through the `EmailMessage` API, never as built strings: the policy folds
and encodes every value and refuses a line break in one, and every value from data is made
one line first (`single_line`), so no field of a mail can start a header of its own.
"""

import secrets
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime

from services.notification.compose.errors import MailNotComposable
from services.notification.compose.header_values import (
    checked_message_id,
    mailbox,
    parsed_mailbox,
    web_link,
)
from services.notification.compose.ics import calendar_file
from services.notification.compose.mime_policy import PARTS_POLICY, WIRE_POLICY
from services.notification.compose.templates import MailTemplates, RenderedMail
from services.notification.domain.mails import Kind, Mail

DEFAULT_TEMPLATES = MailTemplates()


# Exchange and Outlook do not read Auto-Submitted: this keeps their out-of-office and other
# automatic replies away, while delivery reports (bounces) still come back.
SUPPRESSED_AUTO_RESPONSES = "OOF, AutoReply"


def compose(
    mail: Mail,
    *,
    sender: str,
    message_id: str,
    date: datetime,
    reply_to: str | None = None,
    templates: MailTemplates = DEFAULT_TEMPLATES,
) -> EmailMessage:
    """The message for `mail`, from `sender` (`Name <address>`), with the given Message-ID.

    Raises MailNotComposable when the mail lacks what its kind needs or holds a value no
    e-mail can carry; the message says which.
    """
    if date.tzinfo is None:
        raise MailNotComposable("the Date must carry its UTC offset")
    _check_links(mail)
    words = templates.render(mail)
    organizer = parsed_mailbox(sender, role="sender")
    recipient = mailbox(mail.recipient.address, mail.recipient.name, role="recipient")

    message = EmailMessage(policy=PARTS_POLICY)
    message["From"] = organizer
    message["To"] = recipient
    if reply_to is not None:
        message["Reply-To"] = parsed_mailbox(reply_to, role="reply-to")
    message["Subject"] = words.subject
    message["Date"] = format_datetime(date)
    message["Message-ID"] = checked_message_id(message_id)
    # RFC 3834: an automated mail, so vacation responders do not answer it (no reply loops).
    message["Auto-Submitted"] = "auto-generated"
    message["X-Auto-Response-Suppress"] = SUPPRESSED_AUTO_RESPONSES
    if mail.kind is Kind.FORUM_INVITATION and mail.unsubscribe_url is not None:
        # RFC 8058 one-click: mail clients offer "unsubscribe" and POST to the URL themselves.
        message["List-Unsubscribe"] = f"<{mail.unsubscribe_url}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    _add_body(message, words)
    _add_calendar(message, mail, words, organizer=organizer, attendee=recipient, stamp=date)
    # Set after the parts: making a message multipart moves every Content-* header down into
    # its first part, where it would describe only the text.
    message["Content-Language"] = words.language
    _set_boundaries(message)
    message.policy = WIRE_POLICY
    return message


def _set_boundaries(message: EmailMessage) -> None:
    """A random boundary for each multipart, chosen here: the generator's own search for one
    that no part contains compiles a new regular expression a boundary (8% of writing a mail).
    128 random bits cannot be guessed by whoever writes a field of the mail, and a part's line
    equal to one by chance is as likely as guessing it."""
    for part in message.walk():
        if part.is_multipart():
            part.set_boundary(f"=_dialognet_{secrets.token_hex(16)}")


def _check_links(mail: Mail) -> None:
    links = {
        "forum.registration_url": mail.forum and mail.forum.registration_url,
        "registration.cancel_url": mail.registration and mail.registration.cancel_url,
        "unsubscribe_url": mail.unsubscribe_url,
    }
    for field, url in links.items():
        if url:
            web_link(url, field=field)


def _add_body(message: EmailMessage, words: RenderedMail) -> None:
    # Quoted-printable: German text arrives intact through relays without 8BITMIME, and no
    # line on the wire exceeds 76 characters, whatever length a template line reaches.
    message.set_content(words.text, subtype="plain", charset="utf-8", cte="quoted-printable")
    message.add_alternative(words.html, subtype="html", charset="utf-8", cte="quoted-printable")


def _add_calendar(
    message: EmailMessage,
    mail: Mail,
    words: RenderedMail,
    *,
    organizer: Address,
    attendee: Address,
    stamp: datetime,
) -> None:
    if mail.calendar is None or mail.forum is None or words.calendar is None:
        return
    ics = calendar_file(
        mail.calendar,
        mail.forum,
        organizer=organizer,
        attendee=attendee,
        description=words.calendar.description,
        stamp=stamp,
    )
    content_type = {"method": mail.calendar.method, "charset": "utf-8"}
    # Base64 keeps the CRLF line ends and folding of the .ics byte for byte.
    message.add_alternative(ics, maintype="text", subtype="calendar", params=content_type)
    message.add_attachment(
        ics,
        maintype="text",
        subtype="calendar",
        params=content_type,
        filename=words.calendar.filename,
    )
