"""SQL of the reporting schema, `$n` parameters only; functions take the connection."""

SCHEMA = "reporting"
