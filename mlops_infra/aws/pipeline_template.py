"""The built-in SageMaker pipeline, rendered natively as the service's definition JSON (no sagemaker SDK).

preprocess (Processing) -> train (Training) -> evaluate (Processing + PropertyFile) -> check the metric
(Condition on ``Std:JsonGet``) -> register the model package (RegisterModel), or fail the run; with a
``baseline_s3_uri``, register -> refresh the drift monitor's data-quality baseline (RefreshBaseline):
the Model Monitor analyzer profiles the new model's training split and writes ``statistics.json`` and
``constraints.json`` where the endpoint's monitor reads them, so drift is measured against the model
that is registered to serve.

Shapes follow the definition schema ``2020-12-01`` as the sagemaker SDK 2.x renders it
(``sagemaker/workflow``); ``tests/aws/test_aws_pipeline_template_sdk.py`` builds the same pipeline
with the SDK and compares. Every job encrypts its volumes and outputs with the given key, encrypts
traffic between its containers, and writes under ``{artifacts}/{execution id}/`` so runs never
overwrite each other. A job whose instance type (the parameter's default) has local NVMe storage gets
no ``VolumeKmsKeyId``: SageMaker refuses one there and encrypts that storage in hardware
(``policy.facts.instance_types.has_local_storage``, the sagemaker SDK's ``instance_supports_kms``); an
execution that overrides the type must keep its storage kind (``TrainingPipelineArgs`` checks schedules).
Reading a definition (validation, the step graph, security findings) is in
``pipeline_definition``: this module only builds one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from mlops_infra.policy.facts.instance_types import has_local_storage

SCHEMA_VERSION = "2020-12-01"

# Step names (also the names the dependency graph and the tests use).
PREPROCESS = "Preprocess"
TRAIN = "Train"
EVALUATE = "Evaluate"
CHECK_METRIC = "CheckMetric"
REGISTER = "RegisterModel"
METRIC_BELOW_THRESHOLD = "MetricBelowThreshold"
REFRESH_BASELINE = "RefreshBaseline"

EVALUATION_REPORT = "EvaluationReport"  # the PropertyFile the condition reads
EVALUATION_OUTPUT = "evaluation"
EVALUATION_FILE = "evaluation.json"

# Pipeline parameters: what a schedule, an alarm rule or a person may override per execution.
INPUT_DATA_URL = "InputDataUrl"
PROCESSING_INSTANCE_TYPE = "ProcessingInstanceType"
TRAINING_INSTANCE_TYPE = "TrainingInstanceType"
MODEL_APPROVAL_STATUS = "ModelApprovalStatus"
METRIC_THRESHOLD = "MetricThreshold"

# The Model Monitor analyzer's contract, as the sagemaker SDK's DataQualityCheckConfig/suggest_baseline writes it.
BASELINE_INPUT = "baseline_dataset_input"
BASELINE_OUTPUT = "monitoring_output"
BASELINE_SPLIT = "train"
CSV_WITH_HEADER = '{"csv": {"header": true, "output_columns_position": "START"}}'

APPROVAL_STATUSES = ("Approved", "PendingManualApproval")
PROCESSING_ROOT = "/opt/ml/processing"
CODE_DIR = f"{PROCESSING_ROOT}/input/code"
_S3_INPUT_DEFAULTS = {
    "S3DataType": "S3Prefix",
    "S3InputMode": "File",
    "S3DataDistributionType": "FullyReplicated",
    "S3CompressionType": "None",
}


@dataclass(frozen=True)
class Vpc:
    """Subnets and security groups the jobs run in (their network interfaces are created there)."""

    subnet_ids: tuple[str, ...]
    security_group_ids: tuple[str, ...]

    def as_config(self) -> dict[str, list[str]]:
        return {"SecurityGroupIds": list(self.security_group_ids), "Subnets": list(self.subnet_ids)}


@dataclass(frozen=True)
class TemplateInputs:
    """Plain values (known at deploy time) the template is rendered from. Sizes in GB, times in seconds."""

    role_arn: str
    kms_key_arn: str
    artifact_s3_uri: str  # s3://bucket/prefix, no trailing slash
    input_data_s3_uri: str
    model_package_group_name: str
    training_image_uri: str
    processing_image_uri: str
    inference_image_uri: str
    training_instance_type: str
    processing_instance_type: str
    volume_size_gb: int
    max_runtime_seconds: int
    metric_json_path: str
    metric_threshold: float
    metric_direction: Literal["maximize", "minimize"]
    approval_status: str
    training_instance_count: int = 1
    processing_instance_count: int = 1
    processing_max_runtime_seconds: int = 3600
    network_isolation: bool = True
    spot_max_wait_seconds: int | None = None  # None: on-demand training
    vpc: Vpc | None = None
    hyperparameters: Mapping[str, str] = field(default_factory=dict)
    preprocess_code_s3_uri: str | None = None
    evaluate_code_s3_uri: str | None = None
    content_types: Sequence[str] = ("text/csv",)
    response_types: Sequence[str] = ("text/csv",)
    inference_instance_types: Sequence[str] = ("ml.m5.large",)
    transform_instance_types: Sequence[str] = ("ml.m5.large",)
    baseline_s3_uri: str | None = None  # s3:// prefix the drift monitor reads its baseline from; None: no refresh
    baseline_image_uri: str | None = None  # the region's Model Monitor analyzer image
    baseline_dataset_format: str = CSV_WITH_HEADER
    # MLFLOW_TRACKING_URI / MLFLOW_EXPERIMENT_NAME for the Train and Evaluate jobs; empty: no tracker.
    tracking_environment: Mapping[str, str] = field(default_factory=dict)


def get(path: str) -> dict[str, str]:
    """A property or parameter reference, resolved by the pipeline service at run time."""
    return {"Get": path}


def execution_path(inputs: TemplateInputs, *parts: str) -> dict[str, Any]:
    """``{artifacts}/{execution id}/{parts...}``: a per-run S3 location (``Std:Join``)."""
    return {"Std:Join": {"On": "/", "Values": [inputs.artifact_s3_uri, get("Execution.PipelineExecutionId"), *parts]}}


def volume_key(instance_type: str, kms_key_arn: str) -> dict[str, str]:
    """``{"VolumeKmsKeyId": key}``, or nothing on a type with local NVMe storage (SageMaker refuses a key there)."""
    return {} if has_local_storage(instance_type) else {"VolumeKmsKeyId": kms_key_arn}


def processing_output_uri(step: str, output: str) -> dict[str, str]:
    return get(f"Steps.{step}.ProcessingOutputConfig.Outputs['{output}'].S3Output.S3Uri")


def _processing_input(name: str, source: Any, local_path: str) -> dict[str, Any]:
    return {
        "InputName": name,
        "AppManaged": False,
        "S3Input": {"S3Uri": source, "LocalPath": local_path, **_S3_INPUT_DEFAULTS},
    }


def _processing_output(name: str, local_path: str, destination: Any) -> dict[str, Any]:
    return {
        "OutputName": name,
        "AppManaged": False,
        "S3Output": {"S3Uri": destination, "LocalPath": local_path, "S3UploadMode": "EndOfJob"},
    }


def _processing_step(
    inputs: TemplateInputs,
    name: str,
    code_s3_uri: str | None,
    job_inputs: list[dict[str, Any]],
    job_outputs: list[dict[str, Any]],
) -> dict[str, Any]:
    app: dict[str, Any] = {"ImageUri": inputs.processing_image_uri}
    if code_s3_uri is not None:
        # As the SDK's ScriptProcessor does: the script arrives as the "code" input and python runs it.
        script = code_s3_uri.rstrip("/").rsplit("/", 1)[-1]
        app["ContainerEntrypoint"] = ["python3", f"{CODE_DIR}/{script}"]
        job_inputs = [*job_inputs, _processing_input("code", code_s3_uri, CODE_DIR)]
    network: dict[str, Any] = {
        "EnableNetworkIsolation": inputs.network_isolation,
        "EnableInterContainerTrafficEncryption": True,
    }
    if inputs.vpc is not None:
        network["VpcConfig"] = inputs.vpc.as_config()
    return {
        "Name": name,
        "Type": "Processing",
        "Arguments": {
            "ProcessingResources": {
                "ClusterConfig": {
                    "InstanceType": get(f"Parameters.{PROCESSING_INSTANCE_TYPE}"),
                    "InstanceCount": inputs.processing_instance_count,
                    "VolumeSizeInGB": inputs.volume_size_gb,
                    **volume_key(inputs.processing_instance_type, inputs.kms_key_arn),
                }
            },
            "AppSpecification": app,
            "RoleArn": inputs.role_arn,
            "ProcessingInputs": job_inputs,
            "ProcessingOutputConfig": {"Outputs": job_outputs, "KmsKeyId": inputs.kms_key_arn},
            "NetworkConfig": network,
            "StoppingCondition": {"MaxRuntimeInSeconds": inputs.processing_max_runtime_seconds},
        },
    }


def preprocess_step(inputs: TemplateInputs) -> dict[str, Any]:
    """Split the raw data at ``InputDataUrl`` into train/validation/test sets."""
    job_inputs = [_processing_input("raw", get(f"Parameters.{INPUT_DATA_URL}"), f"{PROCESSING_ROOT}/input")]
    job_outputs = [
        _processing_output(split, f"{PROCESSING_ROOT}/{split}", execution_path(inputs, "preprocess", split))
        for split in ("train", "validation", "test")
    ]
    return _processing_step(inputs, PREPROCESS, inputs.preprocess_code_s3_uri, job_inputs, job_outputs)


def train_step(inputs: TemplateInputs) -> dict[str, Any]:
    """Train on the preprocessed splits: isolated, encrypted, optionally on spot capacity."""
    stopping: dict[str, int] = {"MaxRuntimeInSeconds": inputs.max_runtime_seconds}
    channels = [
        {
            "DataSource": {
                "S3DataSource": {
                    "S3DataType": "S3Prefix",
                    "S3Uri": processing_output_uri(PREPROCESS, split),
                    "S3DataDistributionType": "FullyReplicated",
                }
            },
            "ChannelName": split,
        }
        for split in ("train", "validation")
    ]
    arguments: dict[str, Any] = {
        "AlgorithmSpecification": {"TrainingInputMode": "File", "TrainingImage": inputs.training_image_uri},
        "OutputDataConfig": {"S3OutputPath": execution_path(inputs, "model"), "KmsKeyId": inputs.kms_key_arn},
        "StoppingCondition": stopping,
        "ResourceConfig": {
            "VolumeSizeInGB": inputs.volume_size_gb,
            **volume_key(inputs.training_instance_type, inputs.kms_key_arn),
            "InstanceCount": inputs.training_instance_count,
            "InstanceType": get(f"Parameters.{TRAINING_INSTANCE_TYPE}"),
        },
        "RoleArn": inputs.role_arn,
        "InputDataConfig": channels,
        "EnableNetworkIsolation": inputs.network_isolation,
        "EnableInterContainerTrafficEncryption": True,
        # The profiler would write system metrics outside the pipeline's own prefixes.
        "ProfilerConfig": {"DisableProfiler": True},
    }
    if inputs.hyperparameters:
        arguments["HyperParameters"] = dict(inputs.hyperparameters)
    if inputs.tracking_environment:
        arguments["Environment"] = dict(inputs.tracking_environment)
    if inputs.spot_max_wait_seconds is not None:
        arguments["EnableManagedSpotTraining"] = True
        stopping["MaxWaitTimeInSeconds"] = inputs.spot_max_wait_seconds
        # An interrupted spot job resumes from its checkpoints instead of starting over.
        arguments["CheckpointConfig"] = {"S3Uri": execution_path(inputs, "checkpoints")}
    if inputs.vpc is not None:
        arguments["VpcConfig"] = inputs.vpc.as_config()
    return {"Name": TRAIN, "Type": "Training", "Arguments": arguments}


def evaluate_step(inputs: TemplateInputs) -> dict[str, Any]:
    """Score the model on the test split; the report (``evaluation.json``) feeds the condition."""
    job_inputs = [
        _processing_input("model", get(f"Steps.{TRAIN}.ModelArtifacts.S3ModelArtifacts"), f"{PROCESSING_ROOT}/model"),
        _processing_input("test", processing_output_uri(PREPROCESS, "test"), f"{PROCESSING_ROOT}/test"),
    ]
    job_outputs = [
        _processing_output(
            EVALUATION_OUTPUT, f"{PROCESSING_ROOT}/{EVALUATION_OUTPUT}", execution_path(inputs, "evaluation")
        )
    ]
    step = _processing_step(inputs, EVALUATE, inputs.evaluate_code_s3_uri, job_inputs, job_outputs)
    if inputs.tracking_environment:
        step["Arguments"]["Environment"] = dict(inputs.tracking_environment)
    step["PropertyFiles"] = [
        {"PropertyFileName": EVALUATION_REPORT, "OutputName": EVALUATION_OUTPUT, "FilePath": EVALUATION_FILE}
    ]
    return step


def register_step(inputs: TemplateInputs) -> dict[str, Any]:
    """A new model package version in the group, with the evaluation report as its quality metrics."""
    report = {"Std:Join": {"On": "/", "Values": [processing_output_uri(EVALUATE, EVALUATION_OUTPUT), EVALUATION_FILE]}}
    return {
        "Name": REGISTER,
        "Type": "RegisterModel",
        "Arguments": {
            "ModelPackageGroupName": inputs.model_package_group_name,
            "ModelMetrics": {"ModelQuality": {"Statistics": {"ContentType": "application/json", "S3Uri": report}}},
            "InferenceSpecification": {
                "Containers": [
                    {
                        "Image": inputs.inference_image_uri,
                        "ModelDataUrl": get(f"Steps.{TRAIN}.ModelArtifacts.S3ModelArtifacts"),
                    }
                ],
                "SupportedContentTypes": list(inputs.content_types),
                "SupportedResponseMIMETypes": list(inputs.response_types),
                "SupportedRealtimeInferenceInstanceTypes": list(inputs.inference_instance_types),
                "SupportedTransformInstanceTypes": list(inputs.transform_instance_types),
            },
            "ModelApprovalStatus": get(f"Parameters.{MODEL_APPROVAL_STATUS}"),
        },
    }


def refresh_baseline_step(inputs: TemplateInputs) -> dict[str, Any]:
    """After registration: profile the new model's training split into the monitor's baseline prefix.

    A Model Monitor analyzer processing job (the job ``DefaultModelMonitor.suggest_baseline`` runs):
    its ``statistics.json`` and ``constraints.json`` replace the previous ones at ``baseline_s3_uri``,
    encrypted with the pipeline's key, on an encrypted volume, network-isolated.
    """
    if inputs.baseline_s3_uri is None or inputs.baseline_image_uri is None:
        raise ValueError("refreshing the baseline needs baseline_s3_uri and baseline_image_uri")
    dataset = f"{PROCESSING_ROOT}/input/{BASELINE_INPUT}"
    output = f"{PROCESSING_ROOT}/output"
    step = _processing_step(
        TemplateInputs(**{**inputs.__dict__, "processing_image_uri": inputs.baseline_image_uri}),
        REFRESH_BASELINE,
        None,
        [_processing_input(BASELINE_INPUT, processing_output_uri(PREPROCESS, BASELINE_SPLIT), dataset)],
        [_processing_output(BASELINE_OUTPUT, output, inputs.baseline_s3_uri.rstrip("/"))],
    )
    step["Arguments"]["Environment"] = {
        "dataset_format": inputs.baseline_dataset_format,
        "dataset_source": dataset,
        "output_path": output,
        "publish_cloudwatch_metrics": "Disabled",
    }
    # Only a registered model's baseline replaces the one the monitor reads.
    step["DependsOn"] = [REGISTER]
    return step


def condition_step(inputs: TemplateInputs) -> dict[str, Any]:
    """Register only a model whose metric meets the threshold; otherwise fail the run visibly."""
    comparison = "GreaterThanOrEqualTo" if inputs.metric_direction == "maximize" else "LessThanOrEqualTo"
    metric = {
        "Std:JsonGet": {
            "PropertyFile": get(f"Steps.{EVALUATE}.PropertyFiles.{EVALUATION_REPORT}"),
            "Path": inputs.metric_json_path,
        }
    }
    fail = {
        "Name": METRIC_BELOW_THRESHOLD,
        "Type": "Fail",
        "Arguments": {
            "ErrorMessage": f"{inputs.metric_json_path} did not meet the threshold ({comparison}); model not registered"
        },
    }
    return {
        "Name": CHECK_METRIC,
        "Type": "Condition",
        "Arguments": {
            "Conditions": [
                {"Type": comparison, "LeftValue": metric, "RightValue": get(f"Parameters.{METRIC_THRESHOLD}")}
            ],
            "IfSteps": [
                register_step(inputs),
                *([refresh_baseline_step(inputs)] if inputs.baseline_s3_uri is not None else []),
            ],
            "ElseSteps": [fail],
        },
    }


def template_parameters(inputs: TemplateInputs) -> list[dict[str, Any]]:
    """The pipeline's parameters with their defaults (``Type`` as the service spells it)."""
    return [
        {"Name": INPUT_DATA_URL, "Type": "String", "DefaultValue": inputs.input_data_s3_uri},
        {"Name": PROCESSING_INSTANCE_TYPE, "Type": "String", "DefaultValue": inputs.processing_instance_type},
        {"Name": TRAINING_INSTANCE_TYPE, "Type": "String", "DefaultValue": inputs.training_instance_type},
        {"Name": MODEL_APPROVAL_STATUS, "Type": "String", "DefaultValue": inputs.approval_status},
        {"Name": METRIC_THRESHOLD, "Type": "Float", "DefaultValue": float(inputs.metric_threshold)},
    ]


TEMPLATE_PARAMETER_NAMES: tuple[str, ...] = (
    INPUT_DATA_URL,
    PROCESSING_INSTANCE_TYPE,
    TRAINING_INSTANCE_TYPE,
    MODEL_APPROVAL_STATUS,
    METRIC_THRESHOLD,
)


def render_pipeline_definition(inputs: TemplateInputs) -> dict[str, Any]:
    """The whole definition as a dict; ``json.dumps`` it for ``aws.sagemaker.Pipeline``."""
    if inputs.approval_status not in APPROVAL_STATUSES:
        raise ValueError(f"approval status must be one of {APPROVAL_STATUSES}, not {inputs.approval_status!r}")
    return {
        "Version": SCHEMA_VERSION,
        "Metadata": {},
        "Parameters": template_parameters(inputs),
        "Steps": [preprocess_step(inputs), train_step(inputs), evaluate_step(inputs), condition_step(inputs)],
    }
