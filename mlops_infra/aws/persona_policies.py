"""What each person's role may do on AWS: IAM statements scoped to the platform's own resources.

- data scientists read features (feature groups, the offline store, the key to decrypt them), read the
  registry, and run the training pipeline in unprotected environments (in protected ones they only read
  its runs);
- ML engineers: the same, plus run the pipeline everywhere, read the model store, read endpoints, and
  approve model versions (``sagemaker:UpdateModelPackage``) in every environment but ``prod``, and start,
  stop and retry the scheduled batch pipelines' runs (data scientists read them);
- DevOps operate endpoints (weights and capacities), alarms and batch runs (stop, retry; no new run),
  read the endpoints' logs, metrics and the dashboard; no data read (no S3, no KMS, no InvokeEndpoint,
  no feature records);
- analysts read the dashboard, metrics, the budget and the account's cost;
- model approvers read the registry and approve its versions (the only ones who may in ``prod``).

Actions are listed explicitly; ``"*"`` is used only for actions AWS cannot scope
(:data:`mlops_infra.policy.facts.aws_iam.UNSCOPABLE_ACTIONS`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

import pulumi

from mlops_infra.aws.iam import statement
from mlops_infra.outputs import concat
from mlops_infra.spec.access import APPROVER_ONLY_ENVIRONMENT

READ_REGISTRY: Final = ["sagemaker:DescribeModelPackage", "sagemaker:DescribeModelPackageGroup"]
LIST_REGISTRY: Final = ["sagemaker:ListModelPackages"]
APPROVE_MODEL: Final = ["sagemaker:UpdateModelPackage"]
READ_FEATURES: Final = ["sagemaker:BatchGetRecord", "sagemaker:DescribeFeatureGroup", "sagemaker:GetRecord"]
READ_OBJECTS: Final = ["s3:GetObject"]
LIST_BUCKET: Final = ["s3:ListBucket"]
DECRYPT: Final = ["kms:Decrypt", "kms:DescribeKey"]
READ_PIPELINE: Final = [
    "sagemaker:DescribePipeline",
    "sagemaker:DescribePipelineDefinitionForExecution",
    "sagemaker:ListPipelineExecutions",
]
READ_RUNS: Final = ["sagemaker:DescribePipelineExecution", "sagemaker:ListPipelineExecutionSteps"]
START_PIPELINE: Final = ["sagemaker:StartPipelineExecution"]
CONTROL_RUNS: Final = ["sagemaker:RetryPipelineExecution", "sagemaker:StopPipelineExecution"]
READ_ENDPOINTS: Final = ["sagemaker:DescribeEndpoint"]
READ_ENDPOINT_CONFIGS: Final = ["sagemaker:DescribeEndpointConfig"]
OPERATE_ENDPOINTS: Final = ["sagemaker:UpdateEndpointWeightsAndCapacities"]
OPERATE_ALARMS: Final = [
    "cloudwatch:DescribeAlarmHistory",
    "cloudwatch:DescribeAlarms",
    "cloudwatch:DisableAlarmActions",
    "cloudwatch:EnableAlarmActions",
    "cloudwatch:SetAlarmState",
]
READ_LOGS: Final = ["logs:DescribeLogStreams", "logs:FilterLogEvents", "logs:GetLogEvents"]
READ_DASHBOARD: Final = ["cloudwatch:GetDashboard"]
READ_METRICS: Final = ["cloudwatch:GetMetricData"]
READ_BUDGET: Final = ["budgets:ViewBudget"]
READ_COST: Final = ["ce:GetCostAndUsage", "ce:GetCostForecast"]


@dataclass(frozen=True)
class PlatformArns:
    """ARNs of the platform's resources the personas act on (None or empty: the platform has none)."""

    kms_key: pulumi.Input[str]
    model_package_group: pulumi.Input[str]
    model_package_versions: pulumi.Input[str]
    feature_groups: list[pulumi.Input[str]] = field(default_factory=list)
    feature_bucket: pulumi.Input[str] | None = None
    model_store_bucket: pulumi.Input[str] | None = None
    pipeline: pulumi.Input[str] | None = None
    batch_pipelines: list[pulumi.Input[str]] = field(default_factory=list)
    endpoints: list[pulumi.Input[str]] = field(default_factory=list)
    endpoint_configs: pulumi.Input[str] | None = None
    endpoint_log_groups: list[pulumi.Input[str]] = field(default_factory=list)
    alarms: list[pulumi.Input[str]] = field(default_factory=list)
    dashboard: pulumi.Input[str] | None = None
    budget: pulumi.Input[str] | None = None


def _objects(bucket_arn: pulumi.Input[str]) -> pulumi.Output[str]:
    return concat(bucket_arn, "/*")


def _bucket_read(sid: str, bucket_arn: pulumi.Input[str] | None) -> list[dict[str, Any]]:
    if bucket_arn is None:
        return []
    return [
        statement(READ_OBJECTS, [_objects(bucket_arn)], sid=f"{sid}Objects"),
        statement(LIST_BUCKET, [bucket_arn], sid=f"{sid}List"),
    ]


def registry_read(arns: PlatformArns) -> list[dict[str, Any]]:
    """Describe the model package group and its versions; list versions (List* takes no resource)."""
    return [
        statement(READ_REGISTRY, [arns.model_package_group, arns.model_package_versions], sid="ReadRegistry"),
        statement(LIST_REGISTRY, ["*"], sid="ListRegistry"),
    ]


def approve(arns: PlatformArns) -> list[dict[str, Any]]:
    """Set a version's approval status (the registry's only write a person makes)."""
    return [statement(APPROVE_MODEL, [arns.model_package_versions], sid="ApproveModelVersions")]


def features_read(arns: PlatformArns) -> list[dict[str, Any]]:
    """Read feature records and the offline store, and decrypt them with the platform key."""
    result: list[dict[str, Any]] = []
    if arns.feature_groups:
        result.append(statement(READ_FEATURES, list(arns.feature_groups), sid="ReadFeatureGroups"))
    result += _bucket_read("ReadOfflineStore", arns.feature_bucket)
    if result:
        result.append(statement(DECRYPT, [arns.kms_key], sid="DecryptPlatformData"))
    return result


def pipeline_use(arns: PlatformArns, run: bool) -> list[dict[str, Any]]:
    """Read the pipeline and its runs; with ``run``, also start, stop and retry them."""
    if arns.pipeline is None:
        return []
    runs = concat(arns.pipeline, "/execution/*")
    result = [
        statement(READ_PIPELINE + (START_PIPELINE if run else []), [arns.pipeline], sid="Pipeline"),
        statement(READ_RUNS + (CONTROL_RUNS if run else []), [runs], sid="PipelineRuns"),
    ]
    return result


def batch_use(arns: PlatformArns, *, start: bool, control: bool) -> list[dict[str, Any]]:
    """Read the scheduled batch pipelines and their runs; ``start`` a run, ``control`` (stop, retry) runs."""
    if not arns.batch_pipelines:
        return []
    runs: list[pulumi.Input[str]] = [concat(p, "/execution/*") for p in arns.batch_pipelines]
    return [
        statement(READ_PIPELINE + (START_PIPELINE if start else []), list(arns.batch_pipelines), sid="BatchPipelines"),
        statement(READ_RUNS + (CONTROL_RUNS if control else []), runs, sid="BatchRuns"),
    ]


def data_scientist(arns: PlatformArns, protected: bool) -> list[dict[str, Any]]:
    """Read features and the registry; run the pipeline where the environment is not protected; read batch runs."""
    return (
        features_read(arns)
        + registry_read(arns)
        + pipeline_use(arns, run=not protected)
        + batch_use(arns, start=False, control=False)
    )


def ml_engineer(arns: PlatformArns, environment: str) -> list[dict[str, Any]]:
    """A data scientist's rights, running the pipeline everywhere, model store and endpoint reads, approval."""
    result = features_read(arns) + registry_read(arns) + pipeline_use(arns, run=True)
    result += batch_use(arns, start=True, control=True)
    model_store = _bucket_read("ReadModelStore", arns.model_store_bucket)
    if model_store and not arns.feature_groups and arns.feature_bucket is None:
        model_store.append(statement(DECRYPT, [arns.kms_key], sid="DecryptPlatformData"))
    result += model_store
    if arns.endpoints:
        result.append(statement(READ_ENDPOINTS, list(arns.endpoints), sid="ReadEndpoints"))
    if environment != APPROVER_ONLY_ENVIRONMENT:
        result += approve(arns)
    return result


def devops(arns: PlatformArns) -> list[dict[str, Any]]:
    """Operate endpoints and alarms; read their logs, metrics and the dashboard. No data."""
    result: list[dict[str, Any]] = []
    if arns.endpoints:
        result.append(statement(READ_ENDPOINTS + OPERATE_ENDPOINTS, list(arns.endpoints), sid="OperateEndpoints"))
    if arns.endpoint_configs is not None:
        result.append(statement(READ_ENDPOINT_CONFIGS, [arns.endpoint_configs], sid="ReadEndpointConfigs"))
    if arns.endpoint_log_groups:
        result.append(statement(READ_LOGS, list(arns.endpoint_log_groups), sid="ReadEndpointLogs"))
    if arns.alarms:
        result.append(statement(OPERATE_ALARMS, list(arns.alarms), sid="OperateAlarms"))
    result += batch_use(arns, start=False, control=True)  # stop a stuck run, retry a failed one; no new runs
    if arns.dashboard is not None:
        result.append(statement(READ_DASHBOARD, [arns.dashboard], sid="ReadDashboard"))
    result.append(statement(READ_METRICS, ["*"], sid="ReadMetrics"))
    return result


def analyst(arns: PlatformArns) -> list[dict[str, Any]]:
    """Read the dashboard, metrics, the platform's budget and the account's cost."""
    result: list[dict[str, Any]] = []
    if arns.dashboard is not None:
        result.append(statement(READ_DASHBOARD, [arns.dashboard], sid="ReadDashboard"))
    if arns.budget is not None:
        result.append(statement(READ_BUDGET, [arns.budget], sid="ReadBudget"))
    result.append(statement(READ_METRICS, ["*"], sid="ReadMetrics"))
    result.append(statement(READ_COST, ["*"], sid="ReadCost"))
    return result


def model_approver(arns: PlatformArns) -> list[dict[str, Any]]:
    """Read the registry and approve (or reject) its versions."""
    return registry_read(arns) + approve(arns)
