"""URNs of plain strings computed as strings, not as a chain of Outputs.

For every registration under mocks the SDK computes a "mock URN" (``create_urn(name, type,
parent_urn)``) before it calls the monitor, and discards it when a monitor answers, as the offline
engine's always does; alias specs go through the same function. With plain strings it still builds
five Outputs and their tasks (``from_input`` of each part, ``Output.all``, two ``apply``) for a value
known at once: about a seventh of the Outputs of a plan. While the offline engine runs a program,
:func:`plain_urn_strings` gives ``create_urn`` a path for plain strings that returns the same URN as
one known Output; anything else (an Output or a Resource as parent) takes the SDK's own path.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any, cast

import pulumi
from pulumi.runtime import resource as sdk_resource
from pulumi.runtime import settings


def _plain(value: Any) -> bool:
    return value is None or isinstance(value, str)


def _wrap(original: Any) -> Any:
    def create_urn(
        name: Any, type_: Any, parent: Any = None, project: str | None = None, stack: str | None = None
    ) -> pulumi.Output[str]:
        if not (isinstance(name, str) and isinstance(type_, str) and _plain(parent)):
            return cast(pulumi.Output[str], original(name, type_, parent, project, stack))
        if parent is not None:
            prefix = parent[: parent.rfind("::")] + "$"
        else:
            prefix = f"urn:pulumi:{stack or settings.get_stack()}::{project or settings.get_project()}::"
        return pulumi.Output.from_input(prefix + type_ + "::" + name)

    return create_urn


@contextlib.contextmanager
def plain_urn_strings() -> Iterator[None]:
    """Use the plain-string path of ``create_urn`` while the block runs (the SDK's own function after)."""
    original = sdk_resource.create_urn
    sdk_resource.create_urn = _wrap(original)
    try:
        yield
    finally:
        sdk_resource.create_urn = original
