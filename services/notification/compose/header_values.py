"""Header values from data: one line without control characters, addresses SMTP can carry."""

import re
from email.headerregistry import Address
from email.utils import parseaddr

from email_validator import EmailNotValidError, validate_email

from services.notification.compose.errors import MailNotComposable

# C0 and C1 controls (CR, LF, NEL among them) and the Unicode line and paragraph separators:
# any of them in a header would end it or confuse a reader.
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")
_MESSAGE_ID = re.compile(r"<[\x21-\x3b\x3d\x3f-\x7e]+@[\x21-\x3b\x3d\x3f-\x7e]+>")


def single_line(text: str) -> str:
    """The text as one line: each run of control characters or white space becomes a space."""
    return " ".join(_UNPRINTABLE.sub(" ", text).split())


def mailbox(address: str, name: str | None, *, role: str) -> Address:
    """The address as the headers carry it, with the name (made one line) to show beside it.

    A display name is a courtesy, so a line break in it is folded into a space and the mail
    still goes out; a bad address cannot be guessed at and is refused.
    """
    try:
        checked = validate_email(address, check_deliverability=False)
    except EmailNotValidError as error:
        raise MailNotComposable(f"the {role} address is not valid: {error}") from None
    if checked.ascii_email is None:
        # An internationalised domain has an ASCII form (punycode), a local part does not:
        # it would need SMTPUTF8, which relays may not offer and these messages do not use.
        raise MailNotComposable(
            f"the {role} address has non-ASCII characters before the @, which needs SMTPUTF8"
        )
    username, domain = checked.ascii_email.rsplit("@", 1)
    return Address(display_name=single_line(name or ""), username=username, domain=domain)


def parsed_mailbox(text: str, *, role: str) -> Address:
    """A mailbox given as header text (`Name <address>` or the bare address), e.g. a setting."""
    name, address = parseaddr(text)
    if not address:
        raise MailNotComposable(f"the {role} is not an e-mail address (Name <address>)")
    return mailbox(address, name, role=role)


def checked_message_id(text: str) -> str:
    """The Message-ID as given, if it has the `<left@right>` form of RFC 5322."""
    if not _MESSAGE_ID.fullmatch(text):
        raise MailNotComposable("the Message-ID must look like <left@right> (printable ASCII)")
    return text


def web_link(url: str, *, field: str) -> str:
    """A link for the body or a header: http(s), one token, or the mail is refused."""
    # No white space, control character or angle bracket: it ends the <url> of
    # List-Unsubscribe and the link a client finds in the text part.
    one_token = url.isprintable() and not any(c.isspace() or c in "<>" for c in url)
    if not (one_token and url.startswith(("https://", "http://"))):
        raise MailNotComposable(f"{field} must be one http(s) URL without spaces or line breaks")
    return url
