"""Output helpers that keep a program's Outputs proportional to its data flow, not to its data.

``pulumi.Output.json_dumps(document)`` first lifts the whole document into Outputs: every key,
value and list item of a policy or event pattern becomes an Output of its own (``Output.from_input``
recurses), each with a future and a task, although only the few values taken from other resources
are unknown. :func:`json_text` waits on exactly those values and renders the text once. The JSON,
its secrecy, its dependencies and its unknown-at-preview behaviour are the same.
"""

from __future__ import annotations

import json
from typing import Any

import pulumi


def _outputs_in(value: Any, found: list[pulumi.Output[Any]]) -> None:
    if isinstance(value, pulumi.Output):
        found.append(value)
    elif isinstance(value, dict):
        for item in value.values():
            _outputs_in(item, found)
    elif isinstance(value, (list, tuple)):
        for item in value:
            _outputs_in(item, found)


def _substituted(value: Any, resolved: dict[int, Any]) -> Any:
    if isinstance(value, pulumi.Output):
        return resolved[id(value)]
    if isinstance(value, dict):
        return {key: _substituted(item, resolved) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_substituted(item, resolved) for item in value]
    return value


def json_text(document: Any) -> pulumi.Output[str]:
    """``document`` as JSON text (``json.dumps`` defaults), its nested Outputs resolved at deploy time.

    Unknown while any nested Output is unknown (preview), secret when any is secret, and depending
    on every resource they depend on, as ``pulumi.Output.json_dumps``.
    """
    found: list[pulumi.Output[Any]] = []
    _outputs_in(document, found)
    if not found:
        return pulumi.Output.from_input(json.dumps(document))

    def render(values: list[Any]) -> str:
        resolved = {id(output): value for output, value in zip(found, values, strict=True)}
        return json.dumps(_substituted(document, resolved))

    return pulumi.Output.all(*found).apply(render)
