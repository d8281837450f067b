"""Reports as CSV (services/runtime/spreadsheet.py: what a spreadsheet opens correctly), with
column headers in the chosen language."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from services.runtime.spreadsheet import cell, csv_bytes

# Column key → (German, English) header; the JSON reports use the same keys.
HEADERS: dict[str, tuple[str, str]] = {
    "kind": ("Art", "Kind"),
    "status": ("Status", "Status"),
    "organizations": ("Organisationen", "Organisations"),
    "prospects": ("Interessenten (neu)", "Prospects"),
    "interested": ("Interesse bekundet", "Interested"),
    "partners": ("Partner", "Partners"),
    "former": ("Ehemalige Partner", "Former partners"),
    "district": ("Stadtteil", "District"),
    "month": ("Monat", "Month"),
    "registered": ("Neu registriert", "Registered"),
    "joined": ("Beigetreten", "Joined"),
    "left": ("Ausgetreten", "Left"),
    "partners_at_month_end": ("Partner am Monatsende", "Partners at month end"),
    "organizations_at_month_end": ("Organisationen am Monatsende", "Organisations at month end"),
    "organization_id": ("Organisations-ID", "Organisation id"),
    "name": ("Name", "Name"),
    "left_at": ("Ausgetreten am", "Left at"),
    "forum_id": ("Forums-ID", "Forum id"),
    "title": ("Titel", "Title"),
    "format": ("Format", "Format"),
    "topics": ("Themen", "Topics"),
    "venue": ("Ort", "Venue"),
    "starts_at": ("Beginn", "Starts"),
    "ends_at": ("Ende", "Ends"),
    "registration_deadline": ("Anmeldeschluss", "Registration deadline"),
    "capacity": ("Plätze", "Capacity"),
    "seats_confirmed": ("Plätze bestätigt", "Seats confirmed"),
    "seats_waitlisted": ("Plätze auf der Warteliste", "Seats waitlisted"),
    "seats_cancelled": ("Plätze storniert", "Seats cancelled"),
    "seats_remaining": ("Plätze frei", "Seats remaining"),
    "fill_rate": ("Auslastung", "Fill rate"),
    "registrations_confirmed": ("Anmeldungen bestätigt", "Registrations confirmed"),
    "waitlist_length": ("Warteliste", "Waitlist length"),
    "registrations_cancelled": ("Anmeldungen storniert", "Registrations cancelled"),
    "organizations_registered": ("Angemeldete Organisationen", "Organisations registered"),
    "organizations_presenting": ("Organisationen, die sich vorstellen", "Organisations presenting"),
    "accessibility_needs": ("Barrierefreiheitsbedarf", "Accessibility needs"),
    "interpreter_needs": ("Dolmetschbedarf", "Interpreter needs"),
    "attendance": ("Teilnehmende", "Attendance"),
    "registrations_attended": ("Anmeldungen erschienen", "Registrations attended"),
    "attendance_rate": ("Erscheinensquote", "Attendance rate"),
    "held_at": ("Durchgeführt am", "Held at"),
    "cancelled_at": ("Abgesagt am", "Cancelled at"),
    "registration_id": ("Anmeldungs-ID", "Registration id"),
    "organization_name": ("Organisation", "Organisation"),
    "attendees": ("Personen", "Attendees"),
    "wants_to_present": ("Möchte sich vorstellen", "Wants to present"),
    "interested_in_partnership": ("Interesse an Partnerschaft", "Interested in partnership"),
    "attended": ("Erschienen", "Attended"),
    "step": ("Schritt", "Step"),
    "share_of_registered": ("Anteil der Angemeldeten", "Share of registered"),
    "median_days_from_previous_step": (
        "Median Tage seit vorigem Schritt",
        "Median days from previous step",
    ),
    "sent": ("Versandt", "Sent"),
    "failed": ("Fehlgeschlagen", "Failed"),
    "day": ("Tag", "Day"),
    "figure": ("Kennzahl", "Figure"),
    "value": ("Wert", "Value"),
}


@dataclass(frozen=True)
class Table:
    """One CSV file: `name` goes into the file name, `columns` are HEADERS keys."""

    name: str
    columns: Sequence[str]
    rows: Iterable[dict[str, Any]]


def render(table: Table, language: str) -> bytes:
    index = 0 if language == "de" else 1
    return csv_bytes(
        [HEADERS[column][index] for column in table.columns],
        (
            [_cell_of(row, column, index, language) for column in table.columns]
            for row in table.rows
        ),
        language,
    )


def _cell_of(row: dict[str, Any], column: str, index: int, language: str) -> str:
    value = row.get(column)
    if column == "figure":  # a key/value table names each figure as its column would
        return HEADERS[str(value)][index]
    return cell(value, language)
