"""The headers and the shape on the wire: what is set, what data can never add, what survives."""

from datetime import datetime

import pytest

from services.notification.compose import MailNotComposable, compose
from services.notification.domain.mails import Kind, Recipient
from tests.unit.notification.sample_mails import (
    MESSAGE_ID,
    SENDER,
    SENT_AT,
    UNSUBSCRIBE_URL,
    as_received,
    forum,
    mail,
    read_back,
    text_of,
)


def test_the_envelope_headers() -> None:
    message = as_received(
        compose(
            mail(Kind.REGISTRATION_CONFIRMED),
            sender=SENDER,
            message_id=MESSAGE_ID,
            date=SENT_AT,
            reply_to="Kompetenzzentrum <kompetenzzentrum@polizei.example>",
        )
    )

    assert message["Message-ID"] == MESSAGE_ID
    assert message["From"] == SENDER
    assert message["Reply-To"] == "Kompetenzzentrum <kompetenzzentrum@polizei.example>"
    assert message["Date"].datetime == SENT_AT
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["X-Auto-Response-Suppress"] == "OOF, AutoReply"
    assert message["Content-Language"] == "de"
    (recipient,) = message["To"].addresses
    assert (recipient.display_name, recipient.addr_spec) == (
        "Ayşe Müller",
        "ayse.mueller@bruecke.example",
    )


def test_the_recipient_name_travels_encoded() -> None:
    raw = compose(
        mail(Kind.PARTNER_WELCOME), sender=SENDER, message_id=MESSAGE_ID, date=SENT_AT
    ).as_bytes()

    assert b"To: =?utf-8?q?Ay=C5=9Fe_M=C3=BCller?= <ayse.mueller@bruecke.example>\r\n" in raw


def test_only_invitations_carry_one_click_unsubscribe() -> None:
    # A long token: folded at 78 characters it would become encoded words, not a URL.
    unsubscribe_url = f"{UNSUBSCRIBE_URL}{'x' * 120}"
    for kind in Kind:
        sample = mail(kind).model_copy(update={"unsubscribe_url": unsubscribe_url})

        raw = compose(sample, sender=SENDER, message_id=MESSAGE_ID, date=SENT_AT).as_bytes()

        message = read_back(raw)
        if kind is Kind.FORUM_INVITATION:
            # On the wire as it stands: clients read the URL, they decode no encoded words here.
            assert f"\r\nList-Unsubscribe: <{unsubscribe_url}>\r\n".encode() in raw
            assert message["List-Unsubscribe"] == f"<{unsubscribe_url}>"
            assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        else:
            assert message["List-Unsubscribe"] is None
            assert message["List-Unsubscribe-Post"] is None


def test_a_line_break_in_the_recipient_name_cannot_add_a_header() -> None:
    sample = mail(Kind.REGISTRATION_CONFIRMED, name="Anna\r\nBcc: victim@attacker.example\n\rX")

    raw = compose(sample, sender=SENDER, message_id=MESSAGE_ID, date=SENT_AT).as_bytes()

    message = read_back(raw)
    assert message["Bcc"] is None
    (recipient,) = message["To"].addresses
    assert recipient.display_name == "Anna Bcc: victim@attacker.example X"
    assert recipient.addr_spec == "ayse.mueller@bruecke.example"
    headers = raw.split(b"\r\n\r\n")[0]
    assert b"\nBcc" not in headers
    assert text_of(message, "plain").startswith("Guten Tag Anna Bcc: victim@attacker.example X,\n")


def test_a_line_break_in_the_title_cannot_add_a_header() -> None:
    title = "Forum\r\nBcc: victim@attacker.example\u2028Reply-To: x@attacker.example"
    sample = mail(Kind.FORUM_REMINDER, forum_facts=forum(title=title))

    message = as_received(compose(sample, sender=SENDER, message_id=MESSAGE_ID, date=SENT_AT))

    assert message["Bcc"] is None
    assert message["Reply-To"] is None
    assert message["Subject"] == (
        "Erinnerung: Forum Bcc: victim@attacker.example Reply-To: x@attacker.example"
        " am Donnerstag, 27. März 2025"
    )


def test_an_address_with_a_line_break_is_refused() -> None:
    sample = mail(Kind.PARTNER_WELCOME, address="anna@example.org\r\nBcc: victim@attacker.example")

    with pytest.raises(MailNotComposable, match="recipient address is not valid"):
        compose(sample, sender=SENDER, message_id=MESSAGE_ID, date=SENT_AT)


def test_an_internationalised_domain_goes_out_as_punycode() -> None:
    sample = mail(Kind.PARTNER_WELCOME, address="info@bücherstube.example")

    message = as_received(compose(sample, sender=SENDER, message_id=MESSAGE_ID, date=SENT_AT))

    assert message["To"].addresses[0].addr_spec == "info@xn--bcherstube-9db.example"


def test_a_non_ascii_local_part_is_refused_with_the_reason() -> None:
    sample = mail(Kind.PARTNER_WELCOME, address="jürgen@example.org")

    with pytest.raises(MailNotComposable, match="non-ASCII characters before the @"):
        compose(sample, sender=SENDER, message_id=MESSAGE_ID, date=SENT_AT)


@pytest.mark.parametrize("missing", ["forum", "registration"])
def test_a_mail_without_what_its_kind_needs_is_refused(missing: str) -> None:
    sample = mail(Kind.REGISTRATION_CONFIRMED).model_copy(update={missing: None})

    with pytest.raises(MailNotComposable, match=f"a registration_confirmed mail needs {missing}"):
        compose(sample, sender=SENDER, message_id=MESSAGE_ID, date=SENT_AT)


@pytest.mark.parametrize(
    "cancel_url", ["javascript:alert(1)", "https://dialog.example/a b", "https://x.example/<b>"]
)
def test_a_link_that_is_not_one_web_address_is_refused(cancel_url: str) -> None:
    sample = mail(Kind.REGISTRATION_CONFIRMED, cancel_url=cancel_url)

    with pytest.raises(MailNotComposable, match=r"registration\.cancel_url must be one http"):
        compose(sample, sender=SENDER, message_id=MESSAGE_ID, date=SENT_AT)


def test_an_invitation_without_an_unsubscribe_link_is_refused() -> None:
    sample = mail(Kind.FORUM_INVITATION).model_copy(update={"unsubscribe_url": None})

    with pytest.raises(MailNotComposable, match="forum_invitation mail needs unsubscribe_url"):
        compose(sample, sender=SENDER, message_id=MESSAGE_ID, date=SENT_AT)


@pytest.mark.parametrize("message_id", ["3f2a9c@dialognet", "<3f2a9c>", "<a b@c>", "<a@b>\r\nX: y"])
def test_a_message_id_not_of_the_form_left_at_right_is_refused(message_id: str) -> None:
    with pytest.raises(MailNotComposable, match="Message-ID"):
        compose(mail(Kind.PARTNER_WELCOME), sender=SENDER, message_id=message_id, date=SENT_AT)


def test_a_date_without_offset_is_refused() -> None:
    with pytest.raises(MailNotComposable, match="UTC offset"):
        compose(
            mail(Kind.PARTNER_WELCOME),
            sender=SENDER,
            message_id=MESSAGE_ID,
            date=datetime(2025, 3, 1, 9, 30),
        )


@pytest.mark.parametrize("language", ["de", "en"])
@pytest.mark.parametrize("kind", list(Kind))
def test_the_message_travels_as_seven_bit_lines_and_reads_back_whole(
    kind: Kind, language: str
) -> None:
    long_title = "Gespräch über Vertrauen, Schutz und Gleichbehandlung - " * 3
    sample = mail(kind, language=language, forum_facts=forum(title=long_title.strip()))

    raw = compose(sample, sender=SENDER, message_id=MESSAGE_ID, date=SENT_AT).as_bytes()

    # Quoted-printable, base64 and encoded words: nothing relies on a relay's 8BITMIME.
    assert raw.isascii()
    assert max(len(line) for line in raw.split(b"\r\n")) <= 998
    message = read_back(raw)
    assert not message.defects
    text = text_of(message, "plain")
    assert (
        "Diese Nachricht wurde automatisch versandt." if language == "de" else "sent automatically"
    ) in text
    if sample.forum is not None:
        assert long_title.strip() in message["Subject"]
        assert long_title.strip() in text


def test_a_recipient_without_a_name_gets_the_bare_address() -> None:
    sample = mail(Kind.INTEREST_STAFF_NOTE).model_copy(
        update={"recipient": Recipient(address="kompetenzzentrum@polizei.example")}
    )

    message = as_received(compose(sample, sender=SENDER, message_id=MESSAGE_ID, date=SENT_AT))

    assert message["To"] == "kompetenzzentrum@polizei.example"
    assert text_of(message, "plain").startswith("Guten Tag,\n")
