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


ORGANIZATIONS = MetricSpec(
    "dialognet_reporting_organizations", "gauge",
    "Organisations by status (prospect, interested, partner, former) and kind",
    ("status", "kind"),
)  # fmt: skip
FORUM_CAPACITY = MetricSpec(
    "dialognet_reporting_forum_capacity_seats", "gauge",
    "Seats of each scheduled forum", ("forum_id", "title"),
)  # fmt: skip
FORUM_SEATS_CONFIRMED = MetricSpec(
    "dialognet_reporting_forum_seats_confirmed", "gauge",
    "Seats taken by confirmed registrations, per scheduled forum", ("forum_id", "title"),
)  # fmt: skip
FORUM_SEATS_REMAINING = MetricSpec(
    "dialognet_reporting_forum_seats_remaining", "gauge",
    "Seats still free, per scheduled forum", ("forum_id", "title"),
)  # fmt: skip
FORUM_WAITLIST = MetricSpec(
    "dialognet_reporting_forum_waitlist_length", "gauge",
    "Registrations on the waiting list, per scheduled forum", ("forum_id", "title"),
)  # fmt: skip
REGISTRATIONS = MetricSpec(
    "dialognet_reporting_registrations", "counter", "Registrations made, over all forums"
)
CANCELLATIONS = MetricSpec(
    "dialognet_reporting_registration_cancellations", "counter",
    "Registrations cancelled (by the registrant, staff, intake or the forum's cancellation)",
)  # fmt: skip
REGISTRATIONS_CURRENT = MetricSpec(
    "dialognet_reporting_registrations_current", "gauge",
    "Registrations by their current status", ("status",),
)  # fmt: skip
FORUMS = MetricSpec(
    "dialognet_reporting_forums", "gauge", "Forums by status (scheduled, held, cancelled)",
    ("status",),
)  # fmt: skip
FORUMS_HELD = MetricSpec("dialognet_reporting_forums_held", "counter", "Forums held")
ATTENDANCE = MetricSpec(
    "dialognet_reporting_forum_attendance", "counter", "People who attended the forums held"
)
EMAILS = MetricSpec(
    "dialognet_reporting_emails", "counter",
    "E-mail deliveries by kind and latest result (sent, failed)", ("kind", "result"),
)  # fmt: skip
CONSUMER_LAG = MetricSpec(
    "dialognet_reporting_consumer_lag_messages", "gauge",
    "Messages the reporting consumer group has not committed yet, per topic and partition",
    ("topic", "partition"),
)  # fmt: skip
EVENT_LATENCY = MetricSpec(
    "dialognet_reporting_event_latency_seconds", "histogram",
    "From an event's occurred_at to its commit in the read models, per topic", ("topic",),
)  # fmt: skip
DEAD_LETTERS = MetricSpec(
    "dialognet_reporting_dead_letters", "counter",
    "Messages the reporting consumer moved to <topic>.dlq, per source topic", ("topic",),
)  # fmt: skip
LAST_EVENT = MetricSpec(
    "dialognet_reporting_last_event_timestamp_seconds", "gauge",
    "occurred_at of the latest event applied, per topic (Unix time)", ("topic",),
)  # fmt: skip
EVENTS = MetricSpec(
    "dialognet_reporting_events", "counter", "Events applied to the read models, per topic",
    ("topic",),
)  # fmt: skip
GENERATION = MetricSpec(
    "dialognet_reporting_read_model_generation", "gauge",
    "The live generation of the read models (rises by one with each rebuild)",
)  # fmt: skip
UP_TO_DATE = MetricSpec(
    "dialognet_reporting_metrics_scrape_success", "gauge",
    "1 when the read models could be read for this scrape, 0 when the numbers are older",
)  # fmt: skip

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

    def collect(self) -> Iterable[Metric]:
        return list(self._snapshot)

    def describe(self) -> Iterable[Metric]:
        return [spec.described() for spec in self._specs]


COLLECTOR = ReadModelCollector(ALL)
REGISTRY.register(COLLECTOR)
