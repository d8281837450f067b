"""The e-mail policies mails are written under: the stdlib's SMTP policy, with the structural
headers every mail has alike parsed and folded once per process instead of once per mail.

Writing a confirmation parsed 32 header values and folded 23 with the stdlib's header
registry; 25 of those parses and 15 of the folds are the same in every mail (`MIME-Version:
1.0`, `Content-Transfer-Encoding: base64`, each part's `Content-Type` as `set_content` builds
it up parameter by parameter). Parsing stays the stdlib's, and so does every check it makes:
a value is only looked up after the registry parsed it once. Values that carry data (From,
To, Subject, Message-ID, Date) and multipart boundaries (new in every mail) are never kept.
"""

from email.headerregistry import BaseHeader, HeaderRegistry
from email.policy import EmailPolicy

# Headers whose values come from this package's code, never from a mail's data: keeping them
# keeps no personal data in the writing process.
STRUCTURAL_HEADERS = frozenset(
    {
        "content-type",
        "content-transfer-encoding",
        "content-disposition",
        "mime-version",
        "auto-submitted",
        "x-auto-response-suppress",
        "list-unsubscribe-post",
        "content-language",
    }
)
# More distinct structural values than the kinds, languages and parts make: past it, a value is
# parsed every time (a bound, should a new header vary per mail).
MAX_KEPT_VALUES = 2048


def _kept(name: str, value: object) -> str | None:
    """The key a header value is kept under, or None when it must be parsed every time."""
    if not isinstance(value, str) or name.lower() not in STRUCTURAL_HEADERS:
        return None
    text = str(value)
    return None if "boundary=" in text else f"{name.lower()}:{text}"


class _HeaderClasses(HeaderRegistry):
    """The stdlib's registry, making each header's class once (its own builds a new class with
    a `type()` call for every header it parses: 30% of writing a mail) and each structural
    header once. Header objects are immutable strings: sharing one between mails is safe."""

    def __init__(self) -> None:
        super().__init__()
        self._made: dict[str, type[BaseHeader]] = {}
        self._parsed: dict[str, BaseHeader] = {}

    def __getitem__(self, name: str) -> type[BaseHeader]:
        key = name.lower()
        made = self._made.get(key)
        if made is None:
            made = self._made[key] = super().__getitem__(name)
        return made

    def __call__(self, name: str, value: str) -> BaseHeader:
        key = _kept(name, value)
        if key is None:
            return super().__call__(name, value)
        parsed = self._parsed.get(key)
        if parsed is None:
            parsed = super().__call__(name, value)
            if len(self._parsed) < MAX_KEPT_VALUES:
                self._parsed[key] = parsed
        return parsed


class _SmtpPolicy(EmailPolicy):
    """SMTP's policy (CRLF) folding each structural header once per line length."""

    def fold_binary(self, name: str, value: str) -> bytes:
        key = _kept(name, value)
        if key is None:
            return super().fold_binary(name, value)
        key = f"{self.max_line_length}:{key}"
        folded = _FOLDED.get(key)
        if folded is None:
            folded = super().fold_binary(name, value)
            if len(_FOLDED) < MAX_KEPT_VALUES:
                _FOLDED[key] = folded
        return folded


# Policies are frozen objects: what they fold is kept beside them.
_FOLDED: dict[str, bytes] = {}
HEADER_CLASSES = _HeaderClasses()
_SMTP = _SmtpPolicy(linesep="\r\n", header_factory=HEADER_CLASSES)

# The parts are encoded under the SMTP policy: quoted-printable and base64 lines of 76
# characters, as RFC 2045 asks. The headers go out under the same policy folding only past
# RFC 5322's hard limit of 998: Python 3.11 folds a token it cannot break at 78 (the
# List-Unsubscribe URL with its token) into encoded words, which no client reads as a URL, and
# leaves the space before a folded encoded word, so "27. März" is read back as "27.  März".
PARTS_POLICY = _SMTP
WIRE_POLICY = _SMTP.clone(max_line_length=998)
