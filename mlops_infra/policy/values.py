"""Reading Pulumi wire values safely: unknowns, optional nesting, lists-or-objects, JSON documents.

During ``pulumi preview`` a value computed from another resource is not known yet; the engine
sends a sentinel string in its place. A rule that needs such a value raises :class:`UnknownValue`
and the check is skipped with an advisory note (what pulumi-policy does), never a crash.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, TypeGuard

# The engine's placeholders for values not known until deploy (same strings pulumi-policy uses).
UNKNOWN_SENTINELS: dict[str, str] = {
    "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7": "boolean",
    "3eeb2bf0-c639-47a8-9e75-3b44932eb421": "number",
    "04da6b54-80e4-46f7-96ec-b56ff0331ba9": "string",
    "6a19a0b0-7e62-4c92-b797-7f8e31da9cc2": "Array",
    "030794c1-ac77-496b-92df-f27374a8bd58": "asset",
    "e48ece36-62e2-4504-bad9-02848725956a": "archive",
    "dd056dcd-154b-4c76-9bd3-c8f88648b5ff": "Object",
}
UNKNOWN_STRING = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"


class UnknownValue(Exception):  # noqa: N818 - mirrors pulumi-policy's UnknownValueError
    """A value a rule needs is not known until deploy."""

    def __init__(self, sentinel: str, path: str) -> None:
        self.sentinel = sentinel
        self.path = path
        kind = UNKNOWN_SENTINELS.get(sentinel, "value")
        super().__init__(f"{kind} value at .{path} can't be known during preview")


def is_unknown(value: Any) -> TypeGuard[str]:
    """True for the engine's 'known after deploy' placeholders."""
    return isinstance(value, str) and value in UNKNOWN_SENTINELS


def known(value: Any, path: str) -> Any:
    """``value`` itself, or :class:`UnknownValue` when it is a placeholder."""
    if is_unknown(value):
        raise UnknownValue(value, path)
    return value


_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def get(props: Any, path: str) -> Any:
    """Nested lookup by path (``a.b[0].c``); None when any step is missing. Unknown steps raise UnknownValue.

    A key step into a list (a Terraform block with at most one item) uses its first element.
    """
    current = props
    walked = ""
    for key, index in _PART.findall(path):
        if is_unknown(current):
            raise UnknownValue(current, walked or path)
        if index:
            if not isinstance(current, Sequence) or isinstance(current, str) or int(index) >= len(current):
                return None
            current = current[int(index)]
            walked += f"[{index}]"
            continue
        if isinstance(current, Sequence) and not isinstance(current, str):
            current = current[0] if current else None
        if not isinstance(current, Mapping):
            return None
        current = current.get(key)
        walked = f"{walked}.{key}" if walked else key
    return known(current, path)


def is_set(value: Any) -> bool:
    """A property the user gave a value: non-empty, or computed from another resource (unknown)."""
    if is_unknown(value):
        return True
    if value is None:
        return False
    if isinstance(value, (str, list, tuple, dict)):
        return len(value) > 0
    return True


def items(value: Any, path: str) -> list[Any]:
    """A property that may be a list or a single object, as a list (empty when absent)."""
    known(value, path)
    if value is None:
        return []
    if isinstance(value, Mapping):
        return [value]
    if isinstance(value, Sequence) and not isinstance(value, str):
        return list(value)
    return [value]


def is_true(value: Any, path: str) -> bool:
    """Booleans as Pulumi sends them: real bools, or "true"/"false" strings in provider config."""
    known(value, path)
    if isinstance(value, str):
        return value.strip().lower() == "true"
    return value is True


def as_document(value: Any, path: str) -> Any:
    """A JSON document property (IAM policy, pipeline definition) parsed; dicts pass through."""
    known(value, path)
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return None
    return value


def contains_unknown(value: Any) -> str | None:
    """The first placeholder anywhere inside ``value`` (JSON text included), if any."""
    if is_unknown(value):
        return str(value)
    if isinstance(value, str):
        return next((s for s in UNKNOWN_SENTINELS if s in value), None)
    if isinstance(value, Mapping):
        return next((u for v in value.values() if (u := contains_unknown(v))), None)
    if isinstance(value, Sequence):
        return next((u for v in value if (u := contains_unknown(v))), None)
    return None


def walk(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """Every (path, value) pair below ``value``, depth first, paths like ``a.b[0].c``."""
    yield path, value
    if isinstance(value, Mapping):
        for key, child in value.items():
            yield from walk(child, f"{path}.{key}" if path else str(key))
    elif isinstance(value, Sequence) and not isinstance(value, str):
        for index, child in enumerate(value):
            yield from walk(child, f"{path}[{index}]")
