"""Mail templates: a folder a language under templates/, a subject, text and HTML part a kind.

Adding a language is adding a folder: its name is the language code, its files are the shared
parts (SHARED_PARTS) and, for each kind it offers, `<kind>.subject.txt`, `<kind>.txt` and
`<kind>.html`. A kind a language does not offer is written in the default language, whole, so
no mail mixes two languages.
"""

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from babel import Locale
from jinja2 import (
    Environment,
    FileSystemLoader,
    StrictUndefined,
    UndefinedError,
    select_autoescape,
)

from services.notification.compose.dates import BerlinFormats, babel_locale, same_day
from services.notification.compose.errors import MailNotComposable
from services.notification.compose.header_values import single_line
from services.notification.domain.mails import Kind, Mail, Recipient

TEMPLATES_ROOT = Path(__file__).resolve().parent.parent / "templates"
DEFAULT_LANGUAGE = "de"

# Every kind's templates extend the layouts and use the phrases and details; the calendar parts
# write the .ics description and file name. A folder lacking one of them offers no kind at all.
SHARED_PARTS = (
    "_layout.txt",
    "_layout.html",
    "_phrases.txt",
    "_details.txt",
    "_details.html",
    "_calendar.txt",
    "_calendar_filename.txt",
)
# Parts without words (the HTML frame, buttons, tables): one copy for every language, found
# after the language's own folder, which may still replace them.
SHARED_FOLDER = "_shared"

# The facts each kind's templates tell. A missing one is the planner's mistake: said here by
# name rather than as a Jinja error from deep inside a template.
REQUIRED_FACTS: dict[Kind, tuple[str, ...]] = {
    Kind.REGISTRATION_CONFIRMED: ("forum", "registration"),
    Kind.REGISTRATION_WAITLISTED: ("forum", "registration"),
    Kind.REGISTRATION_PROMOTED: ("forum", "registration"),
    Kind.REGISTRATION_CANCELLED: ("forum", "registration"),
    Kind.FORUM_INVITATION: ("forum", "unsubscribe_url"),
    Kind.FORUM_UPDATED: ("forum",),
    Kind.FORUM_REMINDER: ("forum",),
    Kind.FORUM_CANCELLED: ("forum",),
    Kind.FORUM_THANKS: ("forum",),
    Kind.PARTNER_WELCOME: ("organization_name",),
    Kind.INTEREST_ACKNOWLEDGED: ("organization_name",),
    Kind.INTEREST_STAFF_NOTE: ("organization_name",),
}

_BLANK_LINES = re.compile(r"\n{3,}")
# A language folder is named by its code (de, en, pt_BR); other names (_shared, .git) are not.
_LANGUAGE_FOLDER = re.compile(r"[A-Za-z]{2,8}(?:_[A-Za-z0-9]{2,8})?")


def kind_parts(kind: Kind) -> tuple[str, str, str]:
    """The file names of a kind's subject, text and HTML templates."""
    return f"{kind}.subject.txt", f"{kind}.txt", f"{kind}.html"


@dataclass(frozen=True)
class CalendarWords:
    """What the .ics says in the mail's language: its description and its file name."""

    description: str
    filename: str


@dataclass(frozen=True)
class RenderedMail:
    """A mail's words in one language, before they become MIME parts."""

    language: str
    subject: str
    text: str
    html: str
    calendar: CalendarWords | None


class MailTemplates:
    """The template folders under one root; each language's environment is built once."""

    def __init__(self, root: Path = TEMPLATES_ROOT, default_language: str = DEFAULT_LANGUAGE):
        self.root = root
        self.default_language = default_language
        self._environments: dict[str, Environment] = {}
        self._kinds_by_language: dict[str, frozenset[Kind]] | None = None

    def kinds_by_language(self) -> dict[str, frozenset[Kind]]:
        """Every language folder with the kinds it offers in full (the start-up check)."""
        # Read once: the folders are part of the installed code and do not change as it runs.
        if self._kinds_by_language is None:
            folders = sorted(
                path
                for path in self.root.iterdir()
                if path.is_dir() and _LANGUAGE_FOLDER.fullmatch(path.name)
            )
            self._kinds_by_language = {folder.name: _complete_kinds(folder) for folder in folders}
        return self._kinds_by_language

    def language_for(self, mail: Mail) -> str:
        """The recipient's language if its folder offers this kind, else the default."""
        # Looked up among the folders, never joined into a path: a language code is data.
        offered = self.kinds_by_language().get(mail.recipient.language, frozenset())
        return mail.recipient.language if mail.kind in offered else self.default_language

    def render(self, mail: Mail) -> RenderedMail:
        """The subject, text and HTML (and .ics words) of the mail in its language."""
        _require_facts(mail)
        language = self.language_for(mail)
        try:
            return _render(self._environment(language), mail, language)
        except UndefinedError as error:
            # A fact a template reads but this mail lacks: retrying cannot help, say which.
            raise MailNotComposable(
                f"the {language} {mail.kind} templates need what the mail lacks: {error}"
            ) from None

    def _environment(self, language: str) -> Environment:
        if language not in self._environments:
            self._environments[language] = _environment_for(
                [self.root / language, self.root / SHARED_FOLDER],
                babel_locale(language, self.default_language),
            )
        return self._environments[language]


def _render(environment: Environment, mail: Mail, language: str) -> RenderedMail:
    subject_name, text_name, html_name = kind_parts(mail.kind)
    context: dict[str, Any] = {
        "mail": mail,
        "forum": mail.forum,
        "registration": mail.registration,
        # The greeting shows the name as the To header does: one line.
        "recipient": _one_line_name(mail.recipient),
        "calendar": mail.calendar,
        "language": language_tag(language),
    }
    context["subject"] = single_line(environment.get_template(subject_name).render(context))
    return RenderedMail(
        language=language_tag(language),
        subject=context["subject"],
        text=_tidy_text(environment.get_template(text_name).render(context)),
        html=environment.get_template(html_name).render(context),
        calendar=None if mail.calendar is None else _calendar_words(environment, context),
    )


def language_tag(folder_name: str) -> str:
    """The BCP 47 tag of a language folder (pt_BR → pt-BR), for Content-Language and HTML."""
    return folder_name.replace("_", "-")


def _calendar_words(environment: Environment, context: dict[str, Any]) -> CalendarWords:
    description = environment.get_template("_calendar.txt").render(context)
    filename = environment.get_template("_calendar_filename.txt").render(context)
    return CalendarWords(
        description=_tidy_text(description).strip(), filename=single_line(filename)
    )


def _complete_kinds(folder: Path) -> frozenset[Kind]:
    if not all((folder / part).is_file() for part in SHARED_PARTS):
        return frozenset()
    return frozenset(
        kind for kind in Kind if all((folder / part).is_file() for part in kind_parts(kind))
    )


def _environment_for(folders: list[Path], locale: Locale) -> Environment:
    environment = Environment(
        loader=FileSystemLoader(folders),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
        # A typo in a template or a fact it expects but is not given fails the mail loudly
        # instead of sending a sentence with a hole in it.
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        # The templates are package data, fixed while the service runs: without this, Jinja
        # looked at every template file's mtime for every mail (17 stat calls a confirmation).
        auto_reload=False,
    )
    formats = BerlinFormats(locale)
    environment.filters["date"] = formats.date
    environment.filters["time"] = formats.time
    environment.filters["paragraphs"] = paragraphs
    environment.globals["same_day"] = same_day
    return environment


def paragraphs(text: str) -> list[list[str]]:
    """Free text (outcomes, notes) as paragraphs of lines, for templates to lay out."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n")
    blocks = re.split(r"\n[ \t]*\n", lines)
    return [
        [line.strip() for line in block.strip().split("\n")] for block in blocks if block.strip()
    ]


def _require_facts(mail: Mail) -> None:
    missing = [field for field in REQUIRED_FACTS[mail.kind] if getattr(mail, field) is None]
    if missing:
        raise MailNotComposable(f"a {mail.kind} mail needs {', '.join(missing)}")
    if mail.calendar is not None and mail.forum is None:
        raise MailNotComposable(f"a {mail.kind} mail with a calendar needs forum")


def _one_line_name(recipient: Recipient) -> Recipient:
    if recipient.name is None:
        return recipient
    return recipient.model_copy(update={"name": single_line(recipient.name) or None})


def _tidy_text(text: str) -> str:
    """Plain text without trailing blanks and without more than one empty line in a row."""
    lines = "\n".join(line.rstrip() for line in text.strip().splitlines())
    return _BLANK_LINES.sub("\n\n", lines) + "\n"
