"""Base model for component arguments: the spec's strict, immutable base, able to hold Pulumi Outputs.

Component args and the cloud-neutral spec share one base (:class:`mlops_infra.spec.base.Spec`),
so a cloud's args can be "the neutral spec plus that cloud's extras".
"""

from __future__ import annotations

from typing import Any, TypeVar

from mlops_infra.spec.base import Spec, StrInput


class ComponentArgs(Spec):
    """Typed, validated arguments of a component; unknown fields are errors, not silently ignored."""


ArgsT = TypeVar("ArgsT", bound=Spec)

__all__ = ["ArgsT", "ComponentArgs", "StrInput", "validate_args"]


def validate_args(model: type[ArgsT], args: ArgsT | dict[str, Any] | None) -> ArgsT:
    """Accept an Args instance or a plain dict; raise pydantic's ValidationError naming the field."""
    if isinstance(args, model):
        return args
    return model.model_validate(args or {})
