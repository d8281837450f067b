"""Metrics of the mail sink, beside the HTTP metrics every service exports."""

from prometheus_client import Counter

MESSAGES_RECEIVED = Counter(
    "dialognet_mailbox_messages_received_total", "Messages the mail sink accepted and stored"
)
BYTES_RECEIVED = Counter(
    "dialognet_mailbox_received_bytes_total", "Size of the messages the mail sink stored"
)
STORE_FAILURES = Counter(
    "dialognet_mailbox_store_failures_total",
    "Messages refused with a temporary error (451) because they could not be stored",
)
