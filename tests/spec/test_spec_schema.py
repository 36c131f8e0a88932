"""The JSON Schema of the spec: valid draft 2020-12, agrees with pydantic, and the committed copy is current."""

import copy
import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from mlops_infra.spec import platform_json_schema
from mlops_infra.spec.load import dump_schema

STACK = Path(__file__).resolve().parents[2] / "stacks" / "platform"


@pytest.fixture(scope="module")
def schema():
    return platform_json_schema()


@pytest.fixture(scope="module")
def document():
    return yaml.safe_load((STACK / "platform.yaml").read_text())


def test_schema_is_a_valid_draft_2020_12_schema(schema):
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["title"] == "PlatformSpec"
    # clouds comes from each stack's `cloud` config, so platform.yaml alone is complete without it.
    assert set(schema["required"]) == {"registry", "budget"}


def test_shipped_platform_yaml_validates_against_the_schema(schema, document):
    jsonschema.Draft202012Validator(schema).validate(document)


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("clouds",), ["azure"]),
        (("budget", "monthly_limit_usd"), -5),
        (("endpoints", 0, "allow_public_access"), "yes"),
        (("endpoints", 0, "alerts", "error_rate_percent"), 150),
        (("unknown",), 1),
    ],
)
def test_editor_schema_refuses_what_pydantic_refuses(schema, document, path, value):
    bad = copy.deepcopy(document)
    node = bad
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    assert list(jsonschema.Draft202012Validator(schema).iter_errors(bad)), path


def test_committed_schema_file_is_current():
    committed = (STACK / "platform.schema.json").read_text()
    assert committed == dump_schema(), (
        "stacks/platform/platform.schema.json is stale: regenerate it with "
        "`uv run mlops-infra schema --out stacks/platform/platform.schema.json`"
    )
    assert json.loads(committed)["$schema"].endswith("2020-12/schema")
