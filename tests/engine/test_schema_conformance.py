"""Provider-schema conformance: raw programs whose inputs the provider SDK's types refuse.

Raw ``pulumi.CustomResource`` registrations skip the typed SDK classes (as a wrong dict key in a
nested block does), so only the conformance check stands between them and a failed preview.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import jsonschema
import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s
import pytest
from typer.testing import CliRunner

from mlops_infra.cli import app
from mlops_infra.engine import CapturedStack, run_function
from mlops_infra.engine.conformance import SchemaError, check_stack

runner = CliRunner()
SARIF_SCHEMA = json.loads((Path(__file__).parents[1] / "policy" / "sarif_required_schema.json").read_text())
ALB = "aws:alb/loadBalancer:LoadBalancer"
ENDPOINT_CONFIG = "aws:sagemaker/endpointConfiguration:EndpointConfiguration"
VARIANT = {"variantName": "main", "modelName": "m", "instanceType": "ml.m5.large", "initialInstanceCount": 1}


def _errors(program: Callable[[], None]) -> tuple[CapturedStack, list[SchemaError]]:
    stack = run_function(program)
    return stack, check_stack(stack).errors


def _urn(stack: CapturedStack, name: str) -> str:
    return next(r.urn for r in stack.resources if r.name == name)


def test_a_conforming_program_has_no_errors_and_every_resource_is_checked() -> None:
    def program() -> None:
        aws.sagemaker.EndpointConfiguration(
            "ok", production_variants=[{"model_name": "m", "instance_type": "ml.m5.large", "initial_instance_count": 1}]
        )
        pulumi.CustomResource(ALB, "lb", {"loadBalancerType": "network", "internal": True})
        k8s.core.v1.Namespace("ns", metadata={"labels": {"team": "ml"}})

    stack, errors = _errors(program)
    assert errors == []
    assert check_stack(stack).checked == 3


def test_a_wrong_property_name_is_reported_with_its_path_and_the_wire_name() -> None:
    def program() -> None:
        pulumi.CustomResource(ENDPOINT_CONFIG, "typo", {"productionVariants": [{**VARIANT, "instanceTyp": "x"}]})
        pulumi.CustomResource(ENDPOINT_CONFIG, "snake", {"productionVariants": [VARIANT], "kms_key_arn": "arn:k"})

    stack, errors = _errors(program)
    assert [(e.urn, e.path) for e in errors] == [
        (_urn(stack, "snake"), "kms_key_arn"),
        (_urn(stack, "typo"), "productionVariants[0].instanceTyp"),
    ]
    snake, typo = errors
    assert "unknown property of EndpointConfiguration" in snake.message and "'kmsKeyArn'" in snake.message
    assert "unknown property of EndpointConfigurationProductionVariant" in typo.message
    assert "did you mean 'instanceType'" in typo.message


def test_a_wrong_type_is_reported_from_a_typed_sdk_call_too() -> None:
    def program() -> None:
        # The SDK passes a nested dict through as given: a string count reaches the provider.
        aws.sagemaker.EndpointConfiguration(
            "count", production_variants=[{"model_name": "m", "initial_instance_count": "two"}]
        )
        pulumi.CustomResource(ENDPOINT_CONFIG, "tags", {"productionVariants": [VARIANT], "tags": {"team": 7}})
        pulumi.CustomResource(ENDPOINT_CONFIG, "flat", {"productionVariants": VARIANT})

    stack, errors = _errors(program)
    found = {(e.urn, e.path): e.message for e in errors}
    assert found == {
        (_urn(stack, "count"), "productionVariants[0].initialInstanceCount"): "expected integer, got string 'two'",
        (_urn(stack, "tags"), "tags['team']"): "expected string, got integer 7",
        (_urn(stack, "flat"), "productionVariants"): "expected a list, got object",
    }


def test_a_wrong_enum_and_a_fractional_integer_are_reported() -> None:
    def program() -> None:
        pulumi.CustomResource(ALB, "lb", {"loadBalancerType": "classic"})
        pulumi.CustomResource(
            ENDPOINT_CONFIG, "half", {"productionVariants": [{**VARIANT, "initialInstanceCount": 1.5}]}
        )
        pulumi.CustomResource("kubernetes:core/v1:Namespace", "ns", {"apiVersion": "v2", "kind": "Namespace"})

    stack, errors = _errors(program)
    found = {(e.urn, e.path): e.message for e in errors}
    assert found == {
        (
            _urn(stack, "lb"),
            "loadBalancerType",
        ): "string 'classic' is not one of LoadBalancerType: application, network",
        (_urn(stack, "half"), "productionVariants[0].initialInstanceCount"): "expected integer, got number 1.5",
        (_urn(stack, "ns"), "apiVersion"): "string 'v2' is not one of the allowed values: v1",
    }


def test_missing_required_properties_are_reported_at_each_level() -> None:
    def program() -> None:
        pulumi.CustomResource(ENDPOINT_CONFIG, "bare", {"tags": {"team": "ml"}})
        pulumi.CustomResource(
            "aws:sagemaker/endpoint:Endpoint",
            "deploy",
            {"endpointConfigName": "c", "deploymentConfig": {"blueGreenUpdatePolicy": {}}},
        )

    stack, errors = _errors(program)
    assert {(e.urn, e.path, e.message) for e in errors} == {
        (_urn(stack, "bare"), "productionVariants", "required property of EndpointConfiguration is missing"),
        (
            _urn(stack, "deploy"),
            "deploymentConfig.blueGreenUpdatePolicy.trafficRoutingConfiguration",
            "required property of EndpointDeploymentConfigBlueGreenUpdatePolicy is missing",
        ),
    }


def test_an_unknown_type_token_is_an_error_and_custom_resources_and_providers_are_skipped_with_a_reason() -> None:
    def program() -> None:
        pulumi.CustomResource("aws:sagemaker/endpoint:Endpointt", "typo", {})
        pulumi.CustomResource("kubernetes:apps/v1:Deploymnt", "kind", {})
        pulumi.CustomResource("kubernetes:serving.kserve.io/v1beta1:InferenceService", "isvc", {"spec": {"x": 1}})
        aws.Provider("eu", region="eu-west-1")

    stack, errors = _errors(program)
    assert {(e.urn, e.path) for e in errors} == {(_urn(stack, "typo"), ""), (_urn(stack, "kind"), "")}
    assert all("has no resource type" in e.message and "pulumi-" in e.message for e in errors)
    skipped = {s.resource_type: s for s in check_stack(stack).skipped}
    assert set(skipped) == {"kubernetes:serving.kserve.io/v1beta1:InferenceService", "pulumi:providers:aws"}
    assert "CRD" in skipped["kubernetes:serving.kserve.io/v1beta1:InferenceService"].reason


def test_secrets_are_checked_by_type_without_their_value() -> None:
    def program() -> None:
        count = pulumi.Output.secret("two-hundred")
        aws.sagemaker.EndpointConfiguration(
            "secret", production_variants=[{"model_name": "m", "initial_instance_count": count}]
        )
        aws.sagemaker.EndpointConfiguration(
            "fine", production_variants=[{"model_name": pulumi.Output.secret("m"), "initial_instance_count": 2}]
        )

    stack, errors = _errors(program)
    assert [(e.urn, e.message) for e in errors] == [(_urn(stack, "secret"), "expected integer, got a secret string")]
    assert "two-hundred" not in json.dumps([e.to_json() for e in errors])
    secret = next(r for r in stack.resources if r.name == "secret")
    assert json.dumps(secret.inputs) == '{"productionVariants": "[secret]"}'  # the plan still shows the placeholder


BROKEN_PROGRAM = """\
import pulumi

pulumi.CustomResource("aws:alb/loadBalancer:LoadBalancer", "lb", {"loadBalancerType": "classic", "internl": True})
"""


@pytest.fixture
def broken(make_project):  # type: ignore[no-untyped-def]
    return make_project(BROKEN_PROGRAM, {"prod": "config:\n  demo:environment: prod\n"})


def test_plan_json_lists_schema_errors_and_exits_0(broken) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(app, ["plan", str(broken), "--stack", "prod", "--format", "json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    urn = "urn:pulumi:prod::demo::aws:alb/loadBalancer:LoadBalancer::lb"
    assert [(e["urn"], e["path"]) for e in document["schema_errors"]] == [
        (urn, "internl"),
        (urn, "loadBalancerType"),
    ]
    assert set(document["schema_errors"][0]) == {"urn", "resource_type", "path", "message"}
    assert document["schema_skipped"] == []
    assert "2 error(s)" in result.stderr


def test_plan_text_shows_the_errors_table(broken, tmp_path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "plan.txt"
    result = runner.invoke(app, ["plan", str(broken), "--stack", "prod", "--out", str(out)])
    assert result.exit_code == 0, result.output
    text = " ".join(out.read_text().split())  # rich wraps at the file console's width
    assert "Schema errors" in text and "LoadBalancer::lb internl: unknown property" in text
    assert "did you mean 'internal'" in text
    assert "schema conformance: 2 error(s) in 1 custom resources checked" in text


@pytest.mark.parametrize("output_format", ["text", "json", "sarif"])
def test_check_exits_1_on_schema_errors_in_every_format(broken, output_format) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(app, ["check", str(broken), "--stack", "prod", "--format", output_format])
    assert result.exit_code == 1, result.output
    if output_format == "text":
        text = " ".join(result.stdout.split())  # rich wraps at the terminal width
        assert "LoadBalancer::lb loadBalancerType: string 'classic' is not one of LoadBalancerType" in text
    elif output_format == "json":
        assert len(json.loads(result.stdout)["schema_errors"]) == 2
    else:
        log = json.loads(result.stdout)
        jsonschema.validate(log, SARIF_SCHEMA)
        run = log["runs"][0]
        rules = run["tool"]["driver"]["rules"]
        schema_results = [r for r in run["results"] if r["ruleId"] == "schema-conformance"]
        assert len(schema_results) == 2 and {r["level"] for r in schema_results} == {"error"}
        assert all(rules[r["ruleIndex"]]["id"] == "schema-conformance" for r in schema_results)
        assert any(r["message"]["text"].startswith("loadBalancerType: ") for r in schema_results)
