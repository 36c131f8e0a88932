"""After a successful retrain the pipeline writes the drift monitor's baseline where the monitor reads it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pulumi
import pulumi_aws as aws
import pytest
import yaml

from mlops_infra.aws import TrainingPipeline
from mlops_infra.aws import pipeline_template as template
from mlops_infra.aws.model_monitor import ModelMonitor
from mlops_infra.aws.model_monitor_images import analyzer_image_uri
from mlops_infra.aws.pipeline_definition import iter_steps, security_findings, step_dependencies, topological_order
from mlops_infra.engine import ProgramError
from mlops_infra.engine.captured import CapturedStack
from mlops_infra.platform import MlPlatform
from mlops_infra.spec.load import deep_merge
from mlops_infra.testing import iam_statements, one, plan

SPEC_FILE = Path(__file__).resolve().parents[2] / "stacks" / "platform" / "platform.yaml"


def churn_spec(**overrides: Any) -> dict[str, Any]:
    """The shipped platform.yaml on AWS, approved for prod, with ``overrides``."""
    document = yaml.safe_load(SPEC_FILE.read_text(encoding="utf-8"))
    base = {"clouds": ["aws"], "aws": {"approved_model_packages": {"scoring": 7}}, "alerts": {"emails": ["a@b.co"]}}
    return deep_merge(document, deep_merge(base, overrides))


SPEC = churn_spec()


@pytest.fixture(scope="module")
def stack() -> CapturedStack:
    return plan(lambda: MlPlatform("churn", SPEC), environment="prod")


def _definition(stack: CapturedStack) -> dict:
    return json.loads(one(stack, "aws:sagemaker/pipeline:Pipeline").inputs["pipelineDefinition"])


def test_refresh_baseline_runs_last_after_register(stack):
    definition = _definition(stack)
    graph = step_dependencies(definition)
    assert graph[template.REFRESH_BASELINE] == {template.CHECK_METRIC, template.REGISTER, template.PREPROCESS}
    order = topological_order(graph)
    assert order[-1] == template.REFRESH_BASELINE
    assert order.index(template.REGISTER) < order.index(template.REFRESH_BASELINE)
    # Only in the metric gate's "pass" branch: a model that failed the gate changes no baseline.
    check = next(s for s, _ in iter_steps(definition) if s["Name"] == template.CHECK_METRIC)
    assert [s["Name"] for s in check["Arguments"]["IfSteps"]] == [template.REGISTER, template.REFRESH_BASELINE]
    assert [s["Name"] for s in check["Arguments"]["ElseSteps"]] == [template.METRIC_BELOW_THRESHOLD]


def test_the_baseline_is_written_where_the_monitor_reads_it_with_kms(stack):
    definition = _definition(stack)
    step = next(s for s, _ in iter_steps(definition) if s["Name"] == template.REFRESH_BASELINE)
    arguments = step["Arguments"]
    (output,) = arguments["ProcessingOutputConfig"]["Outputs"]
    written = output["S3Output"]["S3Uri"]
    job = one(stack, "aws:sagemaker/dataQualityJobDefinition:DataQualityJobDefinition").inputs
    baseline = job["dataQualityBaselineConfig"]
    assert baseline["statisticsResource"]["s3Uri"] == f"{written}/statistics.json"
    assert baseline["constraintsResource"]["s3Uri"] == f"{written}/constraints.json"
    assert (
        written == "s3://churn-prod-aws-model-store-123456789012-us-east-1/pipelines/aws-training/monitoring-baseline"
    )
    key = stack.outputs["platform"]["aws"]["keyArn"] if "platform" in stack.outputs else None
    key = key or job["dataQualityJobOutputConfig"]["kmsKeyId"]
    assert key.startswith("arn:aws:kms:us-east-1:123456789012:key/")
    assert arguments["ProcessingOutputConfig"]["KmsKeyId"] == key
    assert arguments["ProcessingResources"]["ClusterConfig"]["VolumeKmsKeyId"] == key
    assert arguments["AppSpecification"]["ImageUri"] == analyzer_image_uri("us-east-1")
    assert arguments["Environment"]["output_path"] == output["S3Output"]["LocalPath"]
    (dataset,) = arguments["ProcessingInputs"]
    assert dataset["S3Input"]["S3Uri"] == template.processing_output_uri(template.PREPROCESS, "train")
    assert arguments["Environment"]["dataset_source"] == dataset["S3Input"]["LocalPath"]
    assert security_findings(definition) == []


def test_the_execution_role_may_write_the_baseline_and_pull_the_analyzer(stack):
    policy = next(p for p in stack.by_type("aws:iam/rolePolicy:RolePolicy") if "aws-training-execution-policy" in p.urn)
    statements = {s["Sid"]: s for s in iam_statements(policy)}
    assert statements["PullModelMonitorAnalyzer"]["Resource"] == [
        "arn:aws:ecr:us-east-1:156813124566:repository/sagemaker-model-monitor-analyzer"
    ]
    assert statements["ArtifactObjects"]["Resource"] == [
        "arn:aws:s3:::churn-prod-aws-model-store-123456789012-us-east-1/pipelines/aws-training/*"
    ]


def test_a_fixed_baseline_in_the_spec_is_kept_and_not_refreshed():
    spec = churn_spec(monitoring={"drift": {"baseline": "fixed/v7"}})
    stack = plan(lambda: MlPlatform("churn", spec), environment="prod")
    names = [s["Name"] for s, _ in iter_steps(_definition(stack))]
    assert template.REFRESH_BASELINE not in names
    job = one(stack, "aws:sagemaker/dataQualityJobDefinition:DataQualityJobDefinition").inputs
    assert job["dataQualityBaselineConfig"]["statisticsResource"]["s3Uri"] == (
        "s3://churn-prod-aws-model-store-123456789012-us-east-1/fixed/v7/statistics.json"
    )


GOVCLOUD_ANALYZER = "123456789012.dkr.ecr.us-gov-west-1.amazonaws.com/sagemaker-model-monitor-analyzer:copied"


def test_in_govcloud_the_specs_analyzer_copy_runs_the_drift_jobs_and_the_baseline_step():
    # SageMaker publishes no analyzer image in GovCloud: the spec names the copy in the stack's own ECR.
    spec = churn_spec(aws={"analyzer_image_uri": GOVCLOUD_ANALYZER})
    stack = plan(lambda: MlPlatform("churn", spec), environment="prod", config={"aws:region": "us-gov-west-1"})
    job = one(stack, "aws:sagemaker/dataQualityJobDefinition:DataQualityJobDefinition").inputs
    assert job["dataQualityAppSpecification"]["imageUri"] == GOVCLOUD_ANALYZER
    step = next(s for s, _ in iter_steps(_definition(stack)) if s["Name"] == template.REFRESH_BASELINE)
    assert step["Arguments"]["AppSpecification"]["ImageUri"] == GOVCLOUD_ANALYZER
    policy = next(p for p in stack.by_type("aws:iam/rolePolicy:RolePolicy") if "aws-training-execution-policy" in p.urn)
    statements = {s["Sid"]: s for s in iam_statements(policy)}
    assert statements["PullModelMonitorAnalyzer"]["Resource"] == [
        "arn:aws-us-gov:ecr:us-gov-west-1:123456789012:repository/sagemaker-model-monitor-analyzer"
    ]


def test_in_govcloud_without_an_analyzer_copy_the_spec_field_is_named_before_anything_registers():
    with pytest.raises(
        ProgramError, match=r"aws\.analyzer_image_uri: .*publishes no image of it in us-gov-west-1"
    ) as caught:
        plan(lambda: MlPlatform("churn", SPEC), environment="prod", config={"aws:region": "us-gov-west-1"})
    assert caught.value.registered == []


def _pipeline_args(**overrides: Any) -> dict[str, Any]:
    return {
        "model_package_group_name": "churn-models",
        "training_image_uri": "123456789012.dkr.ecr.us-gov-west-1.amazonaws.com/churn-train:1.0",
        "processing_image_uri": "123456789012.dkr.ecr.us-gov-west-1.amazonaws.com/churn-process:1.0",
        "training_instance_type": "ml.m5.xlarge",
        "processing_instance_type": "ml.m5.large",
        "volume_size_gb": 50,
        "max_runtime_seconds": 3600,
        "gate": {"name": "auc", "threshold": 0.8, "direction": "maximize"},
        "input_data_s3_uri": "s3://churn-raw-data/weekly/",
        "refresh_monitoring_baseline": True,
        **overrides,
    }


def test_the_training_pipeline_alone_names_its_argument_for_a_region_without_an_image():
    args = _pipeline_args()
    with pytest.raises(ProgramError, match="analyzer_image_uri: no Model Monitor image is known for region") as caught:
        plan(lambda: TrainingPipeline("churn-training", args), config={"aws:region": "us-gov-west-1"})
    assert caught.value.registered == []


def test_a_component_with_its_own_provider_runs_the_image_of_that_providers_region():
    # The stack's default region has no image, but these components deploy through a provider in eu-west-1.
    def program() -> None:
        commercial = pulumi.ResourceOptions(provider=aws.Provider("eu", region="eu-west-1"))
        TrainingPipeline("churn-training", _pipeline_args(), opts=commercial)
        ModelMonitor(
            "scoring-monitor",
            {
                "kms_key_arn": "arn:aws:kms:eu-west-1:123456789012:key/abc",
                "endpoint_name": "churn-scoring",
                "capture_s3_uri": "s3://churn-capture/datacapture",
                "baseline_statistics_s3_uri": "s3://churn-baselines/v7/statistics.json",
                "baseline_constraints_s3_uri": "s3://churn-baselines/v7/constraints.json",
            },
            opts=commercial,
        )

    stack = plan(program, environment="prod", config={"aws:region": "us-gov-west-1"})
    eu_image = analyzer_image_uri("eu-west-1")
    job = one(stack, "aws:sagemaker/dataQualityJobDefinition:DataQualityJobDefinition").inputs
    assert job["dataQualityAppSpecification"]["imageUri"] == eu_image
    step = next(s for s, _ in iter_steps(_definition(stack)) if s["Name"] == template.REFRESH_BASELINE)
    assert step["Arguments"]["AppSpecification"]["ImageUri"] == eu_image


def test_a_platform_with_its_own_aws_provider_is_checked_against_that_providers_region():
    def program() -> None:
        eu = aws.Provider("eu", region="eu-west-1")
        MlPlatform("churn", SPEC, opts=pulumi.ResourceOptions(providers=[eu]))

    stack = plan(program, environment="prod", config={"aws:region": "us-gov-west-1"})
    job = one(stack, "aws:sagemaker/dataQualityJobDefinition:DataQualityJobDefinition").inputs
    assert job["dataQualityAppSpecification"]["imageUri"] == analyzer_image_uri("eu-west-1")
