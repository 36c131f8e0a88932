"""Rollout safety across two plans: a changed model is a new model and config, never a new endpoint.

These guard the provider pitfalls: an endpoint configuration edited or renamed in place
(terraform-provider-aws #21811), the old configuration deleted first (#40048) and the endpoint
re-created under its existing name (#40080).
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_aws as aws
import pytest

from mlops_infra.aws.endpoint import Endpoint
from mlops_infra.engine.captured import CapturedStack
from mlops_infra.testing import child_resources, one, plan

# Load the (lazily imported) provider packages before any plan: the offline engine drops modules first
# imported during a run when they live under the program's directory, and the repository holds .venv.
PROVIDER_CLASSES = (
    aws.appautoscaling.Policy,
    aws.cloudwatch.MetricAlarm,
    aws.iam.Role,
    aws.kms.Key,
    aws.s3.Bucket,
    aws.sagemaker.EndpointConfiguration,
)
TOKEN = "mlops-infra:aws:Endpoint"
MODEL = "aws:sagemaker/model:Model"
CONFIG = "aws:sagemaker/endpointConfiguration:EndpointConfiguration"
ENDPOINT = "aws:sagemaker/endpoint:Endpoint"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
TARGET = "aws:appautoscaling/target:Target"
REGISTRY = "123456789012.dkr.ecr.us-east-1.amazonaws.com"
FLEET = {"initial_instance_count": 2, "autoscaling": {"min_replicas": 2, "max_replicas": 4}}


def args(
    champion_image: str = f"{REGISTRY}/churn/serve:1.4.2",
    champion_artifact: str = "s3://churn-models/v1/model.tar.gz",
    environment: dict[str, str] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    return {
        "variants": [
            {
                "name": "champion",
                "model": {
                    "image": champion_image,
                    "model_data_url": champion_artifact,
                    "environment": environment or {},
                },
                "instance_type": "ml.m5.large",
                "weight": 80,
                **FLEET,
            },
            {
                "name": "challenger",
                "model": {
                    "image": f"{REGISTRY}/churn/serve:1.5.0",
                    "model_data_url": "s3://churn-models/v2/model.tar.gz",
                },
                "instance_type": "ml.m5.large",
                "weight": 20,
                **FLEET,
            },
        ],
        **extra,
    }


def rollout_plan(endpoint_args: dict[str, Any], environment: str = "prod") -> tuple[CapturedStack, dict[str, Any]]:
    """Plan the endpoint; also record each resource's delete_before_replace as the engine receives it."""
    delete_before_replace: dict[str, Any] = {}

    def record(transform_args: pulumi.ResourceTransformArgs) -> None:
        delete_before_replace[transform_args.name] = transform_args.opts.delete_before_replace

    def program() -> None:
        pulumi.runtime.register_resource_transform(record)
        Endpoint("scoring", endpoint_args)

    return plan(program, environment=environment), delete_before_replace


def names(stack: CapturedStack, type_token: str) -> dict[str, str]:
    """Logical name -> physical name of every resource of a type."""
    return {r.name: r.inputs["name"] for r in stack.by_type(type_token)}


@pytest.fixture(scope="module")
def before() -> tuple[CapturedStack, dict[str, Any]]:
    return rollout_plan(args())


def test_recorder_sees_delete_before_replace_when_set() -> None:
    # Control: the recording transform does report the option, so the checks below can fail.
    seen: dict[str, Any] = {}

    def program() -> None:
        pulumi.runtime.register_resource_transform(lambda a: seen.__setitem__(a.name, a.opts.delete_before_replace))
        aws.sagemaker.EndpointConfiguration(
            "control",
            name="control",
            production_variants=[{"variant_name": "a", "model_name": "m", "instance_type": "ml.m5.large"}],
            opts=pulumi.ResourceOptions(delete_before_replace=True),
        )

    plan(program)
    assert seen["control"] is True


def test_new_image_gives_a_new_model_and_config_but_the_same_endpoint(before: tuple[CapturedStack, Any]) -> None:
    old, _ = before
    new, delete_before_replace = rollout_plan(args(champion_image=f"{REGISTRY}/churn/serve:1.4.3"))

    old_endpoint, new_endpoint = one(old, ENDPOINT), one(new, ENDPOINT)
    assert new_endpoint.urn == old_endpoint.urn
    assert new_endpoint.inputs["name"] == old_endpoint.inputs["name"] == "churn-prod-scoring"
    assert one(new, TOKEN).urn == one(old, TOKEN).urn

    # Same logical resources (URNs) with new physical names: Pulumi replaces them, create-before-delete.
    assert one(new, CONFIG).urn == one(old, CONFIG).urn
    assert one(new, CONFIG).inputs["name"] != one(old, CONFIG).inputs["name"]
    old_models, new_models = names(old, MODEL), names(new, MODEL)
    assert old_models.keys() == new_models.keys()
    assert new_models["scoring-model-champion"] != old_models["scoring-model-champion"]
    # The untouched variant keeps its model version.
    assert new_models["scoring-model-challenger"] == old_models["scoring-model-challenger"]

    # The endpoint points at the new configuration, which references the new model.
    assert new_endpoint.inputs["endpointConfigName"] == one(new, CONFIG).inputs["name"]
    variants = {v["variantName"]: v for v in one(new, CONFIG).inputs["productionVariants"]}
    assert variants["champion"]["modelName"] == new_models["scoring-model-champion"]

    # Nothing is deleted before its replacement exists.
    component = one(new, TOKEN)
    children = {r.name for r in child_resources(new, component.urn)}
    assert children <= delete_before_replace.keys()
    assert all(delete_before_replace[name] in (None, False) for name in children)


def test_names_a_rollback_and_scaling_rely_on_do_not_move(before: tuple[CapturedStack, Any]) -> None:
    old, _ = before
    new, _ = rollout_plan(args(champion_artifact="s3://churn-models/v1-retrained/model.tar.gz"))
    assert names(new, ALARM) == names(old, ALARM)
    rollback = one(new, ENDPOINT).inputs["deploymentConfig"]["autoRollbackConfiguration"]["alarms"]
    assert sorted(a["alarmName"] for a in rollback) == sorted(names(old, ALARM).values())
    assert sorted(t.inputs["resourceId"] for t in new.by_type(TARGET)) == sorted(
        t.inputs["resourceId"] for t in old.by_type(TARGET)
    )
    assert {t.urn for t in new.by_type(TARGET)} == {t.urn for t in old.by_type(TARGET)}


@pytest.mark.parametrize(
    ("change", "model_changes", "config_changes"),
    [
        ({"champion_artifact": "s3://churn-models/v1-retrained/model.tar.gz"}, True, True),
        ({"environment": {"MODEL_THRESHOLD": "0.7"}}, True, True),
        ({"enable_network_isolation": False}, True, True),
        ({"data_capture": {"sampling_percent": 10}}, False, True),
        ({"alarms": {"p95_latency_ms": 200}}, False, False),
        ({"deployment": {"wait_interval_seconds": 900}}, False, False),
    ],
)
def test_what_changes_a_version(
    before: tuple[CapturedStack, Any], change: dict[str, Any], model_changes: bool, config_changes: bool
) -> None:
    old, _ = before
    new, _ = rollout_plan(args(**change))
    champion = "scoring-model-champion"
    assert (names(new, MODEL)[champion] != names(old, MODEL)[champion]) is model_changes
    assert (one(new, CONFIG).inputs["name"] != one(old, CONFIG).inputs["name"]) is config_changes
    assert one(new, ENDPOINT).inputs["name"] == one(old, ENDPOINT).inputs["name"]
    assert one(new, ENDPOINT).urn == one(old, ENDPOINT).urn


def test_identical_args_give_identical_plans(before: tuple[CapturedStack, Any]) -> None:
    old, _ = before
    again, _ = rollout_plan(args())
    assert names(again, MODEL) == names(old, MODEL)
    assert one(again, CONFIG).inputs["name"] == one(old, CONFIG).inputs["name"]
    assert one(again, ENDPOINT).inputs == one(old, ENDPOINT).inputs
    # Byte-identical graph: same URNs, inputs and options for every resource.
    assert again.to_json() == old.to_json()


def test_version_names_fit_sagemaker_and_differ_between_environments(before: tuple[CapturedStack, Any]) -> None:
    old, _ = before
    staging, _ = rollout_plan(args(), environment="staging")
    for stack in (old, staging):
        for name in [*names(stack, MODEL).values(), one(stack, CONFIG).inputs["name"]]:
            assert len(name) <= 63
    assert set(names(staging, MODEL).values()).isdisjoint(names(old, MODEL).values())


def test_replaced_versions_are_retained_in_prod_only(before: tuple[CapturedStack, Any]) -> None:
    old, _ = before
    dev, _ = rollout_plan(args(), environment="dev")
    assert all(r.retain_on_delete for r in [*old.by_type(MODEL), *old.by_type(CONFIG)])
    assert not any(r.retain_on_delete for r in [*dev.by_type(MODEL), *dev.by_type(CONFIG)])
    # The endpoint itself is never retained or protected: it is not where data lives.
    assert not one(old, ENDPOINT).retain_on_delete
    assert not one(old, ENDPOINT).protect
