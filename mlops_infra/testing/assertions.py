"""Small queries over a captured stack that tests assert on."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from mlops_infra.config.platform import REQUIRED_TAG_KEYS
from mlops_infra.conventions.taggable import tag_property
from mlops_infra.engine.captured import CapturedResource, CapturedStack
from mlops_infra.policy.stack_index import strings_in


def one(stack: CapturedStack, type_token: str) -> CapturedResource:
    """The single resource of ``type_token``; fails if there are zero or several."""
    found = stack.by_type(type_token)
    if len(found) != 1:
        raise AssertionError(f"expected exactly one {type_token}, found {len(found)}: {[r.name for r in found]}")
    return found[0]


def child_resources(stack: CapturedStack, component_urn: str) -> list[CapturedResource]:
    """Every resource below ``component_urn``, at any depth."""
    below: list[CapturedResource] = []
    frontier = [component_urn]
    while frontier:
        parent = frontier.pop()
        for child in stack.children_of(parent):
            below.append(child)
            frontier.append(child.urn)
    return below


def tags_of(resource: CapturedResource) -> dict[str, Any] | None:
    prop = tag_property(resource.type)
    if prop is None:
        return None
    if prop == "metadata.labels":
        return (resource.inputs.get("metadata") or {}).get("labels")
    return resource.inputs.get(prop)


def required_tags_present(stack: CapturedStack) -> list[str]:
    """URNs of taggable resources missing any required tag (empty when all are tagged)."""
    missing = []
    for resource in stack.custom_resources():
        if tag_property(resource.type) is None:
            continue
        tags = tags_of(resource) or {}
        if any(key not in tags for key in REQUIRED_TAG_KEYS):
            missing.append(resource.urn)
    return missing


def iam_statements(resource: CapturedResource, prop: str = "policy") -> list[dict[str, Any]]:
    """Statements of a JSON policy document held in ``resource.inputs[prop]``."""
    document = resource.inputs[prop]
    parsed = json.loads(document) if isinstance(document, str) else document
    statements = parsed["Statement"]
    return statements if isinstance(statements, list) else [statements]


def every_string(value: Any) -> Iterator[str]:
    """Every string inside ``value``, and inside the JSON documents among them (policies, definitions).

    For assertions over everything a resource names: ``any("arn:aws:" in s for s in every_string(r.inputs))``.
    """
    for text in strings_in(value):
        yield text
        if text[:1] in "{[":
            try:
                document = json.loads(text)
            except ValueError:
                continue
            yield from every_string(document)
