"""Reading a spec: a YAML/JSON file or a mapping, with stack overrides deep-merged over it."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from mlops_infra.engine.yaml_load import safe_load
from mlops_infra.spec.platform import PlatformSpec

SCHEMA_ID = "https://mlops-infra.dev/schemas/platform-spec.json"


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """``override`` over ``base``: mappings merge key by key, anything else (lists too) replaces.

    A ``null`` in the override removes the key, so a stack can switch a section back to its default.
    """
    merged: dict[str, Any] = dict(base)
    for key, value in override.items():
        if value is None:
            merged.pop(key, None)
        elif isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def read_document(path: Path) -> dict[str, Any]:
    """The mapping in a YAML or JSON file; raises ValueError naming the file when it is not one."""
    try:
        document = safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ValueError(f"cannot read the platform spec {path}: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise ValueError(f"{path} is not valid YAML: {exc}") from exc
    if document is None:
        return {}
    if not isinstance(document, dict):
        raise ValueError(f"{path} must hold a mapping (the platform spec), not a {type(document).__name__}")
    return document


def load_spec(source: Path | str | Mapping[str, Any], overrides: Mapping[str, Any] | None = None) -> PlatformSpec:
    """Validate a spec from a file or mapping, with ``overrides`` deep-merged over it first.

    Raises pydantic's ValidationError naming the field path of every bad value.
    """
    document = read_document(Path(source)) if isinstance(source, (str, Path)) else dict(source)
    if overrides:
        document = deep_merge(document, overrides)
    return PlatformSpec.model_validate(document)


def platform_json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of ``platform.yaml``, for editors and CI.

    ``clouds`` is optional in the file: the generic stack sets it from each stack's ``cloud``
    config, so one ``platform.yaml`` serves every cloud. ``PlatformSpec`` still requires it.
    """
    schema = PlatformSpec.model_json_schema(mode="validation")
    schema["required"] = [name for name in schema.get("required", []) if name != "clouds"]
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": SCHEMA_ID, **schema}


def dump_schema() -> str:
    """The schema as stable, indented JSON."""
    return json.dumps(platform_json_schema(), indent=2, sort_keys=True) + "\n"
