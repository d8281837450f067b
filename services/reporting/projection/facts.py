"""The facts reporting consumes: typed from their envelope, or refused with the reason."""

from pydantic import ValidationError

from schemas.catalog import TOPIC_OF_TYPE, UnknownType, parse_event
from schemas.envelope import Envelope
from schemas.topics import Topic
from services.runtime.consumer import Unprocessable

# The topics whose facts the read models are made of.
CONSUMED_TOPICS = (Topic.ORGANIZATIONS, Topic.FORUMS, Topic.REGISTRATIONS, Topic.NOTIFICATIONS)
# Validation errors named in a dead letter's reason at most (the header is bounded anyway).
MAX_ERRORS_NAMED = 5


def parse_fact(envelope: dict[str, object]) -> Envelope:
    """The typed fact; Unprocessable for a type reporting does not read or an invalid payload."""
    try:
        fact = parse_event(envelope)
    except UnknownType as unknown:
        raise Unprocessable(str(unknown)) from None
    except ValidationError as invalid:
        raise Unprocessable(_describe(invalid)) from None
    if TOPIC_OF_TYPE[fact.type] not in CONSUMED_TOPICS:
        raise Unprocessable(f"{fact.type!r} is not a fact of the topics reporting reads")
    return fact


def _describe(invalid: ValidationError) -> str:
    """Where the payload is wrong, never the values (they may be personal data)."""
    problems = [
        f"{'.'.join(str(part) for part in error['loc'])}: {error['msg']}"
        for error in invalid.errors(include_input=False, include_url=False)
    ]
    more = len(problems) - MAX_ERRORS_NAMED
    named = "; ".join(problems[:MAX_ERRORS_NAMED]) + (f"; and {more} more" if more > 0 else "")
    return f"invalid {invalid.title}: {named}"
