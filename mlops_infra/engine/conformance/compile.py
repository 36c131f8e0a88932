"""Compile the type hints of a provider SDK's Args class into the conformance model (cached per class)."""

from __future__ import annotations

import collections.abc
import enum
import functools
import inspect
import types
import typing
from typing import Any

import pulumi
from pulumi._types import input_type_py_to_pulumi_names, is_input_type

from mlops_infra.engine.conformance.model import (
    AnyOf,
    AssetOrArchive,
    EnumOf,
    ListOf,
    MapOf,
    ObjectRef,
    ObjectSchema,
    Scalar,
    TypeSpec,
    Unchecked,
)

_SEQUENCES = (list, tuple, collections.abc.Sequence)
_MAPPINGS = (dict, collections.abc.Mapping)
_WRAPPERS = (collections.abc.Awaitable, pulumi.Output)  # the Input[T] members besides T itself
_STRING = Scalar("string")


def _union_members(args: tuple[Any, ...]) -> list[Any]:
    """The members a plain wire value can take: without None, Awaitable[T], Output[T] and the dict form of Args."""
    members = [
        a for a in args if a is not type(None) and typing.get_origin(a) not in _WRAPPERS and a is not pulumi.Output
    ]
    if any(isinstance(a, type) and is_input_type(a) for a in members):
        # InputType[T] = Union[T, Mapping[str, Any]]: the mapping is T written as a dict, not another type.
        members = [a for a in members if typing.get_origin(a) not in _MAPPINGS]
    return members


def _compile_union(args: tuple[Any, ...]) -> TypeSpec:
    compiled: list[TypeSpec] = []
    for member in _union_members(args):
        spec = compile_hint(member)
        if spec not in compiled:
            compiled.append(spec)
    if _STRING in compiled:  # an open enum (Union[str, Enum]) takes any string, as the provider schema says
        compiled = [c for c in compiled if not isinstance(c, EnumOf)]
    if any(isinstance(c, Unchecked) for c in compiled):
        return next(c for c in compiled if isinstance(c, Unchecked))
    if not compiled:
        return Unchecked("no wire type")
    return compiled[0] if len(compiled) == 1 else AnyOf(tuple(compiled))


def _compile_class(hint: type) -> TypeSpec:
    if issubclass(hint, enum.Enum):
        return EnumOf(hint.__name__, tuple(str(member.value) for member in hint))
    if issubclass(hint, bool):
        return Scalar("boolean")
    if issubclass(hint, int):
        return Scalar("integer")
    if issubclass(hint, float):
        return Scalar("number")
    if issubclass(hint, str):
        return _STRING
    if is_input_type(hint):
        return ObjectRef(hint)
    if issubclass(hint, (pulumi.Asset, pulumi.Archive)):
        return AssetOrArchive()
    return Unchecked(f"type {hint.__name__}")


def compile_hint(hint: Any) -> TypeSpec:
    """The model of one resolved type hint; anything unrecognised is ``Unchecked`` (never a false error)."""
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin is typing.Union or origin is types.UnionType:
        return _compile_union(args)
    if origin is typing.Literal:  # apiVersion and kind of a Kubernetes kind
        return EnumOf("the allowed values", tuple(str(a) for a in args))
    if origin is pulumi.Output and args:
        return compile_hint(args[0])
    if origin in _SEQUENCES and args:
        return ListOf(compile_hint(args[0]))
    if origin in _MAPPINGS and len(args) == 2:
        return MapOf(compile_hint(args[1]))
    if hint is Any:
        return Unchecked("any value")
    if isinstance(hint, type) and origin is None:
        return _compile_class(hint)
    return Unchecked(f"hint {hint!r}")


# ``Input[T]`` holds the forward reference 'Output[T]': resolved as the Pulumi SDK resolves it.
_LOCALS = {"Output": pulumi.Output, "T": type(None)}


def _property_specs(cls: type) -> dict[str, TypeSpec]:
    """Wire name -> the compiled return hint of its getter, resolved in the SDK module that defines the getter."""
    specs: dict[str, TypeSpec] = {}
    for python_name, wire_name in input_type_py_to_pulumi_names(cls).items():
        getter = getattr(inspect.getattr_static(cls, python_name, None), "fget", None)
        if getter is None:
            continue
        try:
            hint = typing.get_type_hints(getter, localns=_LOCALS).get("return")
        except (NameError, TypeError, AttributeError) as exc:  # an unresolvable forward reference: not checked
            specs[wire_name] = Unchecked(f"unresolved type hint: {exc}")
            continue
        specs[wire_name] = Unchecked("no type hint") if hint is None else compile_hint(hint)
    return specs


def _required(cls: type, python_names: dict[str, str]) -> frozenset[str]:
    """Wire names of the keyword ``__init__`` parameters without a default."""
    parameters = inspect.signature(cls.__init__).parameters.values()  # type: ignore[misc]
    return frozenset(
        python_names[p.name]
        for p in parameters
        if p.kind is inspect.Parameter.KEYWORD_ONLY and p.default is inspect.Parameter.empty and p.name in python_names
    )


@functools.cache
def object_schema(cls: type) -> ObjectSchema:
    """The compiled Args class: its properties by wire name, their types and the required ones."""
    python_names = input_type_py_to_pulumi_names(cls)
    return ObjectSchema(
        name=cls.__name__,
        properties=_property_specs(cls),
        required=_required(cls, python_names),
        python_names=python_names,
    )
