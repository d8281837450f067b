"""What each service's user may do on the test cluster, as the issue says: registration writes
the fact topics and reads intake; notification reads the facts and writes `notifications`;
reporting only reads; each writes the dead-letter topics of what it reads, and reads as its own
consumer group. Every user may create the platform's topics (creating is not writing: whichever
service starts first creates them all)."""

from collections.abc import Iterable
from dataclasses import dataclass

from schemas.topics import Topic, dlq_name, topic_name
from services.notification.app import FACT_TOPICS
from services.notification.facts import CONSUMER as NOTIFICATION_CONSUMER
from services.registration.intake import CONSUMER as INTAKE_CONSUMER
from services.reporting.consumer import CONSUMER as REPORTING_CONSUMER
from services.reporting.projection.facts import CONSUMED_TOPICS as REPORTING_TOPICS

SERVICES = ("registration", "notification", "reporting")


@dataclass(frozen=True)
class Permissions:
    """A service's topics and consumer group (before the prefixes)."""

    writes: tuple[Topic, ...]
    reads: tuple[Topic, ...]
    consumer: str


PERMISSIONS = {
    "registration": Permissions(
        writes=(*FACT_TOPICS, Topic.INTAKE_REJECTED),
        reads=(Topic.INTAKE,),
        consumer=INTAKE_CONSUMER,
    ),
    "notification": Permissions(
        writes=(Topic.NOTIFICATIONS,), reads=FACT_TOPICS, consumer=NOTIFICATION_CONSUMER
    ),
    "reporting": Permissions(writes=(), reads=REPORTING_TOPICS, consumer=REPORTING_CONSUMER),
}


@dataclass(frozen=True)
class Acl:
    principal: str
    resource_type: str  # TOPIC, GROUP
    pattern_type: str  # LITERAL, PREFIXED
    name: str
    operation: str

    def line(self) -> str:
        """The line Acls.java reads."""
        fields = (self.principal, self.resource_type, self.pattern_type, self.name, self.operation)
        return "\t".join(fields)


def service_acls(service: str, topic_prefix: str, group_prefix: str) -> list[Acl]:
    """Every ACL of `service`'s user for a platform on `topic_prefix` and `group_prefix`."""
    allowed = PERMISSIONS[service]
    principal = f"User:{service}"
    written = [topic_name(topic, topic_prefix) for topic in allowed.writes]
    written += [dlq_name(topic, topic_prefix) for topic in allowed.reads]
    read = [topic_name(topic, topic_prefix) for topic in allowed.reads]

    def on_topics(names: Iterable[str], operation: str) -> list[Acl]:
        return [Acl(principal, "TOPIC", "LITERAL", name, operation) for name in names]

    return [
        Acl(principal, "TOPIC", "PREFIXED", topic_prefix, "CREATE"),
        # WRITE implies DESCRIBE, and since Kafka 3.0 IDEMPOTENT_WRITE (KIP-679).
        *on_topics(written, "WRITE"),
        *on_topics(read, "READ"),
        Acl(principal, "GROUP", "LITERAL", f"{group_prefix}{allowed.consumer}", "READ"),
    ]


def platform_acls(topic_prefix: str, group_prefix: str) -> list[Acl]:
    return [
        acl for service in SERVICES for acl in service_acls(service, topic_prefix, group_prefix)
    ]
