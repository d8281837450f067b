"""Web form input: a submitted form's text fields, and a model's validation errors as messages a
person reads beside each field and in the page's error summary."""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from starlette.datastructures import FormData

from services.runtime.languages import Language


@dataclass(frozen=True)
class FieldError:
    """`field` is the form field's name, which is also its element id (the summary links it)."""

    field: str
    message: str


def text_field(form: FormData, name: str) -> str:
    """A field as the person typed it; "" when absent. Line breaks arrive as CRLF (as HTML
    sends a textarea) and are kept as LF, so a length limit counts what the person sees."""
    value = form.get(name)
    return value.replace("\r\n", "\n") if isinstance(value, str) else ""


def field_errors(error: ValidationError, language: Language) -> list[FieldError]:
    return [
        FieldError(".".join(str(part) for part in problem["loc"]), _message(problem, language))
        for problem in error.errors()
    ]


def error_for(errors: Sequence[FieldError], field: str) -> FieldError | None:
    return next((error for error in errors if error.field == field), None)


def _message(problem: Any, language: Language) -> str:
    context = problem.get("ctx") or {}
    if problem["type"] == "string_too_long":
        return language.gettext("Enter at most %(limit)s characters; this has %(length)s.") % {
            "limit": language.number(context["max_length"]),
            "length": language.number(len(problem["input"])),
        }
    if problem["type"] == "text_characters":  # schemas.text: a control character, and where
        return language.gettext(
            "Remove the invisible control character %(code)s at character %(position)s."
        ) % {"code": f"U+{context['code']}", "position": language.number(context["position"])}
    return language.gettext("Check what you entered here.")
