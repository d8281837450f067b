"""Reading received messages: encoded words, charsets, bodies, attachments and malformed input."""

from datetime import UTC, datetime
from email.message import EmailMessage
from email.policy import SMTP

from services.runtime.mailbox.parsing import parse, read_overview


def _message(*headers: str, body: str = "Hallo\r\n") -> bytes:
    return ("\r\n".join(headers) + "\r\n\r\n" + body).encode()


def test_encoded_word_subjects_in_german_are_decoded() -> None:
    parsed = parse(
        _message(
            "Subject: =?utf-8?q?Anmeldung_best=C3=A4tigt=3A_Forum_f=C3=BCr_Gleichbehandlung?=",
        )
    )
    assert parsed.overview.subject == "Anmeldung bestätigt: Forum für Gleichbehandlung"


def test_encoded_words_in_latin_1_base64_and_folded_lines() -> None:
    parsed = parse(
        _message(
            "Subject: =?iso-8859-1?b?RXJpbm5lcnVuZzog?=",
            " =?ISO-8859-1?Q?Stra=DFenfest_am_S=FCdplatz?=",
            "From: =?utf-8?q?J=C3=BCrgen_M=C3=BCller?= <juergen@example.org>",
        )
    )
    assert parsed.overview.subject == "Erinnerung: Straßenfest am Südplatz"
    assert parsed.overview.sender == "juergen@example.org"
    assert ("From", "Jürgen Müller <juergen@example.org>") in parsed.headers


def test_addresses_of_to_and_cc_with_groups_and_names() -> None:
    parsed = parse(
        _message(
            'To: "Beispiel, Ana" <ana@example.org>, bo@example.org',
            "Cc: Leitung: lea@example.org, max@example.org;",
        )
    )
    assert parsed.overview.to == ("ana@example.org", "bo@example.org")
    assert parsed.overview.cc == ("lea@example.org", "max@example.org")


def test_the_date_is_read_in_utc() -> None:
    summer = read_overview(_message("Date: Wed, 01 Jul 2026 09:30:00 +0200"))
    unknown_zone = read_overview(_message("Date: Wed, 01 Jul 2026 09:30:00 -0000"))
    assert summer.date == datetime(2026, 7, 1, 7, 30, tzinfo=UTC)
    assert unknown_zone.date == datetime(2026, 7, 1, 9, 30, tzinfo=UTC)
    assert read_overview(_message("Date: sometime soon")).date is None
    assert read_overview(_message("Subject: no date")).date is None


def test_text_html_and_attachments_of_a_multipart_message() -> None:
    message = EmailMessage(policy=SMTP)
    message["Subject"] = "Einladung"
    message.set_content("Text für alle")
    message.add_alternative("<p>HTML für alle</p>", subtype="html")
    message.add_attachment(
        b"BEGIN:VCALENDAR\r\n",
        maintype="text",
        subtype="calendar",
        filename="Einladung Südplatz.ics",
    )
    message.add_attachment(b"%PDF-1.7", maintype="application", subtype="pdf")

    parsed = parse(message.as_bytes())

    assert parsed.text == "Text für alle\r\n"
    assert parsed.html == "<p>HTML für alle</p>\r\n"
    calendar, pdf = parsed.attachments
    assert (calendar.filename, calendar.content_type) == ("Einladung Südplatz.ics", "text/calendar")
    assert calendar.content == b"BEGIN:VCALENDAR\r\n"  # base64 undone, bytes as attached
    assert calendar.inline is False
    assert (pdf.filename, pdf.content_type) == ("part-3.pdf", "application/pdf")
    assert pdf.content == b"%PDF-1.7"


def test_a_body_in_latin_1_and_one_in_an_unknown_charset() -> None:
    raw = b"Content-Type: text/plain; charset=iso-8859-1\r\n\r\nGr\xfc\xdfe\r\n"
    assert parse(raw).text == "Grüße\r\n"
    unknown = b"Content-Type: text/plain; charset=x-klingon\r\n\r\nGr\xc3\xbc\xc3\x9fe\r\n"
    assert parse(unknown).text == "Grüße\r\n"  # read as UTF-8


def test_file_names_cannot_leave_the_download_folder() -> None:
    raw = (
        b"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n"
        b"Content-Type: text/plain\r\n\r\nhi\r\n--b\r\n"
        b"Content-Type: application/octet-stream\r\n"
        b'Content-Disposition: attachment; filename="../../.bashrc"\r\n\r\nx\r\n--b--\r\n'
    )
    [attachment] = parse(raw).attachments
    assert "/" not in attachment.filename
    assert not attachment.filename.startswith(".")


def test_headers_the_strict_parser_fails_on_are_shown_as_they_came() -> None:
    # Python 3.11's header parser raises IndexError on this Content-Type and ValueError on
    # this Content-Disposition (both found by mutating messages at random).
    raw = (
        b"Subject: =?utf-8?q?Anmeldung_best=C3=A4tigt?=\r\n"
        b"To: ana@example.org\r\n"
        b"Content-Type: multipart/mixed; bo*\r\n"
        b"Content-Disposition: inline; filename*=utf\x00-8''x.ics\r\n\r\nbody\r\n"
    )
    parsed = parse(raw)
    assert parsed.overview.subject == "Anmeldung bestätigt"
    assert parsed.overview.to == ("ana@example.org",)
    assert ("Content-Type", "multipart/mixed; bo*") in parsed.headers
    assert parsed.text == "body\r\n"  # a multipart without a boundary, shown as text


def test_bytes_that_are_no_message_at_all() -> None:
    for raw in (b"", b"\x00\xff\xfe", b"no headers, just words\r\n", b":\r\n\r\n"):
        parsed = parse(raw)
        assert parsed.overview.subject == ""
        assert parsed.attachments == ()
