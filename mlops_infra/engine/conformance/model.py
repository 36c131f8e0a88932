"""The provider SDK's input types as a small model the validator walks.

Compiled from the type hints of the SDK's ``@pulumi.input_type`` Args classes: ``Input[...]``,
``Optional[...]`` and ``Output[...]`` are wrappers (the wire carries the plain value), ``Sequence``
is a list, ``Mapping[str, T]`` a map, an Args class an object with wire-named properties, a
``str`` enum its values (open enums, ``Union[str, Enum]``, accept any string as the schema does).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

ScalarKind = Literal["string", "integer", "number", "boolean"]


@dataclass(frozen=True)
class Scalar:
    """A JSON scalar: ``integer`` needs a whole number; ``number`` takes any; booleans are not numbers."""

    kind: ScalarKind


@dataclass(frozen=True)
class EnumOf:
    """A closed string enum (the SDK's ``str`` Enum class, not in a union with ``str``)."""

    name: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class ListOf:
    item: TypeSpec


@dataclass(frozen=True)
class MapOf:
    """An object with free keys (tags, labels, environment variables) and values of one type."""

    value: TypeSpec


@dataclass(frozen=True)
class AnyOf:
    """A union: the value must match at least one member."""

    members: tuple[TypeSpec, ...]


@dataclass(frozen=True)
class AssetOrArchive:
    """A ``pulumi.Asset``/``Archive`` (captured as ``{"asset": kind, "path": ...}``)."""


@dataclass(frozen=True)
class Unchecked:
    """A type this model does not check (``Any``, JSON blobs, unresolvable hints)."""

    reason: str


@dataclass(frozen=True)
class ObjectRef:
    """An Args class, compiled lazily on first visit (nested types can be recursive)."""

    cls: type


@dataclass(frozen=True)
class ObjectSchema:
    """The wire-named properties of an Args class; ``required`` are the ``__init__`` params without defaults."""

    name: str
    properties: dict[str, TypeSpec]
    required: frozenset[str]
    python_names: dict[str, str]  # python_name -> wire name, to suggest the wire name of a snake_case key


TypeSpec = Scalar | EnumOf | ListOf | MapOf | AnyOf | AssetOrArchive | Unchecked | ObjectRef
