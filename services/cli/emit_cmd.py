"""`dialognet emit`: validate a message against the contract and publish it (for other systems)."""

import asyncio
from pathlib import Path

import typer
from pydantic import ValidationError

from schemas.catalog import TOPIC_OF_TYPE, UnknownType, parse_event
from schemas.envelope import Envelope, InvalidEnvelope, decode_envelope
from schemas.topics import Topic, topic_name
from services.cli.platform import DataDirOption, settings_for
from services.runtime import kafka
from services.runtime.settings import PlatformNotFound, Settings


def emit(
    file: Path = typer.Argument(
        ..., exists=True, dir_okay=False, help="JSON file with one envelope"
    ),
    topic_name_given: str = typer.Option(
        ...,
        "--topic",
        help="Topic, with or without the prefix: intake or dialognet.intake",
    ),
    data_dir: Path = DataDirOption,
) -> None:
    """Publish one message; refuses what the contract would reject, saying which field is wrong."""
    settings = settings_for(data_dir)
    topic = _topic(topic_name_given, settings.topic_prefix)
    envelope = _validated(file, topic)
    try:
        settings.bootstrap()
    except PlatformNotFound as error:
        raise typer.BadParameter(str(error)) from error
    asyncio.run(_publish(settings, topic, envelope))
    full_topic = topic_name(topic, settings.topic_prefix)
    typer.echo(f"published {envelope.type} {envelope.event_id} to {full_topic}")


def _topic(given: str, prefix: str) -> Topic:
    try:
        return Topic(given.removeprefix(prefix))
    except ValueError:
        known = ", ".join(topic.value for topic in Topic)
        raise typer.BadParameter(
            f"unknown topic {given!r}; one of {known} (prefix {prefix!r} optional)",
            param_hint="--topic",
        ) from None


def _validated(file: Path, topic: Topic) -> Envelope:
    try:
        raw = decode_envelope(file.read_bytes())
        expected = TOPIC_OF_TYPE.get(str(raw["type"]))
        if expected is not None and expected is not topic:  # said first: the likelier slip
            raise typer.BadParameter(
                f"{raw['type']} belongs on topic {expected.value!r}, not {topic.value!r}"
            )
        envelope = parse_event(raw)
    except InvalidEnvelope as error:
        raise typer.BadParameter(f"{file} is not an envelope: {error}") from error
    except UnknownType as error:
        raise typer.BadParameter(str(error)) from error
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(map(str, item['loc']))}: {item['msg']}" for item in error.errors()
        )
        raise typer.BadParameter(f"{file} does not match the contract: {problems}") from error
    return envelope


async def _publish(settings: Settings, topic: Topic, envelope: Envelope) -> None:
    producer = kafka.new_producer(settings)
    await producer.start()
    try:
        await producer.send_and_wait(
            topic_name(topic, settings.topic_prefix),
            value=envelope.to_json(),
            key=envelope.kafka_key(),
            headers=[(name, value.encode()) for name, value in envelope.kafka_headers().items()],
        )
    finally:
        await producer.stop()
