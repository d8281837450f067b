"""`python -m services.cli` is the same as the `dialognet` command (used for child processes)."""

from services.cli.main import main

main()
