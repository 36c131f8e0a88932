"""Provider inputs as the Pulumi engine hands them over (serialized provider included, numbers as floats)."""

from __future__ import annotations

from typing import Any

DEFAULT_OPERATION_TIMEOUT_SECONDS = 3600  # model deployments can take 15-30 minutes


def without_provider(props: dict[str, Any]) -> dict[str, Any]:
    """``props`` minus the engine's bookkeeping keys (``__provider``), which never belong in outputs."""
    return {k: v for k, v in props.items() if not k.startswith("__")}


def timeout_of(props: dict[str, Any]) -> float:
    """Seconds to wait for one long-running operation (``timeout_seconds``, default one hour)."""
    return float(props.get("timeout_seconds") or DEFAULT_OPERATION_TIMEOUT_SECONDS)
