"""Bad messages for every consumed topic, drawn with hypothesis strategies from a fixed seed.

Each message knows its kind, and so what the code promises to do with it: a message that is no
envelope (not UTF-8, not JSON, empty, null, not an object, nested too deeply, an envelope field
missing, huge) is dead-lettered by every consumer; an envelope of a type the consumer does not
read, of a version it does not know, or with a payload that breaks the contract (a field
missing, of the wrong type, an envelope field out of bounds) is dead-lettered by the fact
consumers (notification ignores the types it does not act on, on purpose: a newer producer's),
and answered with an `intake.rejected` fact by the intake consumer.

Hypothesis draws them (its strategies find the odd values: surrogates, control characters,
huge integers), but they are published as one batch: `@given` per message over Kafka is slow.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from functools import partial
from typing import Any
from uuid import UUID

from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from schemas.catalog import EVENT_TYPES, TOPIC_OF_TYPE, UnknownType, parse_event
from schemas.envelope import REQUIRED_ENVELOPE_FIELDS
from schemas.topics import Topic
from tests.fuzz.samples import JsonObject

Headers = list[tuple[str, bytes | None]]
# Bodies up to beyond the producer's default limit (1 MB, which the services' dead-letter
# producer keeps: such a letter goes without its value); Tansu takes them (checked: 11 MB).
LARGE_BYTES, OVER_LIMIT_BYTES = 70_000, 1_100_000
MAX_HUGE_BYTES = 1_200_000


class Kind(StrEnum):
    """What is wrong with a message."""

    NOT_UTF8 = "not UTF-8"
    NOT_JSON = "not JSON"
    EMPTY = "empty"
    NULL = "null value"
    NOT_OBJECT = "not a JSON object"
    TOO_DEEP = "nested too deeply"
    NO_ENVELOPE = "an envelope field missing"
    HUGE_JUNK = "huge, no envelope"
    HUGE_ID = "huge: an envelope whose id is megabytes"
    UNKNOWN_TYPE = "unknown type"
    FOREIGN_TYPE = "a type of another topic"
    WRONG_VERSION = "wrong version"
    BAD_ENVELOPE = "an envelope field out of bounds"
    MISSING_FIELD = "a payload field missing"
    WRONG_FIELD = "a payload field of the wrong type"
    DEEP_DATA = "a payload nested deeply"


# Kinds whose body is an envelope (every required field there): the consumer's handler sees it.
ENVELOPE_KINDS = frozenset(
    {
        Kind.UNKNOWN_TYPE,
        Kind.FOREIGN_TYPE,
        Kind.WRONG_VERSION,
        Kind.BAD_ENVELOPE,
        Kind.MISSING_FIELD,
        Kind.WRONG_FIELD,
        Kind.DEEP_DATA,
        Kind.HUGE_ID,
    }
)


@dataclass(frozen=True)
class BadMessage:
    topic: Topic
    kind: Kind
    value: bytes | None
    key: bytes | None = None
    headers: Headers = field(default_factory=list)
    # The decoded envelope (ENVELOPE_KINDS only): what a handler is given.
    envelope: JsonObject | None = None

    def describe(self) -> str:
        size = len(self.value) if self.value is not None else 0
        return f"{self.kind} on {self.topic} ({size} bytes)"


def draw(strategy: st.SearchStrategy[BadMessage], count: int, fixed_seed: int) -> list[BadMessage]:
    """`count` examples of `strategy`, the same ones for the same seed."""
    drawn: list[BadMessage] = []

    @seed(fixed_seed)
    @settings(
        max_examples=count,
        database=None,
        phases=[Phase.generate],
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def collect(message: BadMessage) -> None:
        drawn.append(message)

    collect()
    return drawn


def bad_messages(topic: Topic, samples: list[JsonObject]) -> st.SearchStrategy[BadMessage]:
    """Every kind of bad message for `topic`, mutated from its valid `samples`."""
    sample_ids = frozenset(str(body["event_id"]) for body in samples)
    sample = st.sampled_from(samples)
    bodies = {
        Kind.NOT_UTF8: not_utf8(sample),
        Kind.NOT_JSON: not_json(sample),
        Kind.EMPTY: st.just(b""),
        Kind.NULL: st.none(),
        Kind.NOT_OBJECT: st.one_of(_json_scalars, st.lists(_json_values, max_size=5)).map(_dumps),
        Kind.TOO_DEEP: too_deep(),
        Kind.NO_ENVELOPE: no_envelope(sample),
        Kind.HUGE_JUNK: huge_junk(),
    }
    envelopes = {
        Kind.UNKNOWN_TYPE: unknown_type(sample),
        Kind.FOREIGN_TYPE: foreign_type(topic, sample),
        Kind.WRONG_VERSION: wrong_version(sample),
        Kind.BAD_ENVELOPE: bad_envelope(sample),
        Kind.MISSING_FIELD: invalid(missing_field(sample)),
        Kind.WRONG_FIELD: invalid(wrong_field(sample)),
        Kind.DEEP_DATA: invalid(deep_data(sample)),
        Kind.HUGE_ID: huge_id(sample),
    }
    drawn = {
        **{
            kind: st.builds(
                BadMessage,
                st.just(topic),
                st.just(kind),
                body,
                # A null value needs a key (a tombstone): the producer sends no record of neither.
                _keys.filter(bool) if kind is Kind.NULL else _keys,
                _headers,
            )
            for kind, body in bodies.items()
        },
        **{
            kind: st.builds(
                partial(_enveloped, sample_ids),
                st.just(topic),
                st.just(kind),
                envelope,
                _keys,
                _headers,
                st.uuids(),
            )
            for kind, envelope in envelopes.items()
        },
    }
    # The huge ones share one branch: a run of a thousand carries some 10 MB, not 50.
    huge = st.one_of(drawn.pop(Kind.HUGE_JUNK), drawn.pop(Kind.HUGE_ID))
    return st.one_of(*drawn.values(), huge)


def _enveloped(
    sample_ids: frozenset[str],
    topic: Topic,
    kind: Kind,
    envelope: JsonObject,
    key: bytes | None,
    headers: Headers,
    unique: UUID,
) -> BadMessage:
    """The message of `envelope`, with an event_id of its own unless the id is what is wrong
    (the inbox would see a second message of the same id as a duplicate)."""
    event_id = envelope.get("event_id")
    if isinstance(event_id, str) and event_id in sample_ids:
        envelope = {**envelope, "event_id": str(unique)}
    return BadMessage(topic, kind, _dumps(envelope), key, headers, envelope)


def _dumps(value: Any) -> bytes:
    # ensure_ascii: lone surrogates hypothesis draws travel as \ud800 escapes, as JSON allows.
    return json.dumps(value).encode()


_json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=50),
)
_json_values = st.recursive(
    _json_scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=10,
)
_keys = st.one_of(st.none(), st.binary(max_size=40), st.uuids().map(lambda u: str(u).encode()))
_header_values = st.one_of(st.none(), st.binary(max_size=40), st.text(max_size=40).map(str.encode))
_headers = st.lists(
    st.tuples(st.sampled_from(["type", "version", "error", "source-topic"]) | st.text(max_size=20),
              _header_values),
    max_size=4,
)  # fmt: skip


def not_utf8(sample: st.SearchStrategy[JsonObject]) -> st.SearchStrategy[bytes]:
    """A valid envelope's bytes with bytes UTF-8 never has inside, or random binary."""
    spliced = st.builds(
        lambda body, at, junk: body[: at % (len(body) + 1)] + junk + body[at % (len(body) + 1) :],
        sample.map(_dumps),
        st.integers(min_value=0),
        st.sampled_from([b"\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\xf8\x88\x80\x80\x80"]),
    )
    return st.one_of(spliced, st.binary(min_size=1, max_size=100).filter(_not_utf8))


def _not_utf8(body: bytes) -> bool:
    try:
        body.decode("utf-8-sig")
    except UnicodeDecodeError:
        return True
    return False


def not_json(sample: st.SearchStrategy[JsonObject]) -> st.SearchStrategy[bytes]:
    """Text that does not parse: a valid envelope cut short, or anything."""
    cut = st.builds(
        lambda body, at: body[: max(1, at % len(body))], sample.map(_dumps), st.integers(0)
    )
    return st.one_of(cut, st.text(min_size=1, max_size=100).map(str.encode)).filter(_unparsable)


def _unparsable(body: bytes) -> bool:
    try:
        json.loads(body.decode("utf-8-sig"))
    except (ValueError, RecursionError):
        return True
    return False


def too_deep() -> st.SearchStrategy[bytes]:
    """Nesting far beyond what a JSON parser recurses into: of arrays, or of objects."""
    return st.builds(
        lambda depth, objects: (
            b'{"a":' * depth + b"1" + b"}" * depth if objects else b"[" * depth + b"]" * depth
        ),
        st.integers(min_value=2_000, max_value=10_000),
        st.booleans(),
    )


def no_envelope(sample: st.SearchStrategy[JsonObject]) -> st.SearchStrategy[bytes]:
    """A valid message with some of the required envelope fields removed."""
    return st.builds(
        lambda body, removed: _dumps({k: v for k, v in body.items() if k not in removed}),
        sample,
        st.sets(st.sampled_from(REQUIRED_ENVELOPE_FIELDS), min_size=1),
    )


# One in twenty over the limit (hypothesis leans to the simplest choice, the first of a list:
# the rare size is the highest number).
_huge_sizes = st.integers(0, 19).map(lambda i: OVER_LIMIT_BYTES if i == 19 else LARGE_BYTES)


def huge_junk() -> st.SearchStrategy[bytes]:
    """A JSON array of up to 1.1 MB."""
    return _huge_sizes.map(lambda size: _dumps(["x" * 1000] * (size // 1000)))


def huge_id(sample: st.SearchStrategy[JsonObject]) -> st.SearchStrategy[JsonObject]:
    """A message whose event_id is a string of up to 1.1 MB (its start told apart)."""
    return st.builds(
        lambda body, unique, size: {**body, "event_id": f"{unique}{'f' * size}"},
        sample,
        st.uuids(),
        _huge_sizes,
    )


def unknown_type(sample: st.SearchStrategy[JsonObject]) -> st.SearchStrategy[JsonObject]:
    """A valid message under a type no topic has: a string, or no string at all."""
    return st.builds(
        lambda body, kind: {**body, "type": kind},
        sample,
        st.one_of(
            st.text(max_size=100).filter(lambda name: name not in EVENT_TYPES),
            st.sampled_from(["Registration.Made", "registration.made.v2", "registration_made"]),
            st.lists(st.sampled_from(sorted(EVENT_TYPES)), min_size=1, max_size=2),
            st.one_of(st.none(), st.integers(), st.dictionaries(st.text(max_size=5), st.none())),
        ),
    )


def foreign_type(topic: Topic, sample: st.SearchStrategy[JsonObject]) -> st.SearchStrategy[Any]:
    """On intake: every fact type (valid facts, too); on a fact topic: an intake command's type,
    or a fact type of a topic the consumers do not read, with the topic's own payload."""
    if topic is Topic.INTAKE:
        foreign = sorted(name for name, t in TOPIC_OF_TYPE.items() if t is not Topic.INTAKE)
    else:
        unread = {Topic.INTAKE, Topic.INTAKE_REJECTED}
        foreign = sorted(name for name, t in TOPIC_OF_TYPE.items() if t in unread)
    return st.builds(lambda body, kind: {**body, "type": kind}, sample, st.sampled_from(foreign))


def wrong_version(sample: st.SearchStrategy[JsonObject]) -> st.SearchStrategy[JsonObject]:
    """A valid message claiming a version of its type that does not exist (the contract has
    version 1 of each), or a version that is no version."""
    versions = st.one_of(
        st.integers(min_value=2),
        st.integers(max_value=0),
        st.sampled_from(["zwei", "1.0.0", None, 1.5, [1], {"v": 1}]),
    )
    return st.builds(lambda body, version: {**body, "version": version}, sample, versions)


def bad_envelope(sample: st.SearchStrategy[JsonObject]) -> st.SearchStrategy[JsonObject]:
    """An envelope field the contract refuses: ids that are none, times out of range or naive,
    strings beyond their bounds."""
    replacements: dict[str, st.SearchStrategy[Any]] = {
        "event_id": st.one_of(st.text(max_size=50), st.integers(), st.none()),
        "occurred_at": st.sampled_from(
            ["2026-05-01T10:00:00", "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59Z",
             "gestern", 1_700_000_000, None]
        ),
        "producer": st.sampled_from(["", "p" * 101, None, 42]),
        "key": st.sampled_from(["k" * 201, 17, ["a"]]),
        "correlation_id": st.just("c" * 201),
        "data": st.one_of(_json_scalars, st.lists(_json_values, max_size=3)),
    }  # fmt: skip
    return invalid(
        st.builds(
            lambda body, changed: {**body, **changed},
            sample,
            st.sampled_from(sorted(replacements)).flatmap(
                lambda name: replacements[name].map(lambda value: {name: value})
            ),
        )
    )


def missing_field(sample: st.SearchStrategy[JsonObject]) -> st.SearchStrategy[JsonObject]:
    """A payload field removed, at any depth."""
    return sample.flatmap(
        lambda body: st.sampled_from(_paths(body["data"])).map(
            lambda path: {**body, "data": _without(body["data"], path)}
        )
    )


def wrong_field(sample: st.SearchStrategy[JsonObject]) -> st.SearchStrategy[JsonObject]:
    """A payload field, at any depth, replaced by a value of another JSON type."""
    return sample.flatmap(
        lambda body: st.tuples(st.sampled_from(_paths(body["data"])), _json_values).map(
            lambda change: {**body, "data": _replaced(body["data"], *change)}
        )
    )


def deep_data(sample: st.SearchStrategy[JsonObject]) -> st.SearchStrategy[JsonObject]:
    """A payload field holding JSON nested as deeply as the parser still reads."""
    return st.builds(
        lambda body, depth, name: {**body, "data": {**body["data"], name: _nested(depth)}},
        sample,
        st.integers(min_value=100, max_value=900),
        sample.flatmap(lambda body: st.sampled_from(sorted(body["data"]))),
    )


def _nested(depth: int) -> Any:
    value: Any = "unten"
    for _ in range(depth):
        value = [value]
    return value


def invalid(strategy: st.SearchStrategy[JsonObject]) -> st.SearchStrategy[JsonObject]:
    """Only what the contract refuses (a removed field may have a default, a value may coerce)."""
    return strategy.filter(_refused_by_contract)


def _refused_by_contract(envelope: JsonObject) -> bool:
    try:
        parse_event(envelope)
    except (ValidationError, UnknownType):
        return True
    return False


Path = tuple[str | int, ...]


def _paths(value: Any, prefix: Path = ()) -> list[Path]:
    """Every path to a field or item inside `value`."""
    children: list[tuple[str | int, Any]] = []
    if isinstance(value, dict):
        children = list(value.items())
    elif isinstance(value, list):
        children = list(enumerate(value))
    found: list[Path] = []
    for name, child in children:
        found.append((*prefix, name))
        found.extend(_paths(child, (*prefix, name)))
    return found or [("missing",)]


def _at(value: Any, path: Path, change: Callable[[Any, str | int], Any]) -> Any:
    """A copy of `value` with `change` applied to the container of `path`'s last step."""
    if isinstance(value, dict):
        value = dict(value)
    elif isinstance(value, list):
        value = list(value)
    else:
        return value
    head, *rest = path
    if not rest:
        return change(value, head)
    if (isinstance(value, dict) and head in value) or (
        isinstance(value, list) and isinstance(head, int) and head < len(value)
    ):
        value[head] = _at(value[head], tuple(rest), change)  # type: ignore[index]
    return value


def _without(value: Any, path: Path) -> Any:
    def remove(container: Any, name: str | int) -> Any:
        if isinstance(container, dict):
            container.pop(name, None)
        elif isinstance(name, int) and name < len(container):
            del container[name]
        return container

    return _at(value, path, remove)


def _replaced(value: Any, path: Path, replacement: Any) -> Any:
    def replace(container: Any, name: str | int) -> Any:
        if isinstance(container, dict) or (isinstance(name, int) and name < len(container)):
            container[name] = replacement
        return container

    return _at(value, path, replace)
