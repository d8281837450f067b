"""CSV that opens correctly in a spreadsheet: UTF-8 with a byte order mark (Excel reads UTF-8
only then), `;` between fields and a decimal comma in German (what a German Excel expects), `,`
and a decimal point in English; times in Europe/Berlin; no cell a spreadsheet runs as a formula.
The reports and the staff console's exports are written by it."""

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from schemas.vocabulary import BERLIN

BOM = "\ufeff"
SEPARATORS = {"de": ";", "en": ","}
# A cell starting with one of these is a formula to a spreadsheet: an organisation named
# "=HYPERLINK(…)" must stay text (OWASP: CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
YES_NO = {"de": ("ja", "nein"), "en": ("yes", "no")}


def csv_bytes(headers: Sequence[str], rows: Iterable[Sequence[str]], language: str) -> bytes:
    """Headers and rows of cells already made (`cell`) as the file's bytes."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=SEPARATORS[language], lineterminator="\r\n")
    writer.writerow(headers)
    writer.writerows(rows)
    return (BOM + out.getvalue()).encode("utf-8")


def cell(value: Any, language: str) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        yes, no = YES_NO[language]
        return yes if value else no
    if isinstance(value, float):
        text = f"{value:.4f}".rstrip("0").rstrip(".")
        return text.replace(".", ",") if language == "de" else text
    if isinstance(value, datetime):
        return value.astimezone(BERLIN).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return _text(", ".join(str(item) for item in value))
    if isinstance(value, int):
        return str(value)
    return _text(str(value))


def _text(text: str) -> str:
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text
