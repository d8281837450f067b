"""A console form into the API's command: the same model validates it (so the same bounds and
rules), and what is wrong comes back as messages beside each field and in the summary."""

from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from services.registration.domain.errors import Conflict, DomainError
from services.runtime.forms import FieldError, field_errors
from services.runtime.languages import Language

Model = TypeVar("Model", bound=BaseModel)
# Where a refusal that names no field of the form is linked from the error summary.
PAGE_ANCHOR = "main"


def validated(
    model: type[Model], values: Mapping[str, Any], language: Language
) -> Model | list[FieldError]:
    """`values` leaves out what the person left empty, so an optional field is None and a
    required one is named as missing."""
    try:
        return model.model_validate(values)
    except ValidationError as error:
        return form_errors(error, language)


def form_errors(error: ValidationError, language: Language) -> list[FieldError]:
    """The runtime's messages (lengths, control characters), and the console's for what its
    forms add: missing fields, numbers, dates, choices, the forum's times in order."""
    return [
        FieldError(_field(problem), _message(problem, language) or shared.message)
        for problem, shared in zip(error.errors(), field_errors(error, language), strict=True)
    ]


def refusal(error: DomainError, form_fields: frozenset[str], language: Language) -> FieldError:
    """A rule the service refused by (the seats already taken, a step out of order), in the
    reader's words where the console knows the rule (else the service's own message); linked
    from the summary to its field when the form has it."""
    field = error.field if error.field in form_fields else PAGE_ANCHOR
    return FieldError(field, _refusal_message(error, language) or error.message)


def _refusal_message(error: DomainError, language: Language) -> str | None:
    if error.field in ("ends_at", "registration_deadline"):
        return _rule_message(error.field, language)
    if error.field == "capacity":
        return language.gettext("More seats are confirmed already; keep at least as many.")
    if error.field == "attended_registration_ids":
        return language.gettext("Only confirmed registrations of this forum can be ticked.")
    if isinstance(error, Conflict) and error.field == "status":
        return language.gettext(
            "This step does not fit the status shown here; it may have changed meanwhile."
        )
    if isinstance(error, Conflict) and error.field == "registration_id":
        return language.gettext(
            "The registration can no longer be cancelled: it is cancelled already, "
            "or its forum has taken place or been cancelled."
        )
    return None


def without_blanks(values: Mapping[str, str]) -> dict[str, str]:
    return {name: value.strip() for name, value in values.items() if value.strip()}


def _field(problem: Any) -> str:
    """`contact.email` for a nested field, `topics` for one item of a list; a whole-model rule
    names its field in its context."""
    if problem["type"] == "field_rule":
        return str(problem["ctx"]["field"])
    names = [part for part in problem["loc"] if isinstance(part, str)]
    return ".".join(names) or PAGE_ANCHOR


def _message(problem: Any, language: Language) -> str | None:
    kind = problem["type"]
    context = problem.get("ctx") or {}
    if kind == "missing":
        return language.gettext("Fill in this field.")
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return language.gettext("Enter a whole number.")
    if kind == "greater_than_equal":
        return language.gettext("Enter at least %(limit)s.") % {"limit": context["ge"]}
    if kind == "less_than_equal":
        return language.gettext("Enter at most %(limit)s.") % {"limit": context["le"]}
    if kind.startswith("datetime") or kind.startswith("date"):
        return language.gettext("Enter a date between 2000 and 2100, as the field shows it.")
    if kind == "enum":
        return language.gettext("Choose one of the options.")
    if kind.startswith("url"):
        return language.gettext("Enter a web address starting with https://.")
    if kind == "value_error" and problem["loc"][-1] == "email":
        return language.gettext("Enter an e-mail address like name@example.org.")
    if kind == "repeated_item":
        return language.gettext("Give each topic once.")
    if kind == "field_rule":
        return _rule_message(str(context["field"]), language)
    return None


def _rule_message(field: str, language: Language) -> str:
    if field == "ends_at":
        return language.gettext("The end must be after the start.")
    return language.gettext("The registration deadline must not be after the end.")
