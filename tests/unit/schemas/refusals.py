"""The one message pydantic gives when a value is refused, for the unit tests of value types."""

from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError


def refusal(adapter: TypeAdapter[Any], value: object) -> str:
    """The message of the single error validating `value` raises (fails if it is accepted)."""
    with pytest.raises(ValidationError) as refused:
        adapter.validate_python(value)
    [error] = refused.value.errors()
    return str(error["msg"])
