"""CLI and error-message classes: what the user reads is exactly what was meant, and says what to fix."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pydantic
import pytest
from typer.testing import CliRunner

from mlops_infra.cli import app
from mlops_infra.engine import ProgramError, format_validation_error, run_program
from mlops_infra.engine.project import OFFLINE_PLACEHOLDER_PREFIX, check_ciphertext
from mlops_infra.policy.config import PolicyConfigError, policy_config_from_data
from mlops_infra.policy.model import Enforcement, Violation
from mlops_infra.policy.report import render_text

runner = CliRunner()
REGEX = "^[a-z0-9][a-z0-9-]*[a-z0-9]$"

PLATFORM_PROGRAM = """
import pulumi
from mlops_infra.aws.budget import Budget
from mlops_infra.conventions import init_platform

init_platform(environment="dev", owner="ml", costCenter="cc-1")
Budget("budget", {"monthly_limit_usd": 100})
"""


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


# --- (a) rich markup is escaped -------------------------------------------------------------------------


def test_an_error_message_with_brackets_prints_verbatim(make_project):
    project = make_project(f"raise ValueError('name must match {REGEX}')\n")
    result = runner.invoke(app, ["plan", str(project)])
    assert result.exit_code == 2
    assert REGEX in result.stderr
    assert "'^*$'" not in result.stderr


def test_violation_messages_and_names_print_verbatim():
    violation = Violation("required-tags", Enforcement.MANDATORY, "urn:x::[red]name", "t", f"must match {REGEX}")
    from rich.console import Console

    console = Console(width=400, record=True, no_color=True)
    console.print(render_text([violation]))
    text = console.export_text()
    assert REGEX in text and "[red]name" in text


def test_emoji_codes_are_not_replaced(make_project):
    project = make_project("raise ValueError('set key a:b:c or :smile: here')\n")
    result = runner.invoke(app, ["plan", str(project)])
    assert "a:b:c or :smile: here" in result.stderr


def test_plan_text_prints_names_verbatim(tmp_path):
    program = tmp_path / "brackets.py"
    program.write_text("import pulumi_aws as aws\naws.sqs.Queue('jobs[bold]x')\n")
    out = tmp_path / "plan.txt"
    result = runner.invoke(app, ["plan", str(program), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "jobs[bold]x" in out.read_text()


def test_program_warnings_print_verbatim(make_project):
    project = make_project(f"import pulumi\npulumi.log.warn('pattern {REGEX} unused')\n")
    result = runner.invoke(app, ["plan", str(project), "--format", "json"])
    assert result.exit_code == 0, result.output
    assert f"pattern {REGEX} unused" in result.stderr
    json.loads(result.stdout)  # notes and warnings never reach stdout


# --- (b) no pydantic "Value error, " prefix --------------------------------------------------------------


class _Model(pydantic.BaseModel):
    name: str

    @pydantic.field_validator("name")
    @classmethod
    def _check(cls, value: str) -> str:
        raise ValueError(f"must match {REGEX}")


def test_validation_errors_drop_the_value_error_prefix():
    with pytest.raises(pydantic.ValidationError) as caught:
        _Model(name="X")
    message = format_validation_error(caught.value)
    assert message == f"invalid _Model settings: name: must match {REGEX}"


def test_platform_settings_errors_from_the_cli_drop_the_prefix(make_project):
    project = make_project(PLATFORM_PROGRAM)
    result = runner.invoke(app, ["plan", str(project), "-c", 'tags={"owner": "x"}'])
    assert result.exit_code == 2
    assert "tags: tags may not redefine the required keys" in result.stderr
    assert "Value error" not in result.stderr


def test_policy_config_errors_drop_the_prefix():
    with pytest.raises(PolicyConfigError) as caught:
        policy_config_from_data({"requiredTagKeys": [" "]}, "policy.yaml")
    assert "Value error" not in str(caught.value)
    assert "requiredTagKeys: entries must be non-empty strings" in str(caught.value)


# --- (c) config keys have at most one namespace ---------------------------------------------------------


@pytest.mark.parametrize("key", ["a:b:c", ":x", "ns:", "bad key"])
def test_a_config_key_with_more_than_one_namespace_exits_2_naming_it(make_project, key):
    result = runner.invoke(app, ["plan", str(make_project("import pulumi\n")), "--config", f"{key}=1"])
    assert result.exit_code == 2
    assert f"config key {key!r} is not valid" in result.stderr
    assert "Traceback" not in result.output


def test_a_stack_file_key_with_two_namespaces_names_the_file(make_project):
    project = make_project("import pulumi\n", {"dev": "config:\n  demo:aws:region: us-east-1\n"})
    with pytest.raises(ProgramError, match=r"Pulumi\.dev\.yaml: config key 'demo:aws:region' is not valid"):
        run_program(project, "dev")


# --- (d) secure: values must be ciphertext --------------------------------------------------------------

NONCE = _b64(bytes(12))
SEALED = _b64(b"s" * 24)


@pytest.mark.parametrize(
    "value",
    [
        f"v1:{NONCE}:{SEALED}",  # passphrase / cloud KMS providers
        _b64(bytes([0, 0, 1, 0]) + b"x" * 40),  # Pulumi Cloud
        f"{OFFLINE_PLACEHOLDER_PREFIX}{_b64(b'dev-redis-password')}",  # the documented placeholder
    ],
)
def test_ciphertext_forms_are_accepted(value):
    check_ciphertext("demo:password", value, "Pulumi.dev.yaml")


@pytest.mark.parametrize(
    "value",
    ["hunter2", "", "v1:abc", f"v1:{_b64(b'short')}:{SEALED}", "v1:!!:??", "AAABAKsomething", 42, None],
)
def test_plaintext_in_secure_is_an_error_naming_the_key(make_project, value):
    stack = f"config:\n  demo:password:\n    secure: {json.dumps(value)}\n"
    project = make_project("import pulumi\n", {"dev": stack})
    result = runner.invoke(app, ["plan", str(project)])
    assert result.exit_code == 2
    assert "config key 'demo:password'" in result.stderr
    assert "not Pulumi ciphertext" in result.stderr


def test_shipped_placeholders_are_the_documented_form():
    for stack_file in Path("stacks").glob("*/Pulumi.*.yaml"):
        text = stack_file.read_text()
        for line in text.splitlines():
            if line.strip().startswith("secure:"):
                check_ciphertext("k", line.split("secure:", 1)[1].strip(), str(stack_file))


# --- (e) a single file planned with --stack S ------------------------------------------------------------


def test_a_single_file_with_stack_prod_plans_prod(tmp_path):
    program = tmp_path / "single.py"
    program.write_text(PLATFORM_PROGRAM)
    result = runner.invoke(app, ["plan", str(program), "--stack", "prod", "--format", "json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["stack"] == "prod"
    budget = next(r for r in document["resources"] if r["type"] == "aws:budgets/budget:Budget")
    assert budget["inputs"]["tags"]["environment"] == "prod"
    assert "environment=prod is taken from --stack" in result.stderr


def test_explicit_environment_config_wins_over_the_stack_name(tmp_path):
    program = tmp_path / "single.py"
    program.write_text(PLATFORM_PROGRAM)
    stack = run_program(program, "prod", ["environment=staging"], environment_from_stack=True)
    assert stack.environment() == "staging"
    assert not any(line.startswith("note:") for line in stack.diagnostics)


def test_a_single_file_with_its_own_stack_file_uses_it(tmp_path):
    program = tmp_path / "single.py"
    program.write_text(PLATFORM_PROGRAM)
    (tmp_path / "Pulumi.prod.yaml").write_text("config:\n  single:environment: staging\n")
    assert run_program(program, "prod", environment_from_stack=True).environment() == "staging"


def test_another_stack_name_says_which_environment_the_program_chose(tmp_path):
    program = tmp_path / "single.py"
    program.write_text(PLATFORM_PROGRAM)
    result = runner.invoke(app, ["plan", str(program), "--stack", "feature-x", "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["stack"] == "feature-x"
    assert "no Pulumi.feature-x.yaml beside single.py" in result.stderr
    assert "the program's components set environment dev" in result.stderr
    assert "one without it as protected" in result.stderr


def test_without_stack_the_program_default_stands_and_is_named(tmp_path):
    program = tmp_path / "single.py"
    program.write_text(PLATFORM_PROGRAM.replace('environment="dev"', 'environment="prod"'))
    result = runner.invoke(app, ["plan", str(program), "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["stack"] == "dev"
    assert "the program's components set environment prod" in result.stderr
    assert "default" not in result.stderr


RAW_PROGRAM = """
import pulumi_aws as aws

aws.s3.Bucket("raw", tags={"project": "p", "owner": "o", "cost-center": "c"})
"""


def test_check_on_a_file_without_any_environment_says_it_is_judged_as_protected(tmp_path):
    program = tmp_path / "raw.py"
    program.write_text(RAW_PROGRAM)
    result = runner.invoke(app, ["check", str(program), "--format", "json"])
    assert result.exit_code == 1, result.output
    assert "no environment in --config or in the program" in result.stderr
    assert "as protected (mandatory levels)" in result.stderr
    assert "default" not in result.stderr
    violations = json.loads(result.stdout)["violations"]
    versioning = [v for v in violations if v["policy_id"] == "deletion-protection"]
    assert versioning and {v["enforcement"] for v in versioning} == {"mandatory"}


# --- (f) ESC environments cannot be resolved offline ---------------------------------------------------


@pytest.mark.parametrize(
    "block",
    [
        "environment:\n  - aws-creds\n  - shared/dev@v2\n",
        "environment:\n  imports:\n    - aws-creds\n    - shared/dev@v2\n",
    ],
)
@pytest.mark.parametrize("command", ["plan", "check"])
def test_esc_imports_are_named_in_a_warning(make_project, block, command):
    project = make_project(PLATFORM_PROGRAM, {"dev": block + "config:\n  demo:owner: ml\n"})
    result = runner.invoke(app, [command, str(project), "--format", "json"])
    assert result.exit_code in (0, 1), result.output
    assert "imports Pulumi ESC environments (aws-creds, shared/dev@v2)" in result.stderr
    json.loads(result.stdout)
