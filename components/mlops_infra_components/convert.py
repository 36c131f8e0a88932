"""From analyzer-friendly args back to the real component: plain values, validation, then the child.

The wire sends every number as a float and every enum as its value; the pydantic models want ints
where they say int and the enum's value where they say Literal. :func:`plain` undoes both, and the
real component's pydantic model then validates exactly as it does for Python users.
"""

import importlib
from enum import Enum
from typing import Any

import pulumi

from mlops_infra.component import PlatformComponent
from mlops_infra.conventions.context import current_platform

PACKAGE = "mlops-infra"


def plain(value: Any) -> Any:
    """``value`` with enums replaced by their values and whole floats (the wire's numbers) by ints.

    A float field accepts an int (pydantic widens it), a strict int field does not accept a float,
    so turning 3.0 into 3 is safe for both.
    """
    if isinstance(value, Enum):
        return plain(value.value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    return value


def component_class(path: tuple[str, str]) -> type[PlatformComponent[Any]]:
    """The real component class, imported when first built (the schema needs no cloud SDK)."""
    module, attribute = path
    cls = getattr(importlib.import_module(module), attribute)
    if not (isinstance(cls, type) and issubclass(cls, PlatformComponent)):
        raise TypeError(f"{module}.{attribute} is not a PlatformComponent")
    return cls


def build_wrapped(
    wrapper: pulumi.ComponentResource,
    *,
    type_name: str,
    name: str,
    args: Any,
    opts: pulumi.ResourceOptions | None,
    component: tuple[str, str],
) -> dict[str, pulumi.Output[Any]]:
    """Register ``wrapper`` (``mlops-infra:index:<type_name>``) and build the real component as its child.

    The args are validated by the real component's pydantic model and the stack settings are read
    before the wrapper registers, so a bad value raises the model's ValidationError (naming the field)
    with nothing registered. Returns the child's registered outputs, which the wrapper re-exports.
    """
    cls = component_class(component)
    model = cls.ARGS.model_validate(plain(dict(args or {})))
    current_platform()
    pulumi.ComponentResource.__init__(wrapper, f"{PACKAGE}:index:{type_name}", name, None, opts)
    registered: dict[str, Any] = {}
    child = cls.__new__(cls)
    original = child.register_outputs

    def capture(outputs: Any) -> None:
        registered.update(outputs)
        original(outputs)

    # The child is the unchanged class; only this instance's register_outputs also records the dict.
    setattr(child, "register_outputs", capture)  # noqa: B010
    cls.__init__(child, name, model, pulumi.ResourceOptions(parent=wrapper))
    outputs = {key: pulumi.Output.from_input(value) for key, value in registered.items()}
    wrapper.register_outputs(outputs)
    return outputs
