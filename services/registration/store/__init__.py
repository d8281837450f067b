"""SQL of the registration schema; functions take the connection, callers own transactions."""

SCHEMA = "registration"
