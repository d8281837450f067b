"""Notification's rules: which e-mail each fact causes, to whom, and when not to send it."""
