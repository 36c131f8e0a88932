"""Reading a SageMaker pipeline definition: validation, the step dependency graph, security gaps, images.

These functions take any definition (the rendered built-in template or one a user supplies) and never
build one; rendering lives in ``pipeline_template``. ``TrainingPipelineArgs`` validates a supplied
definition with them, and the execution role pulls the images they find. Security gaps are not
judged here: ``security_findings`` calls the policy rules' own checks.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from typing import Any

from mlops_infra.aws.pipeline_template import SCHEMA_VERSION
from mlops_infra.policy.rules import encryption_at_rest, encryption_in_transit, network_isolation

STEP_TYPES = frozenset(
    {
        "Processing", "Training", "Transform", "Tuning", "CreateModel", "RegisterModel", "Condition", "Fail",
        "Lambda", "Callback", "QualityCheck", "ClarifyCheck", "EMR", "AutoML", "Notebook", "Model",
    }
)  # fmt: skip
PARAMETER_TYPES = frozenset({"String", "Integer", "Float", "Boolean"})
MAX_DEFINITION_BYTES = 1_048_576  # CreatePipeline's PipelineDefinition limit
_STEP_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")
_PARAMETER_NAME = re.compile(r"[A-Za-z0-9_-]{1,256}")
_STEP_REFERENCE = re.compile(r"Steps\.([A-Za-z0-9_-]+)")
_PARAMETER_REFERENCE = re.compile(r"Parameters\.([A-Za-z0-9_-]+)")


def iter_steps(definition: Mapping[str, Any]) -> Iterator[tuple[dict[str, Any], str | None]]:
    """Every step with the Condition step it is nested in (``None`` at top level)."""
    pending: list[tuple[Any, str | None]] = [(step, None) for step in definition.get("Steps", [])]
    while pending:
        step, parent = pending.pop(0)
        yield step, parent
        if isinstance(step, dict) and step.get("Type") == "Condition":
            arguments = step.get("Arguments") or {}
            nested = [*(arguments.get("IfSteps") or []), *(arguments.get("ElseSteps") or [])]
            pending.extend((child, step.get("Name")) for child in nested)


def references(value: Any) -> Iterator[str]:
    """Every ``{"Get": "..."}`` path anywhere inside ``value``."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "Get" and isinstance(item, str):
                yield item
            else:
                yield from references(item)
    elif isinstance(value, list):
        for item in value:
            yield from references(item)


def step_dependencies(definition: Mapping[str, Any]) -> dict[str, set[str]]:
    """Step name -> the steps that must finish first (data references, ``DependsOn``, enclosing condition)."""
    graph: dict[str, set[str]] = {}
    for step, parent in iter_steps(definition):
        arguments = step.get("Arguments") or {}
        # A condition's own inputs are its Conditions; its branches are steps of their own.
        scanned = arguments.get("Conditions") if step.get("Type") == "Condition" else arguments
        upstream = {m.group(1) for path in references(scanned) if (m := _STEP_REFERENCE.match(path))}
        upstream.update(str(name) for name in step.get("DependsOn") or [])
        if parent is not None:
            upstream.add(parent)
        graph[str(step.get("Name"))] = upstream
    return graph


def topological_order(graph: Mapping[str, set[str]]) -> list[str]:
    """Steps in an order the service can run them; ValueError on a cycle or an unknown step."""
    order: list[str] = []
    done: set[str] = set()
    remaining = dict(graph)
    while remaining:
        ready = sorted(name for name, upstream in remaining.items() if upstream <= done)
        if not ready:
            unknown = sorted(set().union(*remaining.values()) - set(graph))
            if unknown:
                raise ValueError(f"steps reference unknown steps {unknown}")
            raise ValueError(f"steps depend on each other in a cycle: {sorted(remaining)}")
        for name in ready:
            order.append(name)
            done.add(name)
            del remaining[name]
    return order


def _check_parameters(parameters: Any) -> set[str]:
    if not isinstance(parameters, list):
        raise ValueError("Parameters must be a list")
    names: set[str] = set()
    for parameter in parameters:
        name = parameter.get("Name") if isinstance(parameter, dict) else None
        if not isinstance(name, str) or not _PARAMETER_NAME.fullmatch(name) or name in names:
            raise ValueError(f"parameter {parameter!r} needs a unique Name of [A-Za-z0-9_-] (at most 256)")
        if parameter.get("Type") not in PARAMETER_TYPES:
            raise ValueError(f"parameter {name!r} Type must be one of {sorted(PARAMETER_TYPES)}")
        names.add(name)
    return names


def validate_definition(definition: Any) -> dict[str, Any]:
    """Check a user-supplied definition the way CreatePipeline would, before anything is deployed.

    A JSON object with ``Version`` 2020-12-01 and a non-empty ``Steps`` list; unique step names of
    known types; declared parameters for every ``Parameters.X`` reference; steps that reference
    existing steps without a cycle; at most 1 MiB of JSON. Returns the definition; ValueError otherwise.
    """
    if not isinstance(definition, dict):
        raise ValueError(f"a pipeline definition is a JSON object, not {type(definition).__name__}")
    try:
        encoded = json.dumps(definition, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"the pipeline definition is not plain JSON: {exc}") from exc
    if len(encoded.encode()) > MAX_DEFINITION_BYTES:
        raise ValueError(f"the pipeline definition is larger than {MAX_DEFINITION_BYTES} bytes")
    if definition.get("Version") != SCHEMA_VERSION:
        raise ValueError(f"Version must be {SCHEMA_VERSION!r}, got {definition.get('Version')!r}")
    steps = definition.get("Steps")
    if not isinstance(steps, list) or not steps:
        raise ValueError("Steps must be a non-empty list")
    declared = _check_parameters(definition.get("Parameters", []))
    seen: set[str] = set()
    for step, _parent in iter_steps(definition):
        name = step.get("Name") if isinstance(step, dict) else None
        if not isinstance(name, str) or not _STEP_NAME.fullmatch(name) or name in seen:
            raise ValueError(f"step {name!r} needs a unique Name of [A-Za-z0-9_-] (at most 64)")
        if step.get("Type") not in STEP_TYPES:
            raise ValueError(f"step {name!r} has unknown Type {step.get('Type')!r}")
        seen.add(name)
    undeclared = sorted(
        {m.group(1) for path in references(steps) if (m := _PARAMETER_REFERENCE.match(path))} - declared
    )
    if undeclared:
        raise ValueError(f"steps use parameters that are not declared: {undeclared}")
    topological_order(step_dependencies(definition))
    return definition


def _dig(value: Any, *path: str) -> Any:
    for key in path:
        value = value.get(key) if isinstance(value, dict) else None
    return value


def security_findings(definition: Mapping[str, Any]) -> list[str]:
    """What the definition's job steps leave unprotected (empty list: nothing), per the policy rules.

    This is the check the policy pack and ``mlops-infra check`` run on the deployed pipeline
    (encryption-at-rest, encryption-in-transit and network-isolation on
    ``aws:sagemaker/pipeline:Pipeline``), called here before anything is registered so a component
    never accepts what the policy then refuses. Checked for every job-like step (Training,
    Processing, Transform, QualityCheck, ClarifyCheck, Tuning definitions): KMS keys on volumes and
    outputs, inter-container traffic encryption, network isolation or a VPC. A parameter reference
    resolves to its DefaultValue; one without a default is decided at execution time and passes.
    """
    props = {"pipelineDefinition": definition}
    return [
        *encryption_at_rest.pipeline_findings(props),
        *encryption_in_transit.pipeline_findings(props),
        *network_isolation.pipeline_findings(props),
    ]


def container_images(definition: Mapping[str, Any]) -> set[str]:
    """Literal image URIs the steps run or register (the execution role must be able to pull them)."""
    images: set[str] = set()
    for step, _parent in iter_steps(definition):
        arguments = step.get("Arguments") or {}
        candidates = [
            _dig(arguments, "AppSpecification", "ImageUri"),
            _dig(arguments, "AlgorithmSpecification", "TrainingImage"),
            *(c.get("Image") for c in _dig(arguments, "InferenceSpecification", "Containers") or []),
            _dig(arguments, "PrimaryContainer", "Image"),
        ]
        images.update(image for image in candidates if isinstance(image, str))
    return images
