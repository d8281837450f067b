"""The projections: which rows of the read models each event writes (pure functions)."""
