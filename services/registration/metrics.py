"""Metrics of the registration service, defined once."""

from prometheus_client import Counter

REGISTRATIONS = Counter(
    "dialognet_registration_registrations_total", "Registrations admitted, by status", ["status"]
)
REJECTIONS = Counter(
    "dialognet_registration_rejections_total",
    "Commands refused (HTTP or intake), by reason: not_found, unauthenticated, forbidden,"
    " conflict, invalid (a rule on a field)",
    ["reason"],
)
