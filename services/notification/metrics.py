"""Metrics of the notification service, defined once (bounded labels: kind and result)."""

from prometheus_client import Counter, Gauge, Histogram

from services.runtime.metrics import LATENCY_BUCKETS

EMAILS = Counter(
    "dialognet_notification_emails_total",
    "E-mails by kind and what became of them (sent, failed, suppressed, retried)",
    ["kind", "result"],
)
SEND_DURATION = Histogram(
    "dialognet_notification_send_duration_seconds",
    "Handing one message to the SMTP relay",
    buckets=LATENCY_BUCKETS,
)
EVENT_TO_SENT = Histogram(
    "dialognet_notification_event_to_sent_seconds",
    "From the fact's occurred_at to the relay accepting its e-mail",
    buckets=LATENCY_BUCKETS,
)
RETRY_QUEUE = Gauge(
    "dialognet_notification_retry_queue_depth",
    "Deliveries waiting to be tried again after a transient SMTP failure (all replicas)",
)
OLDEST_QUEUED = Gauge(
    "dialognet_notification_oldest_queued_age_seconds",
    "Age of the oldest delivery not yet sent, failed or suppressed (all replicas)",
)
