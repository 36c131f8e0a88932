"""Output helpers that keep a program's Outputs proportional to its data flow, not to its data.

``pulumi.Output.json_dumps(document)`` and ``Output.from_input(document)`` first lift the whole
document into Outputs: every key, value and list item of a policy or event pattern becomes an
Output of its own (``from_input`` recurses), each with a future and a task, although only the few
values taken from other resources are unknown. ``Output.all(a, b)`` lifts each of its arguments
again (one ``apply`` per argument) before gathering them. :func:`combined` derives a value from a
few Outputs with one ``apply`` per Output; :func:`resolved` and :func:`json_text` wait on exactly
the Outputs inside a document. Values, secrecy, dependencies and the unknown-at-preview behaviour
are those of the SDK's helpers.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

import pulumi
from pulumi.output import UNKNOWN
from pulumi.runtime.rpc import contains_unknowns

T = TypeVar("T")


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
    if isinstance(value, list):
        return [_substituted(item, resolved) for item in value]
    if isinstance(value, tuple):
        return tuple(_substituted(item, resolved) for item in value)
    return value


def _filled(document: Any, found: list[pulumi.Output[Any]], values: tuple[Any, ...]) -> Any:
    """``document`` with each Output in ``found`` replaced by the value at the same position."""
    return _substituted(document, {id(output): value for output, value in zip(found, values, strict=True)})


def combined(render: Callable[..., T], *sources: Any) -> pulumi.Output[T]:
    """``render(*values)`` once every Output among ``sources`` has its value; plain sources pass as they are.

    What ``Output.all(*sources).apply(lambda v: render(*v))`` gives for sources whose values hold no
    further Outputs (names, ARNs, ids): unknown at preview while any source is unknown (``render``
    does not run), secret when any is secret, depending on every source's resources. It costs one
    ``apply`` per Output instead of three Outputs per source and a gather.
    """
    positions = [index for index, source in enumerate(sources) if isinstance(source, pulumi.Output)]
    if not positions:
        return pulumi.Output.from_input(render(*sources))

    def after(level: int, values: tuple[Any, ...]) -> pulumi.Output[Any]:
        def take(value: Any) -> Any:
            taken = (*values, value)
            if level + 1 < len(positions):
                return after(level + 1, taken)
            if any(contains_unknowns(item) for item in taken):
                return UNKNOWN  # the result is unknown, with every source's resources and secrecy
            arguments = list(sources)
            for index, item in zip(positions, taken, strict=True):
                arguments[index] = item
            return render(*arguments)

        # Run on unknowns too, so the later sources' dependencies reach the result at preview.
        source: pulumi.Output[Any] = sources[positions[level]]
        return source.apply(take, run_with_unknowns=True)

    return after(0, ())


def _rendered(document: Any, render: Callable[[Any], T]) -> pulumi.Output[T]:
    """``render(document)`` with the Outputs inside the document replaced by their values, waiting on those only."""
    found: list[pulumi.Output[Any]] = []
    _outputs_in(document, found)
    return combined(lambda *values: render(_filled(document, found, values)), *found)


def resolved(document: T) -> pulumi.Output[T]:
    """``document`` (dicts, lists, scalars) with the Outputs inside it replaced by their values.

    ``Output.from_input(document)`` for documents without input-type classes, waiting only on the
    Outputs the document holds.
    """
    return _rendered(document, lambda filled: filled)


def concat(*parts: Any) -> pulumi.Output[str]:
    """``Output.concat(*parts)``: the parts' text joined, one ``apply`` per Output part."""
    return combined(lambda *values: "".join(values), *parts)


def json_text(document: Any) -> pulumi.Output[str]:
    """``document`` as JSON text (``json.dumps`` defaults), its nested Outputs resolved at deploy time.

    Unknown while any nested Output is unknown (preview), secret when any is secret, and depending
    on every resource they depend on, as ``pulumi.Output.json_dumps``.
    """
    return _rendered(document, json.dumps)
