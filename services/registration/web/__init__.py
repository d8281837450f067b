"""Public pages of the registration service (server-rendered HTML that works without JavaScript)."""
