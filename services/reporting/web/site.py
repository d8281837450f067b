"""The dashboard site (pages, static files)."""

from fastapi import FastAPI


def install(app: FastAPI) -> None:
    """Mount the pages and `/static/`."""
