"""Steps the registration tests share: calls that must succeed, problem checks, reading facts."""

from collections.abc import Callable
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.integration.conftest import RunningService
from tests.integration.registration import bodies
from tests.kafka_helpers import ConsumedMessage, consume_until

JsonBody = dict[str, Any]
PROBLEM_JSON = "application/problem+json"
FACT_TIMEOUT_SECONDS = 15.0
HTTP_REQUESTS = "dialognet_http_requests_total"


def ok(response: httpx.Response, status: int = 200) -> JsonBody:
    """The JSON body of a response that must have `status`."""
    assert response.status_code == status, f"{response.status_code}: {response.text}"
    body: JsonBody = response.json()
    return body


def problem(response: httpx.Response, status: int, field: str | None = None) -> JsonBody:
    """A problem+json body with `status`, naming `field` among its errors when given."""
    assert response.status_code == status, f"{response.status_code}: {response.text}"
    assert response.headers["content-type"].startswith(PROBLEM_JSON), response.headers
    body: JsonBody = response.json()
    assert body["status"] == status
    assert isinstance(body["title"], str)
    assert body["title"]
    assert isinstance(body["detail"], str)
    assert body["detail"]
    if field is not None:
        named = [error["field"] for error in body.get("errors", [])]
        assert field in named, f"{field} not named in {body}"
        assert all(error["message"] for error in body["errors"]), body
    return body


async def new_organization(service: RunningService, **fields: Any) -> JsonBody:
    body = bodies.organization(**fields)
    return ok(await service.staff.post("/v1/organizations", json=body), 201)


async def new_partner(service: RunningService, **fields: Any) -> JsonBody:
    organization = await new_organization(service, **fields)
    joined = await service.staff.post(
        f"/v1/organizations/{organization['id']}/join", json={"agreement_signed_on": "2024-06-04"}
    )
    return ok(joined)


async def new_forum(service: RunningService, body: JsonBody | None = None) -> JsonBody:
    return ok(await service.staff.post("/v1/forums", json=body or bodies.forum()), 201)


async def register(
    service: RunningService,
    forum_id: str,
    body: JsonBody | None = None,
    *,
    client: httpx.AsyncClient | None = None,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    """POST a registration (staff client unless another is given)."""
    return await (client or service.staff).post(
        f"/v1/forums/{forum_id}/registrations",
        json=body or bodies.registration(),
        headers=headers,
    )


async def registered(service: RunningService, forum_id: str, **fields: Any) -> JsonBody:
    """A registration that must be accepted; `fields` go to bodies.registration."""
    return ok(await register(service, forum_id, bodies.registration(**fields)), 201)


async def organization_names(service: RunningService) -> set[str]:
    """Names of every organisation the service holds (one page of 1000)."""
    page = ok(await service.staff.get("/v1/organizations?limit=1000"))
    return {item["name"] for item in page["items"]}


async def forum_state(service: RunningService, forum_id: str) -> JsonBody:
    return ok(await service.staff.get(f"/v1/forums/{forum_id}"))


async def registrations_of(service: RunningService, forum_id: str) -> dict[str, JsonBody]:
    """The forum's registrations by id, as the staff listing shows them (one page of 1000)."""
    page = ok(await service.staff.get(f"/v1/forums/{forum_id}/registrations?limit=1000"))
    return {item["id"]: item for item in page["items"]}


async def facts(
    service: RunningService, topic: str, until: Callable[[ConsumedMessage], bool]
) -> list[ConsumedMessage]:
    """Messages of `<prefix><topic>` from the beginning until one satisfies `until`."""
    return await consume_until(
        service.settings.bootstrap(),
        f"{service.settings.topic_prefix}{topic}",
        until,
        timeout=FACT_TIMEOUT_SECONDS,
    )


async def facts_on_key(
    service: RunningService, topic: str, key: str, last: Callable[[ConsumedMessage], bool]
) -> list[ConsumedMessage]:
    """The facts keyed `key`, in topic order, up to and including the first one `last` matches.

    One key lives on one partition, so once `last` arrived every earlier fact of the key has.
    """
    got = await facts(service, topic, lambda message: message.key == key and last(message))
    keyed = [message for message in got if message.key == key]
    end = next(index for index, message in enumerate(keyed) if last(message))
    return keyed[: end + 1]


def of_type(type_name: str, **data: Any) -> Callable[[ConsumedMessage], bool]:
    """Matches a fact of `type_name` whose data holds every given value."""

    def matches(message: ConsumedMessage) -> bool:
        return message.headers.get("type") == type_name and all(
            message.value["data"].get(name) == value for name, value in data.items()
        )

    return matches


def types(messages: list[ConsumedMessage]) -> list[str]:
    return [message.headers["type"] for message in messages]


async def scrape_metrics(service: RunningService) -> str:
    response = await service.public.get("/metrics")
    assert response.status_code == 200, response.text
    return response.text


def metric_value(exposition: str, name: str, **labels: str) -> float:
    """The sample `name` with these labels (0 when absent: counters start unexported)."""
    for family in text_string_to_metric_families(exposition):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return float(sample.value)
    return 0.0
