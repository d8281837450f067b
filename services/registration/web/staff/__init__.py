"""The staff console at /staff/: forums, their registrations, organisations and tokens, run
through the same command services as the API."""
