"""The platform's identity store: the bearer tokens every service accepts, in schema `access`."""
