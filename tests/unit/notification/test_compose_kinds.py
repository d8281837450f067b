"""Every kind in German and English: its subject, the facts it tells, who sends it and why."""

import pytest

from services.notification.compose import available_kinds, compose
from services.notification.domain.mails import Kind, Mail, Recipient
from tests.unit.notification.sample_mails import (
    CANCEL_URL,
    FORUM_KINDS,
    MESSAGE_ID,
    REGISTRATION_URL,
    SENDER,
    SENT_AT,
    SUMMER_END,
    SUMMER_START,
    UNSUBSCRIBE_URL,
    as_received,
    forum,
    mail,
    text_of,
)

LANGUAGES = ("de", "en")
SENDER_NAMES = {
    "de": "Kompetenzzentrum für Dialog und Vertrauensbildung",
    "en": "Competence Centre for Dialogue and Trust-Building",
}
WHY_YOU_GET_IT = {"de": "Sie erhalten diese", "en": "You are receiving this"}
WINTER_PERIOD = {
    "de": "Donnerstag, 27. März 2025, 17:00 bis 19:30 Uhr",
    "en": "Thursday, 27 March 2025, 5:00 PM to 7:30 PM",
}
SUMMER_PERIOD = {
    "de": "Donnerstag, 26. Juni 2025, 17:00 bis 19:30 Uhr",
    "en": "Thursday, 26 June 2025, 5:00 PM to 7:30 PM",
}

# What each kind exists to tell, as its text part says it (per language, from sample_mails).
FACTS_TOLD: dict[Kind, dict[str, list[str]]] = {
    Kind.REGISTRATION_CONFIRMED: {
        "de": ["ist bestätigt", "2 Personen für Brücke e.V.", CANCEL_URL],
        "en": ["is confirmed", "2 people for Brücke e.V.", CANCEL_URL],
    },
    Kind.REGISTRATION_WAITLISTED: {
        "de": ["an Position 3", CANCEL_URL],
        "en": ["at position 3", CANCEL_URL],
    },
    Kind.REGISTRATION_PROMOTED: {
        "de": ["Sie haben jetzt einen Platz", CANCEL_URL],
        "en": ["You have a place now", CANCEL_URL],
    },
    Kind.REGISTRATION_CANCELLED: {
        "de": ["ist storniert", REGISTRATION_URL],
        "en": ["has been cancelled", REGISTRATION_URL],
    },
    Kind.FORUM_INVITATION: {
        "de": ["lädt Sie und Brücke e.V. herzlich ein", REGISTRATION_URL, UNSUBSCRIBE_URL],
        "en": ["warmly invites you and Brücke e.V.", REGISTRATION_URL, UNSUBSCRIBE_URL],
    },
    Kind.FORUM_UPDATED: {
        "de": ["Neuer Termin:", "Neuer Ort:    Rathaus, Saal 2; Marktplatz 1"],
        "en": ["New date:", "New venue:     Rathaus, Saal 2; Marktplatz 1"],
    },
    Kind.FORUM_REMINDER: {
        "de": ["Hier noch einmal alle Angaben", CANCEL_URL],
        "en": ["Here are all the details once more", CANCEL_URL],
    },
    Kind.FORUM_CANCELLED: {
        "de": ["absagen", "Der Saal steht nicht zur Verfügung."],
        "en": ["cancel", "Der Saal steht nicht zur Verfügung."],
    },
    Kind.FORUM_THANKS: {
        "de": ["Drei Vorschläge für Beschwerdewege.\nEin Folgetreffen im Herbst."],
        "en": ["Drei Vorschläge für Beschwerdewege.\nEin Folgetreffen im Herbst."],
    },
    Kind.PARTNER_WELCOME: {
        "de": ["Brücke e.V. als Partnerorganisation"],
        "en": ["Brücke e.V. as a partner organisation"],
    },
    Kind.INTEREST_ACKNOWLEDGED: {
        "de": ["dass Brücke e.V. mitwirken möchte", "Wir melden uns persönlich"],
        "en": ["that Brücke e.V. would like to take part", "We will be in touch personally"],
    },
    Kind.INTEREST_STAFF_NOTE: {
        "de": ["Wir arbeiten mit Jugendlichen", "<kontakt@bruecke.example>"],
        "en": ["Wir arbeiten mit Jugendlichen", "<kontakt@bruecke.example>"],
    },
}


def test_german_and_english_offer_every_kind() -> None:
    offered = available_kinds()

    assert offered["de"] == set(Kind)
    assert offered["en"] == set(Kind)


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", list(Kind))
def test_each_kind_tells_its_facts_who_sends_it_and_why(kind: Kind, language: str) -> None:
    message = as_received(
        compose(mail(kind, language=language), sender=SENDER, message_id=MESSAGE_ID, date=SENT_AT)
    )

    text = text_of(message, "plain")
    html = text_of(message, "html")
    assert message["Content-Language"] == language
    for fact in FACTS_TOLD[kind][language]:
        assert fact in text
    for words in (SENDER_NAMES[language], WHY_YOU_GET_IT[language]):
        assert words in text
        assert words in html
    if kind in FORUM_KINDS:
        assert "Racial Profiling: Erfahrungen und Wege" in message["Subject"]


@pytest.mark.parametrize(
    ("kind", "language", "subject"),
    [
        (
            Kind.REGISTRATION_CONFIRMED,
            "de",
            "Anmeldung bestätigt: Racial Profiling: Erfahrungen und Wege",
        ),
        (
            Kind.REGISTRATION_WAITLISTED,
            "en",
            "You are on the waiting list: Racial Profiling: Erfahrungen und Wege",
        ),
        (
            Kind.FORUM_INVITATION,
            "de",
            "Einladung: Racial Profiling: Erfahrungen und Wege am Donnerstag, 27. März 2025",
        ),
        (
            Kind.FORUM_REMINDER,
            "en",
            "Reminder: Racial Profiling: Erfahrungen und Wege on Thursday, 27 March 2025",
        ),
        (Kind.PARTNER_WELCOME, "de", "Willkommen im Dialognetzwerk, Brücke e.V."),
        (Kind.INTEREST_STAFF_NOTE, "en", "Interest in partnership: Brücke e.V."),
    ],
)
def test_subject(kind: Kind, language: str, subject: str) -> None:
    message = as_received(
        compose(mail(kind, language=language), sender=SENDER, message_id=MESSAGE_ID, date=SENT_AT)
    )

    assert message["Subject"] == subject


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", sorted(FORUM_KINDS - {Kind.FORUM_THANKS}))
def test_the_forum_time_is_shown_on_berlin_clocks_in_winter_and_summer(
    kind: Kind, language: str
) -> None:
    winter = mail(kind, language=language)
    summer = mail(
        kind, language=language, forum_facts=forum(starts_at=SUMMER_START, ends_at=SUMMER_END)
    )

    for sample, period in ((winter, WINTER_PERIOD), (summer, SUMMER_PERIOD)):
        message = compose(sample, sender=SENDER, message_id=MESSAGE_ID, date=SENT_AT)
        assert period[language] in text_of(message, "plain")
        assert period[language] in text_of(message, "html")


@pytest.mark.parametrize(
    ("language", "deadline"),
    [
        ("de", "bis Donnerstag, 20. März 2025, 23:59 Uhr"),
        ("en", "by Thursday, 20 March 2025, 11:59 PM"),
    ],
)
def test_an_invitation_gives_the_registration_deadline(language: str, deadline: str) -> None:
    message = compose(
        mail(Kind.FORUM_INVITATION, language=language),
        sender=SENDER,
        message_id=MESSAGE_ID,
        date=SENT_AT,
    )

    assert deadline in text_of(message, "plain")
    assert deadline in text_of(message, "html")


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", sorted(FORUM_KINDS))
def test_a_forum_title_is_escaped_in_html_and_literal_in_text(kind: Kind, language: str) -> None:
    title = "<script>alert(1)</script>"
    sample = mail(kind, language=language, forum_facts=forum(title=title))

    message = as_received(compose(sample, sender=SENDER, message_id=MESSAGE_ID, date=SENT_AT))

    html = text_of(message, "html")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script" not in html
    assert title in text_of(message, "plain")
    assert title in message["Subject"]


@pytest.mark.parametrize(
    ("language", "how_to_cancel"),
    [
        ("de", "antworten Sie bitte kurz auf diese E-Mail"),
        ("en", "please simply reply to this e-mail"),
    ],
)
@pytest.mark.parametrize(
    "kind", [Kind.REGISTRATION_CONFIRMED, Kind.REGISTRATION_WAITLISTED, Kind.FORUM_REMINDER]
)
def test_without_a_cancel_link_the_mail_says_to_reply(
    kind: Kind, language: str, how_to_cancel: str
) -> None:
    sample = mail(kind, language=language, cancel_url=None)

    message = compose(sample, sender=SENDER, message_id=MESSAGE_ID, date=SENT_AT)

    text = text_of(message, "plain")
    assert how_to_cancel in text
    assert "/cancel" not in text
    assert "/cancel" not in text_of(message, "html")


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", list(Kind))
def test_the_html_needs_nothing_from_outside(kind: Kind, language: str) -> None:
    message = compose(
        mail(kind, language=language), sender=SENDER, message_id=MESSAGE_ID, date=SENT_AT
    )

    html = text_of(message, "html")
    for outside in ("<img", "<link", "<script", "src=", "url(", "@import"):
        assert outside not in html


def every_text_marked(kind: Kind, language: str) -> Mail:
    """The sample mail with markup in every text it carries, wherever a template may show it."""
    sample = mail(
        kind,
        language=language,
        name="<i>name</i>",
        forum_facts=forum(title="<i>title</i>", venue="<i>venue</i>"),
    )
    marked: dict[str, object] = {
        field: f"<i>{field}</i>"
        for field in ("organization_name", "outcomes", "note", "reason")
        if getattr(sample, field) is not None
    }
    if sample.registration is not None:
        marked["registration"] = sample.registration.model_copy(
            update={"organization_name": "<i>registration.organization_name</i>"}
        )
    if sample.contact is not None:
        marked["contact"] = Recipient(address="kontakt@bruecke.example", name="<i>contact</i>")
    return sample.model_copy(update=marked)


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", list(Kind))
def test_no_text_from_data_reaches_the_html_as_markup(kind: Kind, language: str) -> None:
    message = compose(
        every_text_marked(kind, language), sender=SENDER, message_id=MESSAGE_ID, date=SENT_AT
    )

    html = text_of(message, "html")
    assert "<i>" not in html
    assert "&lt;i&gt;" in html
