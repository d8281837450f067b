"""The writing policy keeps the headers every mail has alike, and nothing that is data."""

import pytest

from services.notification.compose import compose
from services.notification.compose.mime_policy import HEADER_CLASSES
from services.notification.domain.mails import Kind
from tests.unit.notification.sample_mails import MESSAGE_ID, SENDER, SENT_AT, mail


def _written(address: str, name: str) -> bytes:
    message = compose(
        mail(Kind.REGISTRATION_CONFIRMED, address=address, name=name),
        sender=SENDER,
        message_id=MESSAGE_ID,
        date=SENT_AT,
    )
    return message.as_bytes()


def test_a_second_mail_reuses_the_structural_headers_and_keeps_no_data() -> None:
    _written("erste@bruecke.example", "Erste Person")
    kept_after_first = dict(HEADER_CLASSES._parsed)
    written = _written("zweite@bruecke.example", "Zweite Person")

    # The same structural values, the same parsed objects: nothing new parsed and kept.
    assert HEADER_CLASSES._parsed == kept_after_first
    assert any(key.startswith("mime-version:") for key in kept_after_first)
    assert any(key.startswith("content-type:text/calendar") for key in kept_after_first)
    # Neither recipient, nor any boundary, is kept in the writing process.
    kept = " ".join(kept_after_first)
    assert "bruecke.example" not in kept
    assert "Person" not in kept
    assert "boundary=" not in kept
    assert b"zweite@bruecke.example" in written


def test_a_line_break_in_a_structural_header_is_still_refused() -> None:
    compose(mail(Kind.REGISTRATION_CONFIRMED), sender=SENDER, message_id=MESSAGE_ID, date=SENT_AT)
    message = compose(
        mail(Kind.REGISTRATION_CONFIRMED), sender=SENDER, message_id=MESSAGE_ID, date=SENT_AT
    )
    with pytest.raises(ValueError, match="linefeed or carriage return"):
        message["Content-Language"] = "de\r\nBcc: someone@elsewhere.example"
