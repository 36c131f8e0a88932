"""Validation errors raised after pydantic, in the same shape (field path + reason)."""

from __future__ import annotations

from typing import Any

from pydantic_core import InitErrorDetails, PydanticCustomError, ValidationError


def field_error(model: str, field: str | tuple[str | int, ...], message: str, value: Any = None) -> ValidationError:
    """A pydantic ValidationError whose ``loc`` names ``field``; used for environment-dependent rules."""
    loc = (field,) if isinstance(field, str) else field
    return ValidationError.from_exception_data(
        model,
        [InitErrorDetails(type=PydanticCustomError("platform_rule", message), loc=loc, input=value)],
    )
