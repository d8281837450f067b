"""Metrics of the runtime parts every service shares; services define their own beside them."""

from prometheus_client import Counter, Gauge, Histogram

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)

OUTBOX_PUBLISHED = Counter(
    "dialognet_outbox_published_total", "Outbox events published to Kafka", ["schema"]
)
OUTBOX_PUBLISH_FAILURES = Counter(
    "dialognet_outbox_publish_failures_total",
    "Relay rounds that failed and will be retried",
    ["schema"],
)
OUTBOX_FAILED = Counter(
    "dialognet_outbox_failed_total",
    "Outbox events refused for good and marked failed, left for `dialognet replay --failed`",
    # reason: one of services.runtime.refusals (too_large, invalid_topic, invalid_record)
    ["schema", "reason"],
)
OUTBOX_PENDING = Gauge(
    "dialognet_outbox_pending_events",
    "Outbox events not yet published (at last scrape)",
    ["schema"],
)
BACKGROUND_TASK_RESTARTS = Counter(
    "dialognet_background_task_restarts_total",
    "Restarts of a supervised background task (the outbox relay) after it crashed",
    ["task"],
)
BACKGROUND_TASK_RUNNING = Gauge(
    "dialognet_background_task_running",
    "1 while a supervised background task runs; 0 while it waits to restart, ended or stopped",
    ["task"],
)
CONSUMED = Counter(
    "dialognet_consumer_messages_total",
    "Messages a consumer finished with, by outcome (processed, duplicate, rejected, dead_lettered)",
    ["consumer", "outcome"],
)
CONSUMER_RETRIES = Counter(
    "dialognet_consumer_retries_total", "Transient failures that will be redelivered", ["consumer"]
)
PROCESSING_LATENCY = Histogram(
    "dialognet_consumer_event_latency_seconds",
    "From the event's occurred_at to the end of its processing",
    ["consumer"],
    buckets=LATENCY_BUCKETS,
)
CONSUMER_LAG = Gauge(
    "dialognet_consumer_lag_messages",
    "Messages behind the partition end, as seen at the last processed message",
    ["consumer", "topic", "partition"],
)
HTTP_REQUESTS = Counter(
    "dialognet_http_requests_total",
    "HTTP requests answered",
    ["service", "method", "route", "status"],
)
HTTP_DURATION = Histogram(
    "dialognet_http_request_duration_seconds",
    "HTTP request handling time",
    ["service", "method", "route"],
    buckets=LATENCY_BUCKETS,
)
TOKEN_LOOKUPS = Counter(
    "dialognet_token_lookups_total",
    "Bearer tokens not in the role cache, by outcome: known or unknown (looked up in the access"
    " store), refused (not looked up: the address presented too many unknown tokens)",
    ["outcome"],
)
