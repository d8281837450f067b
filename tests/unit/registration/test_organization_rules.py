"""Organisation lifecycle: prospect → interested → partner → former, and erasure, as pure rules."""

from dataclasses import replace
from datetime import date

import pytest

from schemas.commands import OrganizationDraft
from schemas.vocabulary import OrganizationKind, OrganizationStatus
from services.registration.domain import organizations as rules
from services.registration.domain.errors import Conflict
from tests.unit.registration.domain_values import CONTACT, NOW, organization, trace

Status = OrganizationStatus


def test_create_makes_a_prospect_and_says_so() -> None:
    draft = OrganizationDraft(name="Kulturverein", kind=OrganizationKind.CULTURE, contact=CONTACT)
    created, event = rules.create(draft, trace())
    assert created.status is Status.PROSPECT
    assert event.type == "organization.registered"
    assert event.key == str(created.id)
    assert event.data.organization_id == created.id
    assert event.correlation_id == "command-1"
    assert event.occurred_at == NOW


def test_interest_then_join_then_leave() -> None:
    interested, declared = rules.declare_interest(organization(), trace())
    assert (interested.status, interested.interested_at) == (Status.INTERESTED, NOW)
    assert declared.type == "organization.interested"

    partner, joined = rules.join(interested, date(2024, 6, 4), trace())
    assert partner.status is Status.PARTNER
    assert partner.agreement_signed_on == date(2024, 6, 4)
    assert joined.type == "partner.joined"
    assert joined.data.agreement_signed_on == date(2024, 6, 4)

    former, left = rules.leave(partner, "merged", trace())
    assert former.status is Status.FORMER
    assert (left.type, left.data.reason) == ("partner.left", "merged")


def test_a_prospect_may_join_directly_and_a_former_partner_may_rejoin() -> None:
    assert rules.join(organization(), date(2024, 6, 4), trace())[0].status is Status.PARTNER
    rejoined, _ = rules.join(organization(Status.FORMER), date(2025, 1, 2), trace())
    assert rejoined.status is Status.PARTNER
    assert rejoined.left_at is None


@pytest.mark.parametrize("status", [Status.INTERESTED, Status.PARTNER, Status.FORMER])
def test_only_a_prospect_declares_interest(status: OrganizationStatus) -> None:
    with pytest.raises(Conflict) as refused:
        rules.declare_interest(organization(status), trace())
    assert refused.value.field == "status"
    assert refused.value.status == 409


def test_a_partner_cannot_join_again() -> None:
    with pytest.raises(Conflict, match="already a partner"):
        rules.join(organization(Status.PARTNER), date(2024, 6, 4), trace())


@pytest.mark.parametrize("status", [Status.PROSPECT, Status.INTERESTED, Status.FORMER])
def test_only_a_partner_leaves(status: OrganizationStatus) -> None:
    with pytest.raises(Conflict, match="only a partner can leave"):
        rules.leave(organization(status), None, trace())


def test_erase_names_the_registrations_and_refuses_twice() -> None:
    subject = organization()
    erased = rules.erase(subject, [], trace())
    assert erased.type == "organization.erased"
    assert erased.data.organization_id == subject.id
    with pytest.raises(Conflict, match="already erased"):
        rules.erase(replace(subject, erased_at=NOW), [], trace())
