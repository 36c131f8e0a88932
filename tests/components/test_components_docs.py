"""docs/components-package.md: its YAML program uses the package as the schema and the models define it."""

import json
import re
from pathlib import Path

import pytest
import yaml
from pulumi.provider.experimental.component import ComponentProvider

from mlops_infra.conventions.context import _CONFIG_KEYS

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "components-package.md"
SCHEMA = json.loads((ROOT / "components" / "schema.json").read_text())


def _yaml_blocks() -> list[dict]:
    return [yaml.safe_load(block) for block in re.findall(r"```yaml\n(.*?)```", DOC.read_text(), re.S)]


def _program() -> dict:
    [program] = [b for b in _yaml_blocks() if "resources" in b]
    return program


def _problems(value, spec: dict, path: str) -> list[str]:
    """Where ``value`` does not fit the schema property ``spec``: unknown or missing properties, bad enums."""
    ref = spec.get("$ref", "")
    if ref.startswith("#/types/"):
        spec = SCHEMA["types"][ref.removeprefix("#/types/")]
        if "enum" in spec:
            allowed = [e["value"] for e in spec["enum"]]
            return [] if value in allowed else [f"{path}: {value!r} is not one of {allowed}"]
        return _object_problems(value, spec.get("properties", {}), spec.get("required", []), path)
    if spec.get("type") == "array":
        if not isinstance(value, list):
            return [f"{path}: not a list"]
        return [p for i, item in enumerate(value) for p in _problems(item, spec["items"], f"{path}[{i}]")]
    if spec.get("type") == "object" and "additionalProperties" in spec:
        return [p for k, v in value.items() for p in _problems(v, spec["additionalProperties"], f"{path}.{k}")]
    expected = {"string": str, "integer": int, "number": (int, float), "boolean": bool}.get(spec.get("type"))
    if expected is not None and not isinstance(value, expected):
        return [f"{path}: {value!r} is not a {spec['type']}"]
    return []


def _object_problems(value, properties: dict, required: list[str], path: str) -> list[str]:
    if not isinstance(value, dict):
        return [f"{path}: not an object"]
    problems = [f"{path}.{k}: no such property" for k in value if k not in properties]
    problems += [f"{path}.{k}: required" for k in required if k not in value]
    return problems + [
        p for k, v in value.items() if k in properties for p in _problems(v, properties[k], f"{path}.{k}")
    ]


def test_the_yaml_program_uses_only_what_the_schema_has():
    program = _program()
    assert program["runtime"] == "yaml"
    assert "mlops-infra" in program["packages"]
    assert program["resources"], "the example declares no resource"
    for name, resource in program["resources"].items():
        assert resource["type"] in SCHEMA["resources"], f"{name}: {resource['type']} is not in the package"
        spec = SCHEMA["resources"][resource["type"]]
        problems = _object_problems(
            resource.get("properties", {}), spec["inputProperties"], spec.get("requiredInputs", []), name
        )
        assert problems == []
    for output, expression in program["outputs"].items():
        resource, prop = re.fullmatch(r"\$\{(\w+)\.(\w+)\}", expression).groups()
        assert prop in SCHEMA["resources"][program["resources"][resource]["type"]]["properties"], output


def test_the_checker_catches_a_wrong_property():
    spec = SCHEMA["resources"]["mlops-infra:index:K8sTenancy"]
    bad = {"team": "t", "quota": {"gpu": 2}, "podSecurity": "privileged"}
    problems = _object_problems(bad, spec["inputProperties"], spec.get("requiredInputs", []), "team")
    assert "team.quota.gpu: no such property" in problems
    assert any(p.startswith("team.podSecurity: 'privileged'") for p in problems)


@pytest.fixture(scope="module")
def provider():
    from mlops_infra_components import COMPONENTS

    return ComponentProvider(list(COMPONENTS), "mlops-infra")


def test_the_yaml_program_passes_the_models(provider, generator):
    """The plugin's own input mapping (camelCase -> fields, enums), then the real component's model."""
    from mlops_infra_components.convert import component_class, plain

    real = {f"mlops-infra:index:{t.wrapper}": (t.module, t.attribute) for t in generator.targets()}
    for resource in _program()["resources"].values():
        component = resource["type"].rsplit(":", 1)[-1]
        mapped = provider.map_inputs(resource["properties"], provider._component_defs[component])
        # Raises the model's ValidationError (naming the field) if the example is not valid.
        component_class(real[resource["type"]]).ARGS.model_validate(plain(mapped))


def test_the_stack_settings_are_the_ones_components_read():
    [settings] = [b for b in _yaml_blocks() if "config" in b]
    project = _program()["name"]
    for key in settings["config"]:
        namespace, setting = key.split(":")
        assert namespace == project and setting in _CONFIG_KEYS, key
