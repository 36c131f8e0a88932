"""allowed-instance-types wherever a type appears (Vertex deployments, GPUs, pipeline steps), per environment."""

from __future__ import annotations

import fnmatch
import json
from pathlib import Path
from textwrap import dedent
from typing import Any

import jsonschema
import pytest
from policy_factories import K8S_LABELS, check, findings, view
from typer.testing import CliRunner

from mlops_infra.cli import app
from mlops_infra.policy.config import (
    DEFAULT_ALLOWED_INSTANCE_TYPES,
    DEFAULT_DEV_INSTANCE_TYPES,
    PolicyConfig,
    PolicyConfigError,
    policy_config_from_data,
)
from mlops_infra.policy.model import Enforcement
from mlops_infra.policy.pack import PROPERTY_SCHEMAS
from mlops_infra.policy.rules import REGISTRY

RULE = "allowed-instance-types"
VERTEX = "pulumi-python:dynamic/vertex:VertexModelDeployment"
runner = CliRunner()


def vertex(**deployment: Any) -> dict[str, Any]:
    base = {"key": "primary", "model": "projects/p/locations/r/models/m", "machine_type": "n1-standard-2"}
    return {"endpoint": "projects/p/locations/r/endpoints/1", "deployments": [{**base, **deployment}]}


def gpu_container(count: Any = 1, section: str = "limits") -> dict[str, Any]:
    return {"name": "app", "image": "registry.example.com/app:1", "resources": {section: {"nvidia.com/gpu": count}}}


def workload(container: dict[str, Any]) -> dict[str, Any]:
    template = {"metadata": {"labels": {"app": "a"}}, "spec": {"containers": [container]}}
    return {
        "metadata": {"labels": K8S_LABELS},
        "spec": {"selector": {"matchLabels": {"app": "a"}}, "template": template},
    }


def cronjob(container: dict[str, Any]) -> dict[str, Any]:
    job = {"template": {"spec": {"containers": [container], "restartPolicy": "Never"}}}
    return {"metadata": {"labels": K8S_LABELS}, "spec": {"schedule": "0 * * * *", "jobTemplate": {"spec": job}}}


def isvc(resources: dict[str, Any]) -> dict[str, Any]:
    model = {"modelFormat": {"name": "sklearn"}, "storageUri": "s3://m/v1", "resources": resources}
    return {"metadata": {"labels": K8S_LABELS}, "spec": {"predictor": {"model": model}}}


def pipeline(instance_type: str, step: str = "Training") -> dict[str, Any]:
    arguments = (
        {"ResourceConfig": {"InstanceType": instance_type, "InstanceCount": 1}}
        if step == "Training"
        else {"ProcessingResources": {"ClusterConfig": {"InstanceType": instance_type, "InstanceCount": 1}}}
    )
    steps = [{"Name": "Step", "Type": step, "Arguments": arguments}]
    return {"pipelineDefinition": json.dumps({"Version": "2020-12-01", "Steps": steps})}


# --- the product's VertexModelDeployment ----------------------------------------------------------


def test_vertex_model_deployment_machine_and_accelerator_types_are_checked() -> None:
    big = view(VERTEX, vertex(machine_type="a3-highgpu-8g", accelerator_type="NVIDIA_H100_80GB", accelerator_count=8))
    messages = [v.message for v in findings(check(RULE, big))]
    assert any("deployments[0].machine_type is a3-highgpu-8g" in m for m in messages)
    assert any("deployments[0].accelerator_type is NVIDIA_H100_80GB" in m for m in messages)
    assert check(RULE, view(VERTEX, vertex())) == []
    t4 = view(VERTEX, vertex(machine_type="n1-standard-4", accelerator_type="NVIDIA_TESLA_T4", accelerator_count=1))
    assert check(RULE, t4) == []
    assert findings(check(RULE, t4, environment="dev"))  # dev admits no accelerators


def test_every_deployment_of_a_vertex_model_deployment_is_checked() -> None:
    props = vertex()
    props["deployments"].append({"key": "green", "model": "m", "machine_type": "a2-ultragpu-8g"})
    [finding] = findings(check(RULE, view(VERTEX, props)))
    assert "deployments[1].machine_type is a2-ultragpu-8g" in finding.message


# --- Kubernetes GPU requests ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("type_token", "props"),
    [
        ("kubernetes:apps/v1:Deployment", workload(gpu_container())),
        ("kubernetes:apps/v1:StatefulSet", workload(gpu_container(2, "requests"))),
        ("kubernetes:batch/v1:Job", {"metadata": {"labels": K8S_LABELS}, "spec": workload(gpu_container())["spec"]}),
        ("kubernetes:batch/v1:CronJob", cronjob(gpu_container("1"))),
        ("kubernetes:serving.kserve.io/v1beta1:InferenceService", isvc({"limits": {"nvidia.com/gpu": "1"}})),
    ],
)
def test_gpu_requests_need_an_allow_list_that_admits_gpus(type_token: str, props: dict[str, Any]) -> None:
    resource = view(type_token, props)
    assert check(RULE, resource) == []  # protected environments keep today's list, which admits GPUs
    dev = findings(check(RULE, resource, environment="dev"))
    assert dev and all("asks for a GPU (nvidia.com/gpu)" in v.message for v in dev)
    assert all(v.enforcement is Enforcement.ADVISORY for v in dev)
    assert "allowedInstanceTypesByEnvironment.dev" in dev[0].message
    no_gpus = PolicyConfig.model_validate({"allowedInstanceTypes": ["ml.m5.*"]})
    prod = findings(check(RULE, resource, config=no_gpus))
    assert prod and all(v.enforcement is Enforcement.MANDATORY for v in prod)


def test_zero_gpus_and_cpu_only_workloads_pass_in_dev() -> None:
    assert check(RULE, view("kubernetes:apps/v1:Deployment", workload(gpu_container(0))), environment="dev") == []
    cpu = {"name": "app", "image": "i:1", "resources": {"limits": {"cpu": "1", "memory": "1Gi"}}}
    assert check(RULE, view("kubernetes:apps/v1:Deployment", workload(cpu)), environment="dev") == []


# --- SageMaker pipeline steps ---------------------------------------------------------------------


@pytest.mark.parametrize("step", ["Training", "Processing"])
def test_pipeline_step_instance_types_follow_the_environment_list(step: str) -> None:
    pipe = "aws:sagemaker/pipeline:Pipeline"
    assert findings(check(RULE, view(pipe, pipeline("ml.p4d.24xlarge", step))))
    assert check(RULE, view(pipe, pipeline("ml.m5.2xlarge", step))) == []
    [dev] = findings(check(RULE, view(pipe, pipeline("ml.m5.2xlarge", step)), environment="dev"))
    assert "step 'Step'" in dev.message and "ml.m5.2xlarge" in dev.message
    assert check(RULE, view(pipe, pipeline("ml.m5.xlarge", step)), environment="dev") == []


# --- only what the provider offers for the job kind -------------------------------------------------

EC = "aws:sagemaker/endpointConfiguration:EndpointConfiguration"


def endpoint_config(instance_type: str) -> dict[str, Any]:
    return {"productionVariants": [{"variantName": "main", "instanceType": instance_type, "initialInstanceCount": 1}]}


@pytest.mark.parametrize(
    ("type_token", "props", "value", "kind"),
    [
        ("aws:sagemaker/pipeline:Pipeline", pipeline("ml.m5d.large", "Processing"), "ml.m5d.large", "processing"),
        ("aws:sagemaker/pipeline:Pipeline", pipeline("ml.m5d.large", "Training"), "ml.m5d.large", "training"),
        (EC, endpoint_config("ml.t3.medium"), "ml.t3.medium", "endpoint"),
        (
            "aws:sagemaker/dataQualityJobDefinition:DataQualityJobDefinition",
            {"jobResources": {"clusterConfig": {"instanceType": "ml.m5d.xlarge", "instanceCount": 1}}},
            "ml.m5d.xlarge",
            "monitoring",
        ),
    ],
)
def test_an_allow_list_pattern_does_not_admit_a_type_the_job_kind_lacks(
    type_token: str, props: dict[str, Any], value: str, kind: str
) -> None:
    # ml.m5d.* and ml.t3.* are in the default allow-list, but SageMaker offers these types to other kinds only.
    assert any(fnmatch.fnmatchcase(value, p) for p in DEFAULT_ALLOWED_INSTANCE_TYPES)
    [finding] = findings(check(RULE, view(type_token, props)))
    assert f"is {value}: SageMaker does not offer {value} for {kind} jobs" in finding.message
    assert finding.enforcement is Enforcement.MANDATORY
    everything = PolicyConfig.model_validate({"allowedInstanceTypes": ["*"]})
    assert findings(check(RULE, view(type_token, props), config=everything))  # no pattern can admit it


def test_the_same_families_pass_where_sagemaker_offers_them() -> None:
    assert check(RULE, view(EC, endpoint_config("ml.m5d.large"))) == []
    assert check(RULE, view("aws:sagemaker/notebookInstance:NotebookInstance", {"instanceType": "ml.t3.medium"})) == []
    assert check(RULE, view("aws:sagemaker/pipeline:Pipeline", pipeline("ml.t3.medium", "Processing"))) == []
    assert check(RULE, view("aws:sagemaker/pipeline:Pipeline", pipeline("ml.g5.xlarge", "Training"))) == []


@pytest.mark.parametrize("step", ["Training", "Processing"])
def test_a_type_sagemaker_does_not_have_is_refused_although_a_glob_matches(step: str) -> None:
    assert fnmatch.fnmatchcase("ml.c5.3xlarge", "ml.c5.*")
    [finding] = findings(check(RULE, view("aws:sagemaker/pipeline:Pipeline", pipeline("ml.c5.3xlarge", step))))
    assert "'ml.c5.3xlarge' is not a SageMaker instance type (of any job kind)" in finding.message
    assert "step 'Step'" in finding.message
    [endpoint] = findings(check(RULE, view(EC, endpoint_config("ml.c5.3xlarge"))))
    assert "productionVariants[0].instanceType is ml.c5.3xlarge" in endpoint.message


def test_vertex_deployments_take_prediction_machine_types_only() -> None:
    [finding] = findings(check(RULE, view(VERTEX, vertex(machine_type="m1-ultramem-40"))))
    assert "Vertex AI does not offer m1-ultramem-40 for prediction (only for training)" in finding.message
    [made_up] = findings(check(RULE, view(VERTEX, vertex(machine_type="n1-standard-3"))))
    assert "'n1-standard-3' is not a Vertex AI machine type for prediction" in made_up.message


# --- per-environment allow-lists ------------------------------------------------------------------


def test_default_dev_list_has_no_gpus_and_nothing_above_xlarge_or_standard_4() -> None:
    config = PolicyConfig()
    assert config.instance_types_for("dev") == DEFAULT_DEV_INSTANCE_TYPES
    assert config.instance_types_for("prod") == config.instance_types_for("staging") == DEFAULT_ALLOWED_INSTANCE_TYPES
    assert config.instance_types_for(None) == DEFAULT_ALLOWED_INSTANCE_TYPES

    def admitted(value: str) -> bool:
        return any(fnmatch.fnmatchcase(value, p) for p in DEFAULT_DEV_INSTANCE_TYPES)

    for ok in ("ml.m5.large", "ml.m5.xlarge", "ml.t3.medium", "m5.xlarge", "n1-standard-4", "e2-medium"):
        assert admitted(ok), ok
    for large in (
        "ml.m5.2xlarge",
        "ml.g5.xlarge",
        "ml.g4dn.xlarge",
        "ml.p3.2xlarge",
        "ml.inf2.xlarge",
        "g5.xlarge",
        "n1-standard-8",
        "e2-standard-8",
        "g2-standard-4",
        "a2-highgpu-1g",
        "NVIDIA_TESLA_T4",
        "nvidia.com/gpu",
    ):
        assert not admitted(large), large


def test_by_environment_list_replaces_the_flat_list_only_in_its_environment() -> None:
    config = PolicyConfig.model_validate(
        {"allowedInstanceTypes": ["ml.m5.*"], "allowedInstanceTypesByEnvironment": {"dev": ["ml.t3.medium"]}}
    )
    ec = "aws:sagemaker/endpointConfiguration:EndpointConfiguration"
    variant = {"variantName": "main", "modelName": "m", "instanceType": "ml.m5.large", "initialInstanceCount": 1}
    resource = view(ec, {"productionVariants": [variant]})
    assert check(RULE, resource, config=config) == []
    [dev] = findings(check(RULE, resource, environment="dev", config=config))
    assert "of environment dev" in dev.message
    everywhere = PolicyConfig.model_validate({"allowedInstanceTypesByEnvironment": {}})
    assert everywhere.instance_types_for("dev") == DEFAULT_ALLOWED_INSTANCE_TYPES


@pytest.mark.parametrize(
    "value",
    [["ml.m5.*"], {"dev": "ml.m5.*"}, {"dev": [""]}, {"dev": [1]}, {" ": ["ml.m5.*"]}, {"dev": None}],
)
def test_by_environment_key_is_validated_strictly(value: Any) -> None:
    with pytest.raises(PolicyConfigError, match="allowedInstanceTypesByEnvironment"):
        policy_config_from_data({"allowedInstanceTypesByEnvironment": value}, "inline")


def test_by_environment_key_through_the_pack_config_shape() -> None:
    config = policy_config_from_data(
        {"allowed-instance-types": {"allowedInstanceTypesByEnvironment": {"dev": ["ml.m5.large"]}}}, "inline"
    )
    assert config.instance_types_for("dev") == ("ml.m5.large",)
    overlaid = PolicyConfig().with_pack_properties({"allowedInstanceTypesByEnvironment": {"qa": ["e2-*"]}})
    assert overlaid.instance_types_for("qa") == ("e2-*",) and overlaid.instance_types_for("dev") == (
        DEFAULT_ALLOWED_INSTANCE_TYPES
    )


@pytest.mark.parametrize(
    ("name", "good", "bad"),
    [
        ("allowedInstanceTypes", ["ml.m5.*"], [""]),
        ("allowedInstanceTypesByEnvironment", {"dev": ["ml.m5.large"]}, {"dev": "ml.m5.large"}),
    ],
)
def test_pack_schema_and_model_agree_on_the_instance_type_keys(name: str, good: Any, bad: Any) -> None:
    assert name in REGISTRY[RULE].config_properties
    schema = PROPERTY_SCHEMAS[name]
    jsonschema.validate(good, schema)
    PolicyConfig.model_validate({name: good})
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, schema)
    with pytest.raises(PolicyConfigError):
        policy_config_from_data({name: bad}, "inline")
    assert PolicyConfig.model_fields[name_to_field(name)].alias == name


def name_to_field(alias: str) -> str:
    return next(f for f, info in PolicyConfig.model_fields.items() if info.alias == alias)


# --- through `mlops-infra check` ------------------------------------------------------------------

VERTEX_PROGRAM = """\
from mlops_infra.conventions import init_platform
from mlops_infra.gcp import Budget, Endpoint

init_platform(environment="prod", owner="ml-platform", costCenter="cc-1234")
model = "projects/acme-ml/locations/us-central1/models/churn-prod-churn"
Endpoint(
    "churn",
    {
        "region": "us-central1",
        "deployments": [
            {"key": "blue", "model": model, "alias": "champion", "min_replicas": 40, "max_replicas": 40,
             "machine_type": "a3-highgpu-8g", "accelerator_type": "NVIDIA_H100_80GB", "accelerator_count": 8},
        ],
    },
)
Budget("example", {"billing_account": "01A2B3-C4D5E6-F7A8B9", "monthly_limit": 2000})
"""

GPU_PROGRAM = """\
import pulumi_kubernetes as k8s

labels = {"project": "demo", "environment": "ENV", "owner": "ml", "cost-center": "cc-1"}
k8s.apps.v1.Deployment(
    "trainer",
    metadata={"namespace": "ml", "labels": labels},
    spec={
        "selector": {"match_labels": {"app": "t"}},
        "template": {
            "metadata": {"labels": {"app": "t"}},
            "spec": {"containers": [{"name": "t", "image": "registry.example.com/t:1",
                                     "resources": {"limits": {"nvidia.com/gpu": "1"}}}]},
        },
    },
)
"""


def _project(tmp_path: Path, main: str, environment: str) -> Path:
    directory = tmp_path / "demo"
    directory.mkdir()
    (directory / "Pulumi.yaml").write_text("name: demo\nruntime: python\n")
    (directory / "__main__.py").write_text(dedent(main))
    (directory / f"Pulumi.{environment}.yaml").write_text(f"config:\n  demo:environment: {environment}\n")
    return directory


def _rule_violations(*args: str) -> tuple[int, list[dict[str, Any]]]:
    result = runner.invoke(app, ["check", *args, "--format", "json"])
    violations = json.loads(result.stdout)["violations"]
    return result.exit_code, [v for v in violations if v["policy_id"] == RULE]


def test_check_fails_forty_a3_highgpu_8g_on_a_vertex_deployment(tmp_path: Path) -> None:
    code, violations = _rule_violations(str(_project(tmp_path, VERTEX_PROGRAM, "prod")), "--stack", "prod")
    assert code == 1
    assert {v["resource_type"] for v in violations} == {VERTEX}
    assert any("a3-highgpu-8g" in v["message"] for v in violations)
    assert all(v["enforcement"] == "mandatory" for v in violations)


def test_check_flags_a_gpu_request_in_dev_and_a_policy_config_admits_it(tmp_path: Path) -> None:
    directory = _project(tmp_path, GPU_PROGRAM.replace("ENV", "dev"), "dev")
    code, violations = _rule_violations(str(directory), "--stack", "dev", "--config", "environment=dev")
    assert [v["enforcement"] for v in violations] == ["advisory"]
    assert "nvidia.com/gpu" in violations[0]["message"]
    config = tmp_path / "policy.yaml"
    config.write_text(
        "allowedInstanceTypesByEnvironment:\n  dev: [nvidia.com/gpu]\n"
        "enforcement:\n  allowed-instance-types: mandatory\n"
    )
    args = (str(directory), "--stack", "dev", "--config", "environment=dev", "--policy-config", str(config))
    assert _rule_violations(*args)[1] == []
    config.write_text(
        "allowedInstanceTypesByEnvironment:\n  dev: []\nenforcement:\n  allowed-instance-types: mandatory\n"
    )
    code, violations = _rule_violations(*args)
    assert code == 1 and [v["enforcement"] for v in violations] == ["mandatory"]
