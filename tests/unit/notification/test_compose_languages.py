"""Which language a mail is written in: the recipient's if its folder has the kind, else German."""

import shutil
from pathlib import Path

import pytest

from services.notification.compose import MailNotComposable, MailTemplates, compose
from services.notification.compose.templates import SHARED_PARTS, TEMPLATES_ROOT, kind_parts
from services.notification.domain.mails import Kind
from tests.unit.notification.sample_mails import MESSAGE_ID, SENDER, SENT_AT, mail, text_of


@pytest.fixture
def templates_root(tmp_path: Path) -> Path:
    """A copy of the installed templates, to add a language to."""
    root = tmp_path / "templates"
    shutil.copytree(TEMPLATES_ROOT, root)
    return root


@pytest.mark.parametrize("language", ["fr", "EN", "../en", ""])
def test_a_language_without_templates_gets_german(language: str) -> None:
    message = compose(
        mail(Kind.REGISTRATION_CONFIRMED, language=language),
        sender=SENDER,
        message_id=MESSAGE_ID,
        date=SENT_AT,
    )

    assert message["Content-Language"] == "de"
    assert message["Subject"] == "Anmeldung bestätigt: Racial Profiling: Erfahrungen und Wege"
    assert text_of(message, "plain").startswith("Guten Tag Ayşe Müller,")


def test_adding_a_language_is_adding_a_folder(templates_root: Path) -> None:
    shutil.copytree(templates_root / "en", templates_root / "xx")
    subject_name, text_name, _ = kind_parts(Kind.REGISTRATION_CONFIRMED)
    (templates_root / "xx" / subject_name).write_text("XX: {{ forum.title }}\n")
    body = (templates_root / "xx" / text_name).read_text()
    (templates_root / "xx" / text_name).write_text(body.replace("Thank you", "Xank xou"))
    templates = MailTemplates(templates_root)

    message = compose(
        mail(Kind.REGISTRATION_CONFIRMED, language="xx"),
        sender=SENDER,
        message_id=MESSAGE_ID,
        date=SENT_AT,
        templates=templates,
    )

    assert templates.kinds_by_language()["xx"] == set(Kind)
    assert message["Content-Language"] == "xx"
    assert message["Subject"] == "XX: Racial Profiling: Erfahrungen und Wege"
    assert "Xank xou for registering" in text_of(message, "plain")


def test_a_kind_a_language_lacks_is_written_whole_in_german(templates_root: Path) -> None:
    (templates_root / "xx").mkdir()
    for part in (*SHARED_PARTS, *kind_parts(Kind.PARTNER_WELCOME)):
        shutil.copy(templates_root / "en" / part, templates_root / "xx" / part)
    templates = MailTemplates(templates_root)

    welcome, reminder = (
        compose(
            mail(kind, language="xx"),
            sender=SENDER,
            message_id=MESSAGE_ID,
            date=SENT_AT,
            templates=templates,
        )
        for kind in (Kind.PARTNER_WELCOME, Kind.FORUM_REMINDER)
    )

    assert templates.kinds_by_language()["xx"] == {Kind.PARTNER_WELCOME}
    assert welcome["Content-Language"] == "xx"
    assert welcome["Subject"] == "Welcome to the Dialogue Network, Brücke e.V."
    assert reminder["Content-Language"] == "de"
    assert text_of(reminder, "plain").startswith("Guten Tag Ayşe Müller,")
    assert "Fragen beantworten wir gern" in text_of(reminder, "plain")


def test_a_folder_missing_a_shared_part_offers_no_kind(templates_root: Path) -> None:
    shutil.copytree(templates_root / "en", templates_root / "xx")
    (templates_root / "xx" / "_layout.html").unlink()
    templates = MailTemplates(templates_root)

    message = compose(
        mail(Kind.PARTNER_WELCOME, language="xx"),
        sender=SENDER,
        message_id=MESSAGE_ID,
        date=SENT_AT,
        templates=templates,
    )

    assert templates.kinds_by_language()["xx"] == set()
    assert message["Content-Language"] == "de"


def test_a_regional_folder_is_named_by_its_bcp47_tag(templates_root: Path) -> None:
    shutil.copytree(templates_root / "en", templates_root / "pt_BR")

    message = compose(
        mail(Kind.PARTNER_WELCOME, language="pt_BR"),
        sender=SENDER,
        message_id=MESSAGE_ID,
        date=SENT_AT,
        templates=MailTemplates(templates_root),
    )

    assert message["Content-Language"] == "pt-BR"
    assert '<html lang="pt-BR">' in text_of(message, "html")


def test_a_template_reading_a_fact_the_mail_lacks_refuses_the_mail(templates_root: Path) -> None:
    subject_name, _, _ = kind_parts(Kind.PARTNER_WELCOME)
    (templates_root / "de" / subject_name).write_text("Willkommen {{ forum.title }}\n")

    with pytest.raises(MailNotComposable, match="the de partner_welcome templates need what"):
        compose(
            mail(Kind.PARTNER_WELCOME),
            sender=SENDER,
            message_id=MESSAGE_ID,
            date=SENT_AT,
            templates=MailTemplates(templates_root),
        )
