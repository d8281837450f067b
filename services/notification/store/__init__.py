"""SQL of the notification schema; functions take the connection, callers own transactions."""

SCHEMA = "notification"
