"""The public registration form: its fields as typed, read into the API's `Register` command (so
the same bounds and rules), and what is wrong with them worded for the person beside each field."""

import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field, fields, replace
from typing import Any

from pydantic import ValidationError
from starlette.datastructures import FormData

from schemas.commands import Register
from schemas.vocabulary import OrganizationKind
from services.registration.domain.errors import DomainError
from services.runtime.forms import FieldError, field_errors, text_field
from services.runtime.languages import Language

# Filled in only by programs that fill in every field: hidden from people and assistive tech.
HONEYPOT = "homepage"
CHECKED = "yes"
# What runtime/forms.py words itself whatever the field (length, control characters).
_WORDED_BY_RUNTIME = {"string_too_long", "text_characters"}


@dataclass(frozen=True)
class RegistrationForm:
    """Every field as the person typed it (the names are the form's names and element ids)."""

    organization_id: str = ""
    organization_name: str = ""
    organization_kind: str = ""
    organization_district: str = ""
    organization_website: str = ""
    contact_name: str = ""
    contact_email: str = ""
    contact_phone: str = ""
    contact_language: str = ""
    attendees: str = "1"
    wants_to_present: bool = False
    interested_in_partnership: bool = False
    accessibility_needs: str = ""
    interpreter_needs: str = ""
    consent: bool = False
    # A new one for every form shown: a form sent twice (a double click, the back button) is
    # answered with the first registration instead of a second attempt (Idempotency-Key).
    idempotency_key: str = field(default_factory=lambda: secrets.token_urlsafe(18))
    errors: Sequence[FieldError] = ()

    @classmethod
    def blank(cls, language: str) -> "RegistrationForm":
        return cls(contact_language=language)

    @classmethod
    def read(cls, form: FormData) -> "RegistrationForm":
        values: dict[str, Any] = {}
        for item in fields(cls):
            if item.name == "errors":
                continue
            if item.type is bool:
                values[item.name] = form.get(item.name) == CHECKED
            else:
                values[item.name] = text_field(form, item.name).strip()
        return cls(**values)

    def error(self, name: str) -> FieldError | None:
        return next((error for error in self.errors if error.field == name), None)

    def with_errors(self, errors: Sequence[FieldError]) -> "RegistrationForm":
        """The form shown again: as typed, with a key of its own (nothing was stored under the
        one it was sent with, or it was stored for other details)."""
        return replace(self, errors=errors, idempotency_key=secrets.token_urlsafe(18))


def honeypot_filled(form: FormData) -> bool:
    return bool(text_field(form, HONEYPOT))


def command(entered: RegistrationForm, language: Language) -> Register | RegistrationForm:
    """The API's command, or the form again with every error in it."""
    picked = bool(entered.organization_id)
    if picked and _new_organization_given(entered):
        message = language.gettext(
            "You chose your organisation from the list: leave the fields of a new organisation "
            "empty, or choose “My organisation is not listed”."
        )
        return entered.with_errors([FieldError("organization_name", message)])
    try:
        return Register.model_validate(_body(entered, picked))
    except ValidationError as error:
        return entered.with_errors(_errors(error, language))


def _new_organization_given(entered: RegistrationForm) -> bool:
    return any(
        (
            entered.organization_name,
            entered.organization_kind,
            entered.organization_district,
            entered.organization_website,
        )
    )


def _body(entered: RegistrationForm, picked: bool) -> dict[str, Any]:
    """The JSON body the API would be sent; an empty optional field is left out."""
    body: dict[str, Any] = {
        "contact": {
            "name": entered.contact_name,
            "email": entered.contact_email,
            "phone": entered.contact_phone or None,
            "language": entered.contact_language,
        },
        "attendees": entered.attendees,
        "wants_to_present": entered.wants_to_present,
        "interested_in_partnership": entered.interested_in_partnership,
        "accessibility_needs": entered.accessibility_needs or None,
        "interpreter_needs": entered.interpreter_needs or None,
        "consent": entered.consent,
    }
    if picked:
        body["organization_id"] = entered.organization_id
    else:
        body["organization"] = {
            "name": entered.organization_name,
            "kind": entered.organization_kind or None,
            "district": entered.organization_district or None,
            "website": entered.organization_website or None,
        }
    return body


def _errors(error: ValidationError, language: Language) -> list[FieldError]:
    """One message a field, in the form's order: the command's location `contact.email` is the
    form's field `contact_email`."""
    worded = _field_messages(language)
    found: dict[str, str] = {}
    for problem, general in zip(error.errors(), field_errors(error, language), strict=True):
        name = "_".join(str(part) for part in problem["loc"])
        # The phone rule's characters are not control characters: its own message says which.
        own = problem["type"] not in _WORDED_BY_RUNTIME or name == "contact_phone"
        found.setdefault(name, worded.get(name, general.message) if own else general.message)
    order = [item.name for item in fields(RegistrationForm)]
    return [
        FieldError(name, message)
        for name, message in sorted(
            found.items(), key=lambda item: order.index(item[0]) if item[0] in order else 0
        )
    ]


def _field_messages(language: Language) -> dict[str, str]:
    """What to do about a field the command refused (GOV.UK style: say what to enter)."""
    _ = language.gettext
    return {
        "organization_id": _("Choose your organisation from the list again"),
        "organization_name": _("Enter the name of your organisation"),
        "organization_kind": _("Choose what kind of organisation it is"),
        "organization_website": _(
            "Enter the address of the website in full, like https://www.example.org"
        ),
        "contact_name": _("Enter the name of the contact person"),
        "contact_email": _("Enter an e-mail address like name@example.org"),
        "contact_phone": _("Enter a phone number using only digits, spaces and + ( ) / . -"),
        "contact_language": _("Choose the language of the e-mails"),
        "attendees": _("Enter how many people will attend, as a whole number"),
        "consent": _("Agree to the privacy notice to register"),
    }


def refusal(error: DomainError, language: Language, most_attendees: int) -> FieldError | None:
    """The service's refusal of a valid command as a field's message, or None when it is about
    the forum itself (closed, unknown, partners only): the page says that instead."""
    _ = language.gettext
    if error.field == "contact.email":
        return FieldError(
            "contact_email",
            _(
                "This e-mail address is already registered for this event. Use another address,"
                " or cancel the earlier registration with the link in its e-mail first."
            ),
        )
    if error.field == "attendees":
        return FieldError(
            "attendees",
            _(
                "Your organisation can bring at most %(most)s people to this event, counting"
                " its earlier registrations"
            )
            % {"most": language.number(most_attendees)},
        )
    if error.field == "organization_id":
        return FieldError(
            "organization_id",
            _(
                "Your organisation is no longer in the list. Choose “My organisation is not"
                " listed” and enter it below"
            ),
        )
    if error.field == "Idempotency-Key":
        return FieldError(
            "register", _("This form was sent before with other details. Send it once more.")
        )
    return None


def kind_names(language: Language) -> dict[OrganizationKind, str]:
    """The organisation kinds as the form offers them."""
    _ = language.gettext
    return {
        OrganizationKind.MIGRANT_ORGANIZATION: _("Migrant organisation"),
        OrganizationKind.YOUTH_ORGANIZATION: _("Youth work"),
        OrganizationKind.RELIGIOUS_COMMUNITY: _("Religious community"),
        OrganizationKind.SOCIAL_SERVICES: _("Social services"),
        OrganizationKind.EDUCATION: _("Education"),
        OrganizationKind.SPORTS: _("Sports club"),
        OrganizationKind.CULTURE: _("Culture"),
        OrganizationKind.LGBTIQ: _("LGBTIQ* organisation"),
        OrganizationKind.WOMENS_ORGANIZATION: _("Women's organisation"),
        OrganizationKind.OTHER: _("Other"),
    }
