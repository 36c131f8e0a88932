"""`mlops-infra plan`: the documented JSON, the text tree, and exit code 2 without tracebacks."""

import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from mlops_infra.cli import app

runner = CliRunner()

PROGRAM = """
import pulumi, pulumi_aws as aws
from mlops_infra.conventions import init_platform
init_platform(owner="ml-platform", costCenter="cc-1")
class Store(pulumi.ComponentResource):
    def __init__(self, name, opts=None):
        super().__init__("mlops-infra:aws:Store", name, None, opts)
        self.queue = aws.sqs.Queue("store-q", name="churn-q", opts=pulumi.ResourceOptions(parent=self))
        self.register_outputs({})
store = Store("store")
pulumi.export("queue", store.queue.name)
"""


def test_plan_json_is_exactly_the_documented_document(make_project):
    project = make_project(PROGRAM, {"prod": "config:\n  demo:environment: prod\n"})
    result = runner.invoke(app, ["plan", str(project), "--stack", "prod", "--format", "json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert set(document) == {"project", "stack", "resources", "outputs", "schema_errors", "schema_skipped"}
    assert (document["schema_errors"], document["schema_skipped"]) == ([], [])  # the queue's inputs conform
    assert (document["project"], document["stack"]) == ("demo", "prod")
    assert document["outputs"] == {"queue": "churn-q"}
    documented = {"urn", "type", "name", "parent", "custom", "inputs", "protect"}
    for resource in document["resources"]:
        # Cloud resources also carry the documented optional "provider" object; components do not.
        assert set(resource) == (documented | {"provider"} if resource["custom"] else documented)
    queue = next(r for r in document["resources"] if r["type"] == "aws:sqs/queue:Queue")
    component = next(r for r in document["resources"] if r["type"] == "mlops-infra:aws:Store")
    assert queue["parent"] == component["urn"] and component["parent"] is None
    assert queue["inputs"]["tags"]["environment"] == "prod"
    assert queue["provider"] == {"cloud": "aws", "region": None, "account_or_project": None, "name": "default"}


def test_plan_text_shows_the_tree_and_counts(make_project, tmp_path):
    out = tmp_path / "plan.txt"
    result = runner.invoke(app, ["plan", str(make_project(PROGRAM)), "-c", "environment=dev", "--out", str(out)])
    assert result.exit_code == 0, result.output
    text = out.read_text()
    assert "mlops-infra:aws:Store" in text and "aws:sqs/queue:Queue" in text
    assert "1 cloud resources (aws: 1); 1 components" in text


@pytest.mark.parametrize(
    ("main", "stack_yaml", "args", "message"),
    [
        (PROGRAM, None, ["-c", "environment=moon"], "environment: Input should be 'dev', 'staging' or 'prod'"),
        (PROGRAM, "config: [oops\n", [], "is not valid YAML"),
        ("def f(:\n", None, [], "syntax error"),
        ("raise RuntimeError('boom from user code')\n", None, [], "boom from user code"),
    ],
)
def test_program_and_config_errors_exit_2(make_project, main, stack_yaml, args, message):
    project = make_project(main, {"dev": stack_yaml} if stack_yaml else None)
    result = runner.invoke(app, ["plan", str(project), *args])
    assert result.exit_code == 2
    assert message in result.stderr
    assert "Traceback" not in result.output


def test_missing_program_exits_2(tmp_path):
    result = runner.invoke(app, ["plan", str(tmp_path / "missing")])
    assert result.exit_code == 2
    assert "program not found" in result.stderr


def test_console_script_never_prints_a_traceback(make_project):
    project = make_project("raise KeyError('feature_group')\n")
    completed = subprocess.run(
        [sys.executable, "-m", "mlops_infra.cli", "plan", str(project)], capture_output=True, text=True, check=False
    )
    assert completed.returncode == 2
    assert "KeyError" in completed.stderr and "Traceback" not in completed.stderr


def test_unknown_stack_points_at_the_missing_stack_file(make_project):
    result = runner.invoke(app, ["plan", str(make_project(PROGRAM)), "--stack", "qa"])
    assert result.exit_code == 2
    assert "environment: Field required" in result.stderr and "there is no Pulumi.qa.yaml" in result.stderr
