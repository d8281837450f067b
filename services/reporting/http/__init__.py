"""The reporting service's JSON and CSV endpoints."""
