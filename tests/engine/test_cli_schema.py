"""`mlops-infra schema`: the JSON Schema of the platform spec, for editors validating platform.yaml."""

from __future__ import annotations

import importlib.util
import json

import jsonschema
import pytest
from typer.testing import CliRunner

from mlops_infra.cli import app

runner = CliRunner()

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("mlops_infra.spec") is None,
    reason="mlops_infra.spec (the platform spec, with platform_json_schema()) is not in this tree yet",
)


def _schema_from_cli(*args: str) -> dict:
    result = runner.invoke(app, ["schema", *args])
    assert result.exit_code == 0, result.output
    document: dict = json.loads(result.stdout)
    return document


def test_schema_prints_a_valid_json_schema():
    schema = _schema_from_cli()
    jsonschema.validators.validator_for(schema).check_schema(schema)
    assert schema["type"] == "object"
    assert schema["properties"]


def test_schema_is_the_specs_own():
    from mlops_infra.spec import platform_json_schema

    assert _schema_from_cli() == json.loads(json.dumps(platform_json_schema()))


def test_schema_out_writes_the_file(tmp_path):
    out = tmp_path / "platform.schema.json"
    result = runner.invoke(app, ["schema", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert json.loads(out.read_text()) == _schema_from_cli()
