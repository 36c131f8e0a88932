"""State kept per running stack: on the run's root Stack resource, so it goes with the run.

Components share some state across a stack (the platform context, the platform key, a service
agent's grant on it, the account id read once). Keying such tables by the root resource in a weak-keyed map leaks: the
values are resources whose parents lead back to the root, so the key never dies and every run of a
process that plans repeatedly stays alive. Kept as an attribute of the root instead, the table is
part of the run's object graph and is freed with it.
"""

from __future__ import annotations

from typing import Any

from pulumi.runtime.settings import get_root_resource


def per_stack_table(name: str) -> dict[Any, Any]:
    """The running stack's table ``name`` (created empty on first use); a fresh one outside a stack."""
    root = get_root_resource()
    if root is None:
        return {}
    table: dict[Any, Any] = root.__dict__.setdefault(f"_mlops_infra_{name}", {})
    return table
