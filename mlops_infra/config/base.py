"""Base model for component arguments: strict, immutable, and able to hold Pulumi Outputs."""

from __future__ import annotations

from typing import Any, TypeVar, Union

import pulumi
from pydantic import BaseModel, ConfigDict

# A string known now or only at deploy time (an ARN, a bucket name, a key id).
# pydantic checks Outputs with isinstance, which needs the bare (unparameterized) class.
StrInput = Union[str, pulumi.Output]  # type: ignore[type-arg]

ArgsT = TypeVar("ArgsT", bound="ComponentArgs")


class ComponentArgs(BaseModel):
    """Typed, validated arguments of a component; unknown fields are errors, not silently ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True, validate_default=True)


def validate_args(model: type[ArgsT], args: ArgsT | dict[str, Any] | None) -> ArgsT:
    """Accept an Args instance or a plain dict; raise pydantic's ValidationError naming the field."""
    if isinstance(args, model):
        return args
    return model.model_validate(args or {})
