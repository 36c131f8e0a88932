"""Kubernetes resource quantities ("250m", "1Gi", "2"): validation and comparison."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

# The pattern the API server's OpenAPI schema uses for resource.Quantity.
QUANTITY_PATTERN = (
    r"^(\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))))?$"
)
_QUANTITY = re.compile(QUANTITY_PATTERN)
_NUMBER = re.compile(r"^([+-]?[0-9.]+)([eE][+-]?[0-9]+|[numkMGTPE]i?|)$")

_SUFFIX: dict[str, Decimal] = {
    "": Decimal(1),
    "n": Decimal("1e-9"),
    "u": Decimal("1e-6"),
    "m": Decimal("1e-3"),
    "k": Decimal("1e3"),
    "M": Decimal("1e6"),
    "G": Decimal("1e9"),
    "T": Decimal("1e12"),
    "P": Decimal("1e15"),
    "E": Decimal("1e18"),
    "Ki": Decimal(2**10),
    "Mi": Decimal(2**20),
    "Gi": Decimal(2**30),
    "Ti": Decimal(2**40),
    "Pi": Decimal(2**50),
    "Ei": Decimal(2**60),
}


def parse_quantity(value: str | int) -> Decimal:
    """The quantity's value in base units (cores, bytes, count); ValueError if it is not a quantity."""
    text = str(value).strip()
    match = _NUMBER.match(text)
    if not _QUANTITY.match(text) or match is None:
        raise ValueError(f"{value!r} is not a Kubernetes quantity (e.g. 500m, 2, 1Gi)")
    number, suffix = match.groups()
    try:
        base = Decimal(number)
        if suffix[:1] in ("e", "E"):
            return base * (Decimal(10) ** int(suffix[1:]))
        return base * _SUFFIX[suffix]
    except (InvalidOperation, KeyError) as exc:
        raise ValueError(f"{value!r} is not a Kubernetes quantity") from exc


def quantity(value: str) -> str:
    """Validator: ``value`` unchanged when it is a positive quantity."""
    if parse_quantity(value) <= 0:
        raise ValueError(f"{value!r} must be greater than zero")
    return value
