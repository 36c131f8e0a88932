"""The spec's foundations: the strict base model, Input-aware strings, and the one error builder.

Every spec model (and every cloud's Args built on it) derives from :class:`Spec`: unknown
fields are errors, models are immutable, booleans are strict (``'yes'`` is not ``True``), and a
value known only at deploy time (a ``pulumi.Output``) is accepted wherever a string could come
from another resource.
"""

from __future__ import annotations

from typing import Annotated, Any, Union

import pulumi
from pydantic import BaseModel, ConfigDict, InstanceOf, Strict, WithJsonSchema
from pydantic_core import InitErrorDetails, PydanticCustomError, ValidationError

# A string known now, or only at deploy time (an ARN, a bucket name, a URI from another resource).
# pydantic checks Outputs with isinstance, which needs the bare (unparameterized) class; editors
# see a plain string in the JSON Schema.
StrInput = Annotated[Union[str, InstanceOf[pulumi.Output]], WithJsonSchema({"type": "string"})]  # type: ignore[type-arg]

# A security or behaviour switch: only true/false, never 'yes', 1 or 'on'.
Switch = Annotated[bool, Strict()]

ERROR_TYPE = "mlops_infra"


class Spec(BaseModel):
    """Base of every spec model: strict, immutable, no unknown fields, no NaN or infinite numbers."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        arbitrary_types_allowed=True,
        validate_default=True,
        use_attribute_docstrings=True,
        allow_inf_nan=False,
    )


def field_error(
    model: type[BaseModel] | str, location: tuple[str | int, ...], message: str, value: Any = None
) -> ValidationError:
    """A pydantic ValidationError for one field: the path and the reason, with no ``Value error,`` prefix.

    The one builder for checks that need more than the field itself (the environment, the
    target cloud, another field): raise it before anything is registered.
    """
    title = model if isinstance(model, str) else model.__name__
    detail: InitErrorDetails = {
        "type": PydanticCustomError(ERROR_TYPE, "{reason}", {"reason": message}),
        "loc": location,
        "input": value,
    }
    return ValidationError.from_exception_data(title, [detail])


def is_known(value: object) -> bool:
    """True for a value known at plan time (not a ``pulumi.Output``)."""
    return not isinstance(value, pulumi.Output)
