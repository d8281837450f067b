"""Registration rules: admission checks, FIFO promotion, cancel tokens."""

from dataclasses import replace
from datetime import timedelta
from uuid import uuid4

import pytest

from schemas.vocabulary import Audience, ForumStatus, OrganizationStatus, RegistrationStatus
from services.registration.domain import registrations as rules
from services.registration.domain.errors import (
    AuthenticationRequired,
    Conflict,
    DomainError,
    Forbidden,
    RuleViolation,
)
from tests.unit.registration.domain_values import (
    NOW,
    forum,
    organization,
    request,
    trace,
    waiting,
)


def test_an_open_scheduled_forum_admits_before_its_deadline() -> None:
    rules.check_admission(forum(), organization(), request(2), NOW)  # no error


@pytest.mark.parametrize(
    ("changes", "error", "field"),
    [
        ({"status": ForumStatus.CANCELLED}, Conflict, "forum_id"),
        ({"status": ForumStatus.HELD}, Conflict, "forum_id"),
        ({"registration_deadline": NOW - timedelta(seconds=1)}, Conflict, "forum_id"),
        ({"audience": Audience.PARTNERS}, Forbidden, "organization_id"),
        ({"capacity": 1}, RuleViolation, "attendees"),
        ({"seats_per_organization": 1}, RuleViolation, "attendees"),
    ],
)
def test_admission_refusals_name_their_field(
    changes: dict[str, object], error: type[DomainError], field: str
) -> None:
    with pytest.raises(error) as refused:
        rules.check_admission(forum(**changes), organization(), request(2), NOW)
    assert refused.value.field == field


def test_deadline_message_is_in_berlin_time() -> None:
    closed = forum(registration_deadline=NOW - timedelta(hours=1))  # 09:00 UTC = 11:00 CEST
    with pytest.raises(Conflict, match=r"04\.05\.2026 11:00 \(Europe/Berlin\)"):
        rules.check_admission(closed, organization(), request(), NOW)


def test_partners_only_forum_admits_partners() -> None:
    partners_only = forum(audience=Audience.PARTNERS)
    rules.check_admission(partners_only, organization(OrganizationStatus.PARTNER), request(), NOW)


def test_the_public_registers_for_open_forums_only() -> None:
    rules.check_anonymous_access(forum(audience=Audience.OPEN))
    with pytest.raises(AuthenticationRequired):
        rules.check_anonymous_access(forum(audience=Audience.PARTNERS))


def test_an_erased_organisation_cannot_register() -> None:
    erased = replace(organization(), erased_at=NOW)
    with pytest.raises(Conflict) as refused:
        rules.check_admission(forum(), erased, request(), NOW)
    assert refused.value.field == "organization_id"


def test_promotions_are_first_in_first_out_while_they_fit() -> None:
    first, second, third = waiting(2, 1), waiting(3, 2), waiting(1, 3)
    assert rules.promotions(5, [first, second, third]) == [first, second]
    assert rules.promotions(6, [first, second, third]) == [first, second, third]


def test_promotion_stops_at_the_first_that_does_not_fit() -> None:
    large, small = waiting(4, 1), waiting(1, 2)
    assert rules.promotions(3, [large, small]) == []  # the small group does not overtake
    assert rules.promotions(0, [small]) == []
    assert rules.promotions(3, []) == []


def test_cancel_token_is_derived_and_matches_only_its_registration() -> None:
    secret, registration_id = b"k" * 32, uuid4()
    token = rules.cancel_token(secret, registration_id)
    assert token == rules.cancel_token(secret, registration_id)
    assert len(token) == 64
    assert rules.token_matches(secret, registration_id, token)
    assert not rules.token_matches(secret, uuid4(), token)
    assert not rules.token_matches(b"x" * 32, registration_id, token)
    assert not rules.token_matches(secret, registration_id, "")
    assert not rules.token_matches(secret, registration_id, token[:-1] + "ä")
    assert not rules.token_matches(secret, registration_id, "\ud800" * 64)


def test_cancelling_twice_is_refused() -> None:
    done = replace(waiting(1, 1), status=RegistrationStatus.CANCELLED)
    with pytest.raises(Conflict, match="already cancelled"):
        rules.cancelled(done, forum(), "registrant", None, trace())
