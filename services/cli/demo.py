"""Demo data (fictional partners, forums, registrations) loaded through the public HTTP API."""

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from schemas.vocabulary import BERLIN

log = logging.getLogger(__name__)

JOINED_ON = "2024-06-{day:02d}"


@dataclass(frozen=True)
class DemoOrganization:
    name: str
    kind: str
    district: str
    contact_name: str
    email: str


PARTNERS: tuple[DemoOrganization, ...] = (
    DemoOrganization("Brückenschlag Interkulturell e.V.", "migrant_organization", "Nordstadt",
                     "Aylin Demir", "brueckenschlag@example.org"),
    DemoOrganization("Jugendtreff Weitblick", "youth_organization", "Südviertel",
                     "Jonas Albrecht", "weitblick@example.org"),
    DemoOrganization("Islamische Gemeinde am Lindenhof", "religious_community", "Lindenhof",
                     "Yusuf Karaca", "lindenhof-gemeinde@example.net"),
    DemoOrganization("Ökumenischer Gesprächskreis Altstadt", "religious_community", "Altstadt",
                     "Maria Lindqvist", "gespraechskreis@example.net"),
    DemoOrganization("Sozialwerk Hafenviertel gGmbH", "social_services", "Hafenviertel",
                     "Petra Sommerfeld", "sozialwerk-hafen@example.org"),
    DemoOrganization("Bildungswerk Lernbrücke e.V.", "education", "Weststadt",
                     "Dr. Hamid Nouri", "lernbruecke@example.org"),
    DemoOrganization("SV Rot-Weiß Kiezkicker 1987", "sports", "Oststadt",
                     "Kevin Brandt", "kiezkicker@example.net"),
    DemoOrganization("Kulturhaus Kolibri", "culture", "Altstadt",
                     "Lena Okafor", "kolibri@example.org"),
    DemoOrganization("Queeres Zentrum Regenbogenhaus e.V.", "lgbtiq", "Innenstadt",
                     "Sam Winter", "regenbogenhaus@example.org"),
    DemoOrganization("Frauennetzwerk Mosaik e.V.", "womens_organization", "Nordstadt",
                     "Fatma Aksoy", "mosaik@example.net"),
    DemoOrganization("Elternverein Sankofa", "migrant_organization", "Südviertel",
                     "Grace Mensah", "sankofa@example.org"),
    DemoOrganization("Straßensozialarbeit Neustart", "social_services", "Bahnhofsviertel",
                     "Tobias Reuter", "neustart@example.net"),
    DemoOrganization("Nachbarschaftsinitiative Grüner Hof", "other", "Weststadt",
                     "Irina Petrenko", "gruener-hof@example.org"),
)  # fmt: skip

# Organisations that are not partners yet: they register for the open conference.
PROSPECTS: tuple[DemoOrganization, ...] = (
    DemoOrganization("Tamilischer Kulturverein Lotus", "culture", "Oststadt",
                     "Priya Raman", "lotus@example.net"),
    DemoOrganization("Krisendienst Lichtblick", "social_services", "Innenstadt",
                     "Martin Vogel", "lichtblick@example.org"),
)  # fmt: skip


@dataclass(frozen=True)
class HeldForum:
    title: str
    topics: tuple[str, ...]
    starts_at: datetime
    outcomes: str


HELD_FORUMS: tuple[HeldForum, ...] = (
    HeldForum(
        "1. Forum Dialog und Vertrauen: Racial Profiling und Gleichbehandlung",
        ("Racial Profiling", "Gleichbehandlung", "Beschwerdewege"),
        datetime(2025, 3, 27, 17, 0, tzinfo=BERLIN),
        "Arbeitsgruppe zu Beschwerdewegen gegründet; Schulung zu diskriminierungsfreien "
        "Kontrollen wird mit zwei Partnern entwickelt.",
    ),
    HeldForum(
        "2. Forum Dialog und Vertrauen: Polizei und Menschen in psychischen Krisen",
        ("Menschen in psychischen Krisen", "Dialogformate mit jungen Menschen"),
        datetime(2025, 9, 25, 17, 0, tzinfo=BERLIN),
        "Leitfaden für Einsätze bei psychischen Krisen abgestimmt; Jugendtreffs planen "
        "offene Gesprächsrunden mit Bezirksbeamtinnen und -beamten.",
    ),
)
# Present once the demo is loaded: its existence means "do not load again".
MARKER_TITLE = HELD_FORUMS[0].title


class DemoApi:
    """The few staff API calls the demo needs; every non-2xx answer raises."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self._client = client

    async def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        return _json(await self._client.post(path, json=body))

    async def patch(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        return _json(await self._client.patch(path, json=body))

    async def forum_titles(self) -> set[str]:
        titles: set[str] = set()
        params: dict[str, str] = {}
        while True:
            page = _json(await self._client.get("/v1/forums", params=params))
            titles.update(item["title"] for item in page["items"])
            if not page.get("next"):
                return titles
            params = {"cursor": str(page["next"])}


class DemoLoadError(RuntimeError):
    """The API refused a demo request; the message carries its problem body."""


def _json(response: httpx.Response) -> dict[str, Any]:
    if response.is_error:
        request = response.request
        raise DemoLoadError(
            f"{request.method} {request.url.path}: {response.status_code} {response.text}"
        )
    body: dict[str, Any] = response.json()
    return body


async def load_demo(base_url: str, token: str) -> bool:
    """Load the demo unless it is there already; True when it was loaded now."""
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=base_url, headers=headers, timeout=30.0) as client:
        api = DemoApi(client)
        if MARKER_TITLE in await api.forum_titles():
            return False
        now = datetime.now(UTC)
        partners = [await _create_partner(api, org, day) for day, org in enumerate(PARTNERS, 3)]
        prospects = [await _create_organization(api, org) for org in PROSPECTS]
        for index, forum in enumerate(HELD_FORUMS):
            await _held_forum(api, forum, partners[index::2], now)
        await _closed_conference(api, partners[:6] + prospects, now)
        await _upcoming_forums(api, partners, now)
    log.info("demo loaded: %d partners, %d forums", len(partners), len(HELD_FORUMS) + 3)
    return True


async def _create_organization(api: DemoApi, org: DemoOrganization) -> tuple[str, DemoOrganization]:
    body = {
        "name": org.name,
        "kind": org.kind,
        "district": org.district,
        "website": None,
        "contact": _contact(org),
    }
    created = await api.post("/v1/organizations", body)
    return str(created["id"]), org


async def _create_partner(
    api: DemoApi, org: DemoOrganization, day: int
) -> tuple[str, DemoOrganization]:
    organization_id, _ = await _create_organization(api, org)
    # The 13 founding partners signed the cooperation agreement in June 2024.
    await api.post(
        f"/v1/organizations/{organization_id}/join",
        {"agreement_signed_on": JOINED_ON.format(day=day)},
    )
    return organization_id, org


def _contact(org: DemoOrganization) -> dict[str, Any]:
    return {"name": org.contact_name, "email": org.email, "phone": None, "language": "de"}


def _times(starts_at: datetime, hours: float, deadline: datetime) -> dict[str, str]:
    return {
        "starts_at": starts_at.astimezone(BERLIN).isoformat(),
        "ends_at": (starts_at + timedelta(hours=hours)).astimezone(BERLIN).isoformat(),
        "registration_deadline": deadline.astimezone(BERLIN).isoformat(),
    }


def _local(now: datetime, days: int, hour: int) -> datetime:
    """`hour` o'clock in Berlin, `days` from now."""
    day = (now + timedelta(days=days)).astimezone(BERLIN)
    return day.replace(hour=hour, minute=0, second=0, microsecond=0)


async def _schedule(api: DemoApi, body: dict[str, Any]) -> str:
    created = await api.post("/v1/forums", body)
    return str(created["id"])


async def _register(
    api: DemoApi, forum_id: str, orgs: list[tuple[str, DemoOrganization]]
) -> list[tuple[str, int]]:
    """(registration id, attendees) of each confirmed registration."""
    confirmed = []
    for index, (organization_id, org) in enumerate(orgs):
        attendees = 1 + index % 2  # within every demo forum's seats_per_organization
        body = {
            "organization_id": organization_id,
            "contact": _contact(org),
            "attendees": attendees,
            "wants_to_present": index % 4 == 0,
            "interested_in_partnership": False,
            "accessibility_needs": "Stufenloser Zugang" if index == 2 else None,
            "consent": True,
        }
        made = await api.post(f"/v1/forums/{forum_id}/registrations", body)
        if made["status"] == "confirmed":
            confirmed.append((str(made["id"]), attendees))
    return confirmed


async def _held_forum(
    api: DemoApi, forum: HeldForum, orgs: list[tuple[str, DemoOrganization]], now: datetime
) -> None:
    # Registration closes at the deadline, so partners register while it is still ahead;
    # then the forum is moved to its real date in 2025 and reported as held.
    body = {
        "format": "forum",
        "title": forum.title,
        "topics": list(forum.topics),
        "venue": "Polizeipräsidium, Großer Saal",
        "capacity": 60,
        "seats_per_organization": 3,
        "audience": "partners",
        **_times(_local(now, 3, 17), 3, now + timedelta(days=2)),
    }
    forum_id = await _schedule(api, body)
    confirmed = await _register(api, forum_id, orgs)
    real_times = _times(forum.starts_at, 3, forum.starts_at - timedelta(days=7))
    await api.patch(f"/v1/forums/{forum_id}", real_times)
    attended = confirmed[:-1]  # one registered organisation did not come
    report = {
        "attendance": sum(attendees for _, attendees in attended) + 6,  # plus police staff
        "attended_registration_ids": [registration_id for registration_id, _ in attended],
        "outcomes": forum.outcomes,
    }
    await api.post(f"/v1/forums/{forum_id}/held", report)


async def _closed_conference(
    api: DemoApi, orgs: list[tuple[str, DemoOrganization]], now: datetime
) -> None:
    body = {
        "format": "conference",
        "title": "Offene Netzwerkkonferenz: Gemeinsam für Vertrauen",
        "topics": ["Langfristige Zusammenarbeit", "Vorstellung der Partner", "Partnerschaft"],
        "venue": "Rathaus, Bürgersaal",
        "capacity": 150,
        "seats_per_organization": 3,
        "audience": "open",
        **_times(_local(now, 8, 10), 7, now + timedelta(days=3)),
    }
    forum_id = await _schedule(api, body)
    await _register(api, forum_id, orgs)
    # The deadline has passed: registration is closed, the conference is still ahead.
    closed = {"registration_deadline": (now - timedelta(days=1)).astimezone(BERLIN).isoformat()}
    await api.patch(f"/v1/forums/{forum_id}", closed)


async def _upcoming_forums(
    api: DemoApi, partners: list[tuple[str, DemoOrganization]], now: datetime
) -> None:
    forum = {
        "format": "forum",
        "title": "3. Forum Dialog und Vertrauen: Dialogformate mit jungen Menschen",
        "topics": ["Dialogformate mit jungen Menschen", "Präsenz im öffentlichen Raum"],
        "venue": "Jugendtreff Weitblick, Südviertel",
        "capacity": 40,
        "seats_per_organization": 2,
        "audience": "open",  # open to everyone: the public form can be tried on it
        **_times(_local(now, 28, 17), 3, _local(now, 21, 23)),
    }
    forum_id = await _schedule(api, forum)
    await _register(api, forum_id, partners[1:5])
    conference = {
        "format": "conference",
        "title": "Fachtag Vielfalt und Polizei im Gespräch",
        "topics": ["Gleichbehandlung", "Mehrsprachige Kommunikation", "Vertrauensbildung"],
        "venue": "Volkshochschule, Forum",
        "capacity": 200,
        "seats_per_organization": 3,
        "audience": "open",
        **_times(_local(now, 56, 9), 8, _local(now, 45, 23)),
    }
    await _schedule(api, conference)
