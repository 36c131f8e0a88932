"""Walk a captured wire value against the conformance model; each problem is ``(property path, reason)``."""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from typing import Any

from pulumi.runtime.rpc import UNKNOWN

from mlops_infra.engine.conformance.compile import object_schema
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
from mlops_infra.engine.secret_value import SECRET_PLACEHOLDER, MaskedSecret

Problem = tuple[str, str]
_SHOWN_CHARS = 40


def describe(value: Any, secret: bool = False) -> str:
    """The JSON kind of ``value``, with a short excerpt of a scalar (never of a secret)."""
    kind = _kind(value)
    if secret:
        return f"a secret {kind}"
    if isinstance(value, str):
        shown = value if len(value) <= _SHOWN_CHARS else value[:_SHOWN_CHARS] + "..."
        return f"string {shown!r}"
    if kind in {"integer", "number", "boolean"}:
        return f"{kind} {value!r}"
    return kind


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer()):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def _spec_name(spec: TypeSpec) -> str:
    if isinstance(spec, Scalar):
        return spec.kind
    if isinstance(spec, EnumOf):
        return f"one of {spec.name}"
    if isinstance(spec, ListOf):
        return "list"
    if isinstance(spec, MapOf):
        return "map"
    if isinstance(spec, ObjectRef):
        return f"object {_display(object_schema(spec.cls))}"
    if isinstance(spec, AnyOf):
        return " or ".join(_spec_name(m) for m in spec.members)
    return "asset or archive" if isinstance(spec, AssetOrArchive) else "any"


def _display(schema: ObjectSchema) -> str:
    return schema.name.removesuffix("Args")


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _scalar_fits(kind: str, value: Any) -> bool:
    if kind == "string":
        return isinstance(value, str)
    if kind == "boolean":
        return isinstance(value, bool)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    return kind == "number" or isinstance(value, int) or value.is_integer()


def _suggestion(key: str, schema: ObjectSchema) -> str:
    wire = schema.python_names.get(key)
    if wire is not None and wire != key:
        return f"; did you mean {wire!r} (inputs use wire names, camelCase)?"
    close = difflib.get_close_matches(key, list(schema.properties), n=1, cutoff=0.75)
    return f"; did you mean {close[0]!r}?" if close else ""


def check_object(value: dict[str, Any], schema: ObjectSchema, path: str, secret: bool = False) -> Iterator[Problem]:
    """Unknown properties, missing required ones, then each property against its type."""
    for key in schema.required:
        if value.get(key) is None:
            yield _join(path, key), f"required property of {_display(schema)} is missing"
    for key, item in value.items():
        spec = schema.properties.get(key)
        if spec is None:
            yield _join(path, key), f"unknown property of {_display(schema)}{_suggestion(key, schema)}"
        elif item is not None:
            yield from check_value(item, spec, _join(path, key), secret)


def _check_any_of(value: Any, spec: AnyOf, path: str, secret: bool) -> Iterator[Problem]:
    attempts = [list(check_value(value, member, path, secret)) for member in spec.members]
    if any(not problems for problems in attempts):
        return
    # One member of the value's own shape (the one object of the union, say): its problems are the precise ones.
    shaped = [
        problems
        for member, problems in zip(spec.members, attempts, strict=True)
        if (isinstance(member, ObjectRef) and isinstance(value, dict))
        or (isinstance(member, ListOf) and isinstance(value, list))
    ]
    if len(shaped) == 1:
        yield from shaped[0]
        return
    yield path, f"expected {_spec_name(spec)}, got {describe(value, secret)}"


def _check_scalar(value: Any, spec: Scalar, path: str, secret: bool) -> Iterator[Problem]:
    if not _scalar_fits(spec.kind, value):
        yield path, f"expected {spec.kind}, got {describe(value, secret)}"


def _check_enum(value: Any, spec: EnumOf, path: str, secret: bool) -> Iterator[Problem]:
    if not isinstance(value, str):
        yield path, f"expected one of {spec.name} ({', '.join(spec.values)}), got {describe(value, secret)}"
    elif not secret and value not in spec.values:  # a secret's membership cannot be checked from its shape
        yield path, f"{describe(value)} is not one of {spec.name}: {', '.join(spec.values)}"


def _check_list(value: Any, spec: ListOf, path: str, secret: bool) -> Iterator[Problem]:
    if not isinstance(value, list):
        yield path, f"expected a list, got {describe(value, secret)}"
        return
    for index, item in enumerate(value):
        yield from check_value(item, spec.item, f"{path}[{index}]", secret)


def _check_map(value: Any, spec: MapOf, path: str, secret: bool) -> Iterator[Problem]:
    if not isinstance(value, dict):
        yield path, f"expected a map, got {describe(value, secret)}"
        return
    for key, item in value.items():
        yield from check_value(item, spec.value, f"{path}[{key!r}]", secret)


def _check_ref(value: Any, spec: ObjectRef, path: str, secret: bool) -> Iterator[Problem]:
    schema = object_schema(spec.cls)
    if not isinstance(value, dict):
        yield path, f"expected object {_display(schema)}, got {describe(value, secret)}"
        return
    yield from check_object(value, schema, path, secret)


def _check_asset(value: Any, spec: AssetOrArchive, path: str, secret: bool) -> Iterator[Problem]:
    if not (isinstance(value, dict) and "asset" in value):
        yield path, f"expected an asset or archive, got {describe(value, secret)}"


def check_value(value: Any, spec: TypeSpec, path: str, secret: bool = False) -> Iterator[Problem]:
    """Problems of ``value`` (a captured wire value) against ``spec``; unknowns and ``Unchecked`` pass."""
    if isinstance(value, MaskedSecret):
        value, secret = value.shape, True
    elif isinstance(value, str) and value in {UNKNOWN, SECRET_PLACEHOLDER}:
        return  # unknown until deployed, or a secret captured without its shape: nothing to check
    if value is None or isinstance(spec, Unchecked):
        return
    if isinstance(spec, Scalar):
        yield from _check_scalar(value, spec, path, secret)
    elif isinstance(spec, EnumOf):
        yield from _check_enum(value, spec, path, secret)
    elif isinstance(spec, ListOf):
        yield from _check_list(value, spec, path, secret)
    elif isinstance(spec, MapOf):
        yield from _check_map(value, spec, path, secret)
    elif isinstance(spec, ObjectRef):
        yield from _check_ref(value, spec, path, secret)
    elif isinstance(spec, AnyOf):
        yield from _check_any_of(value, spec, path, secret)
    else:
        yield from _check_asset(value, spec, path, secret)
