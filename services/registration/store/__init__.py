"""SQL of the registration schema; functions take the connection, the caller owns the transaction."""

SCHEMA = "registration"
