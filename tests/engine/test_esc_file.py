"""``--esc-file``: offline values for the ESC environments a stack file imports.

Pulumi's precedence (project defaults < ESC < stack file < --config), ``fn::secret`` stays secret,
and a bad file is a config error (exit 2, one paragraph, the key named).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mlops_infra.cli import app
from mlops_infra.engine import ProgramError, run_program
from mlops_infra.engine.esc import ESC_SECRET_PLACEHOLDER, load_esc_file

runner = CliRunner()

PROGRAM = """
import pulumi
from pulumi.runtime.config import is_config_secret

config = pulumi.Config()
pulumi.export("region", pulumi.Config("aws").get("region"))
pulumi.export("owner", config.get("owner"))
pulumi.export("team", config.get("team"))
pulumi.export("bucket", config.get("bucket"))
pulumi.export("tokenIsSecret", is_config_secret("demo:token"))
pulumi.export("sealedIsSecret", is_config_secret("demo:sealed"))
pulumi.export("ownerIsSecret", is_config_secret("demo:owner"))
"""

PROJECT_YAML = (
    "name: demo\nruntime:\n  name: python\nconfig:\n  team:\n    default: from-project\n  owner:\n    default: nobody\n"
)
STACK = "environment:\n  imports:\n    - shared/aws-creds\n    - ml/dev@v2\nconfig:\n  demo:owner: from-stack\n"
ESC = """
imports:
  - base
values:
  region: eu-west-1
  prefix: ml
  pulumiConfig:
    aws:region: ${region}
    owner: from-esc
    team: from-esc
    bucket: ${prefix}-${region}-artifacts
    token:
      fn::secret: s3cr3t
    sealed:
      fn::secret:
        ciphertext: ZXNjeAAAAAEAAAEA
"""


@pytest.fixture
def project(make_project) -> Path:
    return make_project(PROGRAM, {"dev": STACK}, project_yaml=PROJECT_YAML)


def _esc(tmp_path: Path, text: str = ESC) -> Path:
    path = tmp_path / "esc.yaml"
    path.write_text(text)
    return path


def test_esc_values_fill_in_under_the_stack_file(project, tmp_path):
    outputs = run_program(project, "dev", [], esc_file=_esc(tmp_path)).outputs
    assert outputs["region"] == "eu-west-1"  # ${region} resolved inside the file's values
    assert outputs["bucket"] == "ml-eu-west-1-artifacts"  # interpolated into a string
    assert outputs["team"] == "from-esc"  # ESC overrides the project default
    assert outputs["owner"] == "from-stack"  # the stack file's own config overrides ESC
    assert outputs["ownerIsSecret"] is False


def test_config_flag_overrides_esc_and_stack(project, tmp_path):
    outputs = run_program(project, "dev", ["team=from-flag"], esc_file=_esc(tmp_path)).outputs
    assert outputs["team"] == "from-flag"


def test_fn_secret_stays_secret(project, tmp_path):
    stack = run_program(project, "dev", [], esc_file=_esc(tmp_path))
    assert stack.outputs["tokenIsSecret"] is True
    assert stack.outputs["sealedIsSecret"] is True
    assert stack.outputs["ownerIsSecret"] is False  # only fn::secret values are marked
    esc = load_esc_file(_esc(tmp_path))
    assert esc.secret_keys == {"token", "sealed"}
    assert esc.values["token"] == "s3cr3t"
    assert esc.values["sealed"] == ESC_SECRET_PLACEHOLDER  # ciphertext: never decrypted


def test_without_esc_file_the_warning_names_the_imports_and_the_flag(project):
    result = runner.invoke(app, ["plan", str(project), "--format", "json"])
    assert result.exit_code == 0, result.output
    assert "imports Pulumi ESC environments (shared/aws-creds, ml/dev@v2)" in result.stderr
    assert "--esc-file" in result.stderr
    assert json.loads(result.stdout)["outputs"]["team"] == "from-project"


@pytest.mark.parametrize("command", ["plan", "check", "cost"])
def test_cli_takes_esc_file(project, tmp_path, command):
    result = runner.invoke(app, [command, str(project), "--esc-file", str(_esc(tmp_path)), "--format", "json"])
    assert result.exit_code in (0, 1), result.output
    assert json.loads(result.stdout)["outputs"]["region"] == "eu-west-1"
    assert "--esc-file" in result.stderr and "(shared/aws-creds, ml/dev@v2)" in result.stderr
    assert "cannot resolve" not in result.stderr


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("values: [1, 2", "is not valid YAML"),
        ("values:\n  other: 1\n", "has no `values: pulumiConfig:` mapping"),
        ("pulumiConfig:\n  a: 1\n", "has no `values: pulumiConfig:` mapping"),
        (
            "values:\n  pulumiConfig:\n    creds:\n      fn::open::aws-login: {}\n",
            "values.pulumiConfig.creds uses fn::open::aws-login",
        ),
        ("values:\n  pulumiConfig:\n    region: ${nowhere.key}\n", "refers to ${nowhere.key}"),
        ("values:\n  a: ${b}\n  b: ${a}\n  pulumiConfig:\n    x: ${a}\n", "in a cycle"),
        ("values:\n  pulumiConfig:\n    a:b:c: 1\n", "config key 'a:b:c' is not valid"),
        ("values:\n  pulumiConfig:\n    t:\n      fn::secret: [1]\n", "fn::secret with an object or list"),
    ],
)
def test_a_bad_esc_file_is_a_config_error(project, tmp_path, text, expected):
    path = _esc(tmp_path, text)
    result = runner.invoke(app, ["plan", str(project), "--esc-file", str(path)])
    assert result.exit_code == 2, result.output
    assert expected in result.stderr and str(path.name) in result.stderr
    assert "Traceback" not in result.output
    with pytest.raises(ProgramError) as error:
        run_program(project, "dev", [], esc_file=path)
    assert error.value.registered == []  # stopped before the program ran


def test_a_missing_esc_file_exits_2(project, tmp_path):
    result = runner.invoke(app, ["plan", str(project), "--esc-file", str(tmp_path / "absent.yaml")])
    assert result.exit_code == 2
    assert "absent.yaml: cannot read it" in result.stderr
