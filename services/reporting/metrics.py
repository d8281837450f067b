"""The reporting service's metrics, defined once: computed from the read models (and the
broker's view of the consumer group) when /metrics is scraped, never counted in the process,
so every replica shows the same numbers, also after a restart, a replay or a rebuild.

`COLLECTOR` is registered with the default registry; the running service hands it each new
snapshot (scrape.py). Labels are bounded: forum id and title only of scheduled forums, e-mail
kinds from a fixed list (email_kinds.py), topics and partitions of the four fact topics.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from prometheus_client import REGISTRY
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector


@dataclass(frozen=True)
class MetricSpec:
    name: str  # without _total: prometheus_client appends it to counters
    kind: str  # counter, gauge or histogram
    documentation: str
    labels: tuple[str, ...] = ()

    def family(self) -> GaugeMetricFamily | CounterMetricFamily:
        """An empty family of a gauge or a counter, to add the samples to."""
        if self.kind == "counter":
            return CounterMetricFamily(self.name, self.documentation, labels=self.labels)
        assert self.kind == "gauge", self.name
        return GaugeMetricFamily(self.name, self.documentation, labels=self.labels)

    def histogram(self) -> HistogramMetricFamily:
        assert self.kind == "histogram", self.name
        return HistogramMetricFamily(self.name, self.documentation, labels=self.labels)

    def described(self) -> Metric:
        return self.histogram() if self.kind == "histogram" else self.family()

    @property
    def exported_name(self) -> str:
        return f"{self.name}_total" if self.kind == "counter" else self.name


PREFIX = "dialognet_reporting_"
# Scheduled forums only; the topics and partitions of the four fact topics.
FORUM = ("forum_id", "title")
TOPIC = ("topic",)


def _gauge(name: str, documentation: str, labels: tuple[str, ...] = ()) -> MetricSpec:
    return MetricSpec(PREFIX + name, "gauge", documentation, labels)


def _counter(name: str, documentation: str, labels: tuple[str, ...] = ()) -> MetricSpec:
    return MetricSpec(PREFIX + name, "counter", documentation, labels)


ORGANIZATIONS = _gauge(
    "organizations", "Organisations by status (prospect, interested, partner, former) and kind",
    ("status", "kind"),
)  # fmt: skip
FORUM_CAPACITY = _gauge("forum_capacity_seats", "Seats of each scheduled forum", FORUM)
FORUM_SEATS_CONFIRMED = _gauge(
    "forum_seats_confirmed", "Seats taken by confirmed registrations, per scheduled forum", FORUM
)
FORUM_SEATS_REMAINING = _gauge(
    "forum_seats_remaining", "Seats still free, per scheduled forum", FORUM
)
FORUM_WAITLIST = _gauge(
    "forum_waitlist_length", "Registrations on the waiting list, per scheduled forum", FORUM
)
REGISTRATIONS = _counter("registrations", "Registrations made, over all forums")
CANCELLATIONS = _counter(
    "registration_cancellations",
    "Registrations cancelled (by the registrant, staff, intake or the forum's cancellation)",
)
REGISTRATIONS_CURRENT = _gauge(
    "registrations_current", "Registrations by their current status", ("status",)
)
FORUMS = _gauge("forums", "Forums by status (scheduled, held, cancelled)", ("status",))
FORUMS_HELD = _counter("forums_held", "Forums held")
ATTENDANCE = _counter("forum_attendance", "People who attended the forums held")
EMAILS = _counter(
    "emails", "E-mail deliveries by kind and latest result (sent, failed)", ("kind", "result")
)
CONSUMER_LAG = _gauge(
    "consumer_lag_messages",
    "Messages the reporting consumer group has not committed yet, per topic and partition",
    ("topic", "partition"),
)
EVENT_LATENCY = MetricSpec(
    PREFIX + "event_latency_seconds", "histogram",
    "From an event's occurred_at to its commit in the read models, per topic", TOPIC,
)  # fmt: skip
DEAD_LETTERS = _counter(
    "dead_letters", "Messages the reporting consumer moved to <topic>.dlq, per source topic", TOPIC
)
LAST_EVENT = _gauge(
    "last_event_timestamp_seconds",
    "occurred_at of the latest event applied, per topic (Unix time)",
    TOPIC,
)
EVENTS = _counter("events", "Events applied to the read models, per topic", TOPIC)
GENERATION = _gauge(
    "read_model_generation",
    "The live generation of the read models (rises by one with each rebuild)",
)
UP_TO_DATE = _gauge(
    "metrics_scrape_success",
    "1 when the read models could be read for this scrape, 0 when the numbers are older",
)

ALL: tuple[MetricSpec, ...] = (
    ORGANIZATIONS, FORUM_CAPACITY, FORUM_SEATS_CONFIRMED, FORUM_SEATS_REMAINING, FORUM_WAITLIST,
    REGISTRATIONS, CANCELLATIONS, REGISTRATIONS_CURRENT, FORUMS, FORUMS_HELD, ATTENDANCE, EMAILS,
    CONSUMER_LAG, EVENT_LATENCY, DEAD_LETTERS, LAST_EVENT, EVENTS, GENERATION, UP_TO_DATE,
)  # fmt: skip


class ReadModelCollector(Collector):
    """Serves the latest snapshot; `describe` names every family (the deploy tests read it)."""

    def __init__(self, specs: Sequence[MetricSpec]) -> None:
        self._specs = specs
        self._snapshot: list[Metric] = []

    def set_snapshot(self, families: Iterable[Metric]) -> None:
        self._snapshot = list(families)

    def clear(self) -> None:
        """No numbers until the next snapshot."""
        self._snapshot = []

    def collect(self) -> Iterable[Metric]:
        return list(self._snapshot)

    def describe(self) -> Iterable[Metric]:
        return [spec.described() for spec in self._specs]


COLLECTOR = ReadModelCollector(ALL)
REGISTRY.register(COLLECTOR)
