"""The embedded mail sink of `dialognet up`: an SMTP server that keeps every message it receives
in the data dir, with a web view and a JSON API to read them (app.py composes it)."""
