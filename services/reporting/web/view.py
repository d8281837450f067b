"""What the dashboard shows, in the reader's language: sections, each with its figures, a chart
(labels and series) and the same numbers as a table. The page renders it first (it reads
without JavaScript); its script fetches it again as JSON and redraws (GET /v1/dashboard)."""

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from babel.dates import format_datetime

from schemas.envelope import utc_now
from schemas.vocabulary import BERLIN
from services.reporting.email_kinds import EMAIL_KINDS
from services.reporting.reports import build
from services.reporting.reports.periods import Period
from services.reporting.scrape import Pipeline
from services.reporting.store import queries
from services.runtime.db import Connection
from services.runtime.languages import BABEL_LOCALES

ACTIVITY_SHOWN = 12
# What a figure not known yet shows: an en dash.
NONE_SHOWN = "\u2013"
ALL_TIME = Period(None, None)

# key → (German, English)
WORDS: dict[str, tuple[str, str]] = {
    "network": ("Netzwerk", "Network"),
    "growth": ("Wachstum", "Growth"),
    "forums": ("Kommende Foren", "Upcoming forums"),
    "funnel": ("Vom Forum zur Partnerschaft", "From forum to partnership"),
    "activity": ("Letzte Aktivität", "Recent activity"),
    "emails": ("E-Mail-Versand", "E-mail delivery"),
    "pipeline": ("Datenfluss", "Pipeline health"),
    "organizations": ("Organisationen", "Organisations"),
    "partner": ("Partner", "Partners"),
    "interested": ("Interessiert", "Interested"),
    "prospect": ("Interessenten", "Prospects"),
    "former": ("Ehemalige", "Former partners"),
    "unknown": ("Unbekannt", "Unknown"),
    "kind": ("Art", "Kind"),
    "month": ("Monat", "Month"),
    "registered": ("Neu registriert", "Registered"),
    "joined": ("Beigetreten", "Joined"),
    "left": ("Ausgetreten", "Left"),
    "partners_at_month_end": ("Partner am Monatsende", "Partners at month end"),
    "forum": ("Forum", "Forum"),
    "starts": ("Beginn", "Starts"),
    "seats_confirmed": ("Plätze bestätigt", "Seats confirmed"),
    "seats_remaining": ("Plätze frei", "Seats remaining"),
    "waitlist": ("Plätze auf der Warteliste", "Seats on the waitlist"),
    "waitlist_registrations": ("Anmeldungen auf der Warteliste", "Registrations waitlisted"),
    "capacity": ("Plätze", "Capacity"),
    "fill_rate": ("Auslastung", "Fill rate"),
    "step": ("Schritt", "Step"),
    "share": ("Anteil", "Share"),
    "median_days": ("Median Tage seit vorigem Schritt", "Median days from previous step"),
    "registered_for_forum": ("Zu einem Forum angemeldet", "Registered for a forum"),
    "declared_interest": ("Interesse an Partnerschaft bekundet", "Declared interest"),
    "joined_as_partner": ("Partner geworden", "Joined as a partner"),
    "when": ("Zeit", "When"),
    "what": ("Was", "What"),
    "organization": ("Organisation", "Organisation"),
    "organization_registered": ("Organisation registriert", "Organisation registered"),
    "organization_interested": ("Interesse bekundet", "Interest declared"),
    "organization_joined": ("Partner geworden", "Joined as a partner"),
    "organization_left": ("Partnerschaft beendet", "Left the network"),
    "registration_made": ("Zum Forum angemeldet", "Registered for a forum"),
    "registration_cancelled": ("Anmeldung storniert", "Registration cancelled"),
    "forum_held": ("Forum durchgeführt", "Forum held"),
    "forum_cancelled": ("Forum abgesagt", "Forum cancelled"),
    "erased": ("(gelöscht)", "(erased)"),
    "sent": ("Versandt", "Sent"),
    "failed": ("Fehlgeschlagen", "Failed"),
    "topic": ("Topic", "Topic"),
    "events": ("Ereignisse", "Events"),
    "last_event": ("Letztes Ereignis", "Last event"),
    "lag": ("Rückstand", "Lag"),
    "dead_letters": ("Fehlerhafte Nachrichten", "Dead letters"),
    "latency_p50": ("Latenz p50", "Latency p50"),
    "latency_p99": ("Latenz p99", "Latency p99"),
    "generation": ("Generation der Auswertung", "Read model generation"),
    "not_available": ("nicht verfügbar", "not available"),
}


# kind → (German, English)
ORGANIZATION_KINDS: dict[str, tuple[str, str]] = {
    "migrant_organization": ("Migrantenorganisation", "Migrant organisation"),
    "youth_organization": ("Jugendorganisation", "Youth organisation"),
    "religious_community": ("Religionsgemeinschaft", "Religious community"),
    "social_services": ("Soziale Dienste", "Social services"),
    "education": ("Bildung", "Education"),
    "sports": ("Sport", "Sports"),
    "culture": ("Kultur", "Culture"),
    "lgbtiq": ("LSBTIQ*", "LGBTIQ*"),
    "womens_organization": ("Frauenorganisation", "Women's organisation"),
    "other": ("Sonstige", "Other"),
}


@dataclass(frozen=True)
class Series:
    """How a series is drawn, in its chart and as its table column's key: a colour of
    dashboard.css (--series-<colour>) and a second cue besides colour, so that no reader needs
    to tell hues apart (WCAG 1.4.1): `solid`, `hatched` or `outline` bars, `line`, `dashed` or
    `dotted` lines (each with its own point shape)."""

    colour: str
    style: str


# What needs attention (a waitlist, failed e-mails) is vermillion and hatched, beside blue: the
# pair every colour vision tells apart; free seats are an outline, the capacity left empty.
SERIES: dict[str, Series] = {
    "partners_at_month_end": Series("blue", "line"),
    "registered": Series("green", "dashed"),
    "interested": Series("grey", "dotted"),
    "seats_confirmed": Series("blue", "solid"),
    "seats_remaining": Series("grey", "outline"),
    "waitlist": Series("vermillion", "hatched"),
    "organizations": Series("blue", "solid"),
    "sent": Series("blue", "solid"),
    "failed": Series("vermillion", "hatched"),
}


class Words:
    def __init__(self, language: str) -> None:
        self.language = language
        self._index = 0 if language == "de" else 1

    def __call__(self, key: str) -> str:
        return WORDS[key][self._index]

    def kind(self, kind: str) -> str:
        return EMAIL_KINDS.get(kind, EMAIL_KINDS["other"])[self._index]

    def organization_kind(self, kind: str) -> str:
        names = ORGANIZATION_KINDS.get(kind)
        return names[self._index] if names else kind.replace("_", " ")

    def number(self, value: float | None, digits: int = 0) -> str:
        if value is None:
            return NONE_SHOWN
        text = f"{value:,.{digits}f}"
        if self.language == "de":
            text = text.replace(",", " ").replace(".", ",").replace(" ", ".")
        return text

    def percent(self, value: float | None) -> str:
        return NONE_SHOWN if value is None else f"{self.number(value * 100, 1)} %"

    def moment(self, value: datetime | None) -> str:
        if value is None:
            return NONE_SHOWN
        return format_datetime(value, "short", tzinfo=BERLIN, locale=BABEL_LOCALES[self.language])


def _section(
    key: str, words: Words, table: tuple[list[str], list[list[str]]], **extra: Any
) -> dict[str, Any]:
    """`table`: the words (WORDS keys) of its columns, and its rows; the column of a series the
    section's chart draws shows the series' key."""
    columns, rows = table
    chart = extra.pop("chart", None)
    drawn = {dataset["series"] for dataset in chart["datasets"]} if chart else set()
    return {
        "id": key,
        "title": words(key),
        "summary": extra.pop("summary", []),
        "chart": chart,
        "table": {
            "columns": [words(column) for column in columns],
            "keys": [asdict(SERIES[column]) if column in drawn else None for column in columns],
            "rows": rows,
        },
    }


def _dataset(series: str, words: Words, data: list[Any]) -> dict[str, Any]:
    """A chart's series: its label, its numbers and how it is drawn (SERIES)."""
    return {"label": words(series), "data": data, "series": series, **asdict(SERIES[series])}


async def dashboard(
    conn: Connection, generation: int, language: str, pipeline: Pipeline | None, refresh: int
) -> dict[str, Any]:
    words = Words(language)
    network = await build.network(conn, generation, ALL_TIME)
    upcoming = [
        build.forum_figures(row) for row in await queries.scheduled_forums(conn, generation)
    ]
    funnel = await build.funnel(conn, generation, ALL_TIME)
    emails = await build.emails(conn, generation, ALL_TIME)
    activity = await queries.recent_activity(conn, generation, ACTIVITY_SHOWN)
    return {
        "updated_at": words.moment(utc_now()),
        "refresh_seconds": refresh,
        # In pairs where the page has room for two (dashboard.css): growth beside the funnel,
        # e-mail beside the pipeline; the wide tables have a row of their own.
        "sections": [
            _network(network, words),
            _growth(network, words),
            _funnel(funnel, words),
            _forums(upcoming, words),
            _activity(activity, words),
            _emails(emails, words),
            _pipeline(pipeline, words),
        ],
    }


def _network(network: Any, words: Words) -> dict[str, Any]:
    statuses = ("partner", "interested", "prospect", "former")
    counts = {entry.status: entry.organizations for entry in network.by_status}
    summary = [
        {"label": words("organizations"), "value": words.number(network.organizations_total)}
    ]
    summary += [{"label": words(s), "value": words.number(counts.get(s, 0))} for s in statuses]
    rows = [
        [
            words.organization_kind(kind.kind),
            words.number(kind.organizations),
            words.number(kind.partners),
            words.number(kind.interested),
            words.number(kind.prospects),
            words.number(kind.former),
        ]
        for kind in network.by_kind
    ]
    columns = ["kind", "organizations", *statuses]
    return _section("network", words, (columns, rows), summary=summary)


def _growth(network: Any, words: Words) -> dict[str, Any]:
    months = network.growth
    chart = {
        "type": "line",
        "labels": [month.month for month in months],
        "datasets": [
            _dataset("partners_at_month_end", words, [m.partners_at_month_end for m in months]),
            _dataset("registered", words, [m.registered for m in months]),
            _dataset("interested", words, [m.interested for m in months]),
        ],
    }
    columns = ["month", "registered", "interested", "joined", "left", "partners_at_month_end"]
    rows = [
        [
            m.month,
            *(words.number(v) for v in (m.registered, m.interested, m.joined, m.left)),
            words.number(m.partners_at_month_end),
        ]
        for m in months
    ]
    return _section("growth", words, (columns, rows), chart=chart)


def _forums(upcoming: list[Any], words: Words) -> dict[str, Any]:
    chart = {
        "type": "bar",
        "horizontal": True,
        "stacked": True,
        "labels": [forum.title or NONE_SHOWN for forum in upcoming],
        "datasets": [
            _dataset("seats_confirmed", words, [f.seats_confirmed for f in upcoming]),
            _dataset("seats_remaining", words, [f.seats_remaining or 0 for f in upcoming]),
            _dataset("waitlist", words, [f.seats_waitlisted for f in upcoming]),
        ],
    }
    # The chart's numbers, and beside them the capacity, the waitlist's registrations, the rate.
    columns = [
        "forum", "starts", "seats_confirmed", "seats_remaining", "waitlist", "capacity",
        "waitlist_registrations", "fill_rate",
    ]  # fmt: skip
    rows = [
        [
            f.title or NONE_SHOWN,
            words.moment(f.starts_at),
            words.number(f.seats_confirmed),
            words.number(f.seats_remaining),
            words.number(f.seats_waitlisted),
            words.number(f.capacity),
            words.number(f.waitlist_length),
            words.percent(f.fill_rate),
        ]
        for f in upcoming
    ]
    return _section("forums", words, (columns, rows), chart=chart)


def _funnel(funnel: Any, words: Words) -> dict[str, Any]:
    chart = {
        "type": "bar",
        "labels": [words(step.step) for step in funnel.steps],
        "datasets": [_dataset("organizations", words, [s.organizations for s in funnel.steps])],
    }
    rows = [
        [
            words(s.step),
            words.number(s.organizations),
            words.percent(s.share_of_registered),
            words.number(s.median_days_from_previous_step, 1),
        ]
        for s in funnel.steps
    ]
    columns = ["step", "organizations", "share", "median_days"]
    return _section("funnel", words, (columns, rows), chart=chart)


def _activity(activity: list[dict[str, Any]], words: Words) -> dict[str, Any]:
    rows = [
        [
            words.moment(entry["at"]),
            words(entry["activity"]),
            entry["organization_name"] or ("" if entry["forum_title"] else words("erased")),
            entry["forum_title"] or "",
        ]
        for entry in activity
    ]
    columns = ["when", "what", "organization", "forum"]
    return _section("activity", words, (columns, rows))


def _emails(emails: Any, words: Words) -> dict[str, Any]:
    chart = {
        "type": "bar",
        "stacked": True,
        "labels": [words.kind(kind.kind) for kind in emails.by_kind],
        "datasets": [
            _dataset("sent", words, [kind.sent for kind in emails.by_kind]),
            _dataset("failed", words, [kind.failed for kind in emails.by_kind]),
        ],
    }
    rows = [
        [words.kind(k.kind), words.number(k.sent), words.number(k.failed)] for k in emails.by_kind
    ]
    summary = [
        {"label": words("sent"), "value": words.number(emails.sent)},
        {"label": words("failed"), "value": words.number(emails.failed)},
    ]
    return _section(
        "emails",
        words,
        (["kind", "sent", "failed"], rows),
        chart=chart,
        summary=summary,
    )


def _pipeline(pipeline: Pipeline | None, words: Words) -> dict[str, Any]:
    if pipeline is None:
        return _section("pipeline", words, (["topic"], [[words("not_available")]]))
    lag: dict[str, int] = {}
    for partition in pipeline.lags or ():
        lag[partition.topic] = lag.get(partition.topic, 0) + partition.lag
    dead = {row["topic"]: row["dead_letters"] for row in pipeline.dead_letters}
    rows = []
    for row in pipeline.progress:
        full = next((name for name in lag if name.endswith(f".{row['topic']}")), row["topic"])
        rows.append(
            [
                row["topic"],
                words.number(row["events"]),
                words.moment(row["last_event_at"]),
                _lag(lag.get(full), pipeline, words),
                words.number(dead.get(full, 0)),
            ]
        )
    p50, p99 = (quantile(pipeline.latency, q) for q in (0.5, 0.99))
    summary = [
        {"label": words("generation"), "value": str(pipeline.generation)},
        {"label": words("latency_p50"), "value": _seconds(p50, words)},
        {"label": words("latency_p99"), "value": _seconds(p99, words)},
        {"label": words("dead_letters"), "value": words.number(sum(dead.values()))},
    ]
    columns = ["topic", "events", "last_event", "lag", "dead_letters"]
    return _section("pipeline", words, (columns, rows), summary=summary)


def quantile(rows: Any, q: float) -> float | None:
    """The bucket bound under which `q` of all observations lie (as Prometheus's
    histogram_quantile, without interpolation)."""
    buckets: dict[float, int] = {}
    for row in rows:
        buckets[row["bucket"]] = buckets.get(row["bucket"], 0) + row["observations"]
    total = sum(buckets.values())
    if not total:
        return None
    seen = 0
    for bound in sorted(buckets):
        seen += buckets[bound]
        if seen >= q * total:
            return bound
    return None


def _seconds(value: float | None, words: Words) -> str:
    if value is None:
        return NONE_SHOWN
    if value == float("inf"):
        return "> 30 s"
    return f"≤ {words.number(value * 1000)} ms"


def _lag(value: int | None, pipeline: Pipeline, words: Words) -> str:
    return words("not_available") if pipeline.lags is None else words.number(value)
