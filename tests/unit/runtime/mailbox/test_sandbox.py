"""Download names travel in an HTTP header, which takes Latin-1 only: any file name must fit."""

from services.runtime.mailbox.sandbox import content_disposition


def test_a_file_name_beyond_latin_1_is_sent_in_ascii_and_in_full() -> None:
    header = content_disposition("Plan für 2027 \u2013 €.pdf")

    assert header == (
        'attachment; filename="Plan f_r 2027 _ _.pdf"; '
        "filename*=UTF-8''Plan%20f%C3%BCr%202027%20%E2%80%93%20%E2%82%AC.pdf"
    )
    header.encode("ascii")  # raises if anything else slipped in
