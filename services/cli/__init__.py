"""The `dialognet` command line."""
