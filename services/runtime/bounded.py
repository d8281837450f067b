"""Bounding what is echoed from input: an event or a header never carries an unbounded copy."""

ELLIPSIS = "…"


def bounded_text(value: object, max_chars: int) -> str:
    """`value` as text of at most `max_chars` characters, cut with an ellipsis; always encodable
    as UTF-8 (an unpaired surrogate from a JSON escape becomes `?`) and storable in PostgreSQL
    (which holds no NUL in text or jsonb: it becomes `?` too)."""
    text = str(value)
    if len(text) > max_chars:
        text = text[: max_chars - len(ELLIPSIS)] + ELLIPSIS
    return text.encode("utf-8", "replace").decode("utf-8").replace("\x00", "?")


def bounded_utf8(text: str, max_bytes: int) -> bytes:
    """`text` in UTF-8, at most `max_bytes` long, cut with an ellipsis at a character boundary,
    so the result is still valid UTF-8."""
    encoded = text.encode("utf-8", "replace")
    if len(encoded) <= max_bytes:
        return encoded
    room = max_bytes - len(ELLIPSIS.encode())
    # "ignore" drops the bytes of a character cut in half at the end of the prefix.
    return encoded[:room].decode("utf-8", "ignore").encode() + ELLIPSIS.encode()
