"""Helpers for the contract tests: walking `$ref`s inside one JSON document."""

from collections.abc import Iterator
from typing import Any


def refs_in(node: Any) -> Iterator[str]:
    """Every `$ref` value anywhere in a decoded JSON document."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from refs_in(value)
    elif isinstance(node, list):
        for item in node:
            yield from refs_in(item)


def resolves(document: Any, ref: str) -> bool:
    """Whether a local ref (`#/a/b`) names something inside `document`."""
    if not ref.startswith("#/"):
        return False
    target = document
    for token in ref.removeprefix("#/").split("/"):
        token = token.replace("~1", "/").replace("~0", "~")
        if not isinstance(target, dict) or token not in target:
            return False
        target = target[token]
    return True
