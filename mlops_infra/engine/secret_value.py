"""A captured secret: reads ``"[secret]"`` everywhere, and keeps only the shape of the value it hides.

Schema conformance checks a secret's type (a secret instance count must still be a number)
without the value: strings are emptied, numbers zeroed (0.5 for a fraction), booleans false,
objects and lists keep their keys and lengths. Equal to, hashed like and serialised as the
plain placeholder string.
"""

from __future__ import annotations

from typing import Any

SECRET_PLACEHOLDER = "[secret]"


def mask(value: Any) -> Any:
    """``value`` with every scalar replaced by a neutral value of the same JSON kind."""
    if isinstance(value, MaskedSecret):
        return value.shape
    if isinstance(value, dict):
        return {key: mask(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [mask(item) for item in value]
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return 0
    if isinstance(value, float):
        return 0.0 if value.is_integer() else 0.5
    if isinstance(value, str):
        return ""
    return None


class MaskedSecret(str):
    """The secret placeholder string, with ``shape``: the masked value (see :func:`mask`)."""

    shape: Any

    def __new__(cls, plain: Any = "") -> MaskedSecret:
        placeholder = super().__new__(cls, SECRET_PLACEHOLDER)
        placeholder.shape = mask(plain)
        return placeholder
