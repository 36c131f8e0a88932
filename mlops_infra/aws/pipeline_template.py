"""The built-in SageMaker pipeline, rendered natively as the service's definition JSON (no sagemaker SDK).

preprocess (Processing) -> train (Training) -> evaluate (Processing + PropertyFile) -> check the metric
(Condition on ``Std:JsonGet``) -> register the model package (RegisterModel), or fail the run.

Shapes follow the definition schema ``2020-12-01`` as the sagemaker SDK 2.x renders it
(``sagemaker/workflow``); ``tests/aws/test_aws_pipeline_template_sdk.py`` builds the same pipeline
with the SDK and compares. Every job encrypts its volumes and outputs with the given key, encrypts
traffic between its containers, and writes under ``{artifacts}/{execution id}/`` so runs never
overwrite each other.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

SCHEMA_VERSION = "2020-12-01"
STEP_TYPES = frozenset(
    {
        "Processing", "Training", "Transform", "Tuning", "CreateModel", "RegisterModel", "Condition", "Fail",
        "Lambda", "Callback", "QualityCheck", "ClarifyCheck", "EMR", "AutoML", "Notebook",
    }
)  # fmt: skip
PARAMETER_TYPES = frozenset({"String", "Integer", "Float", "Boolean"})
MAX_DEFINITION_BYTES = 1_048_576  # CreatePipeline's PipelineDefinition limit
_STEP_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")
_PARAMETER_NAME = re.compile(r"[A-Za-z0-9_-]{1,256}")
_STEP_REFERENCE = re.compile(r"Steps\.([A-Za-z0-9_-]+)")
_PARAMETER_REFERENCE = re.compile(r"Parameters\.([A-Za-z0-9_-]+)")

# Step names (also the names the dependency graph and the tests use).
PREPROCESS = "Preprocess"
TRAIN = "Train"
EVALUATE = "Evaluate"
CHECK_METRIC = "CheckMetric"
REGISTER = "RegisterModel"
METRIC_BELOW_THRESHOLD = "MetricBelowThreshold"

EVALUATION_REPORT = "EvaluationReport"  # the PropertyFile the condition reads
EVALUATION_OUTPUT = "evaluation"
EVALUATION_FILE = "evaluation.json"

# Pipeline parameters: what a schedule, an alarm rule or a person may override per execution.
INPUT_DATA_URL = "InputDataUrl"
PROCESSING_INSTANCE_TYPE = "ProcessingInstanceType"
TRAINING_INSTANCE_TYPE = "TrainingInstanceType"
MODEL_APPROVAL_STATUS = "ModelApprovalStatus"
METRIC_THRESHOLD = "MetricThreshold"

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


def get(path: str) -> dict[str, str]:
    """A property or parameter reference, resolved by the pipeline service at run time."""
    return {"Get": path}


def execution_path(inputs: TemplateInputs, *parts: str) -> dict[str, Any]:
    """``{artifacts}/{execution id}/{parts...}``: a per-run S3 location (``Std:Join``)."""
    return {"Std:Join": {"On": "/", "Values": [inputs.artifact_s3_uri, get("Execution.PipelineExecutionId"), *parts]}}


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
                    "VolumeKmsKeyId": inputs.kms_key_arn,
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
            "VolumeKmsKeyId": inputs.kms_key_arn,
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
            "IfSteps": [register_step(inputs)],
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


# Reading a definition: the dependency graph, validation of user-supplied definitions, security gaps.


def iter_steps(definition: Mapping[str, Any]) -> Iterator[tuple[dict[str, Any], str | None]]:
    """Every step with the Condition step it is nested in (``None`` at top level)."""
    pending: list[tuple[Any, str | None]] = [(step, None) for step in definition.get("Steps", [])]
    while pending:
        step, parent = pending.pop(0)
        yield step, parent
        if isinstance(step, dict) and step.get("Type") == "Condition":
            arguments = step.get("Arguments") or {}
            nested = [*(arguments.get("IfSteps") or []), *(arguments.get("ElseSteps") or [])]
            pending.extend((child, step.get("Name")) for child in nested)


def references(value: Any) -> Iterator[str]:
    """Every ``{"Get": "..."}`` path anywhere inside ``value``."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "Get" and isinstance(item, str):
                yield item
            else:
                yield from references(item)
    elif isinstance(value, list):
        for item in value:
            yield from references(item)


def step_dependencies(definition: Mapping[str, Any]) -> dict[str, set[str]]:
    """Step name -> the steps that must finish first (data references, ``DependsOn``, enclosing condition)."""
    graph: dict[str, set[str]] = {}
    for step, parent in iter_steps(definition):
        arguments = step.get("Arguments") or {}
        # A condition's own inputs are its Conditions; its branches are steps of their own.
        scanned = arguments.get("Conditions") if step.get("Type") == "Condition" else arguments
        upstream = {m.group(1) for path in references(scanned) if (m := _STEP_REFERENCE.match(path))}
        upstream.update(str(name) for name in step.get("DependsOn") or [])
        if parent is not None:
            upstream.add(parent)
        graph[str(step.get("Name"))] = upstream
    return graph


def topological_order(graph: Mapping[str, set[str]]) -> list[str]:
    """Steps in an order the service can run them; ValueError on a cycle or an unknown step."""
    order: list[str] = []
    done: set[str] = set()
    remaining = dict(graph)
    while remaining:
        ready = sorted(name for name, upstream in remaining.items() if upstream <= done)
        if not ready:
            unknown = sorted(set().union(*remaining.values()) - set(graph))
            if unknown:
                raise ValueError(f"steps reference unknown steps {unknown}")
            raise ValueError(f"steps depend on each other in a cycle: {sorted(remaining)}")
        for name in ready:
            order.append(name)
            done.add(name)
            del remaining[name]
    return order


def _check_parameters(parameters: Any) -> set[str]:
    if not isinstance(parameters, list):
        raise ValueError("Parameters must be a list")
    names: set[str] = set()
    for parameter in parameters:
        name = parameter.get("Name") if isinstance(parameter, dict) else None
        if not isinstance(name, str) or not _PARAMETER_NAME.fullmatch(name) or name in names:
            raise ValueError(f"parameter {parameter!r} needs a unique Name of [A-Za-z0-9_-] (at most 256)")
        if parameter.get("Type") not in PARAMETER_TYPES:
            raise ValueError(f"parameter {name!r} Type must be one of {sorted(PARAMETER_TYPES)}")
        names.add(name)
    return names


def validate_definition(definition: Any) -> dict[str, Any]:
    """Check a user-supplied definition the way CreatePipeline would, before anything is deployed.

    A JSON object with ``Version`` 2020-12-01 and a non-empty ``Steps`` list; unique step names of
    known types; declared parameters for every ``Parameters.X`` reference; steps that reference
    existing steps without a cycle; at most 1 MiB of JSON. Returns the definition; ValueError otherwise.
    """
    if not isinstance(definition, dict):
        raise ValueError(f"a pipeline definition is a JSON object, not {type(definition).__name__}")
    try:
        encoded = json.dumps(definition, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"the pipeline definition is not plain JSON: {exc}") from exc
    if len(encoded.encode()) > MAX_DEFINITION_BYTES:
        raise ValueError(f"the pipeline definition is larger than {MAX_DEFINITION_BYTES} bytes")
    if definition.get("Version") != SCHEMA_VERSION:
        raise ValueError(f"Version must be {SCHEMA_VERSION!r}, got {definition.get('Version')!r}")
    steps = definition.get("Steps")
    if not isinstance(steps, list) or not steps:
        raise ValueError("Steps must be a non-empty list")
    declared = _check_parameters(definition.get("Parameters", []))
    seen: set[str] = set()
    for step, _parent in iter_steps(definition):
        name = step.get("Name") if isinstance(step, dict) else None
        if not isinstance(name, str) or not _STEP_NAME.fullmatch(name) or name in seen:
            raise ValueError(f"step {name!r} needs a unique Name of [A-Za-z0-9_-] (at most 64)")
        if step.get("Type") not in STEP_TYPES:
            raise ValueError(f"step {name!r} has unknown Type {step.get('Type')!r}")
        seen.add(name)
    undeclared = sorted(
        {m.group(1) for path in references(steps) if (m := _PARAMETER_REFERENCE.match(path))} - declared
    )
    if undeclared:
        raise ValueError(f"steps use parameters that are not declared: {undeclared}")
    topological_order(step_dependencies(definition))
    return definition


def _dig(value: Any, *path: str) -> Any:
    for key in path:
        value = value.get(key) if isinstance(value, dict) else None
    return value


def security_findings(definition: Mapping[str, Any]) -> list[str]:
    """What a Processing or Training step leaves unprotected (empty list: nothing).

    Checked: KMS on volumes and outputs, inter-container traffic encryption, and network
    isolation or a VPC. A parameter reference (``Get``) counts as a key, not as a ``true`` flag.
    """
    findings: list[str] = []
    for step, _parent in iter_steps(definition):
        arguments, name = step.get("Arguments") or {}, step.get("Name")
        if step.get("Type") == "Processing":
            volume_key = _dig(arguments, "ProcessingResources", "ClusterConfig", "VolumeKmsKeyId")
            output_key = _dig(arguments, "ProcessingOutputConfig", "KmsKeyId")
            has_outputs = bool(_dig(arguments, "ProcessingOutputConfig", "Outputs"))
            network = arguments.get("NetworkConfig") or {}
        elif step.get("Type") == "Training":
            volume_key = _dig(arguments, "ResourceConfig", "VolumeKmsKeyId")
            output_key = _dig(arguments, "OutputDataConfig", "KmsKeyId")
            has_outputs = True
            network = arguments
        else:
            continue
        if not volume_key:
            findings.append(f"{name}: no KMS key on the storage volume (VolumeKmsKeyId)")
        if has_outputs and not output_key:
            findings.append(f"{name}: no KMS key on the outputs (KmsKeyId)")
        if network.get("EnableInterContainerTrafficEncryption") is not True:
            findings.append(f"{name}: inter-container traffic is not encrypted")
        if network.get("EnableNetworkIsolation") is not True and not network.get("VpcConfig"):
            findings.append(f"{name}: neither network isolation nor a VPC")
    return findings


def container_images(definition: Mapping[str, Any]) -> set[str]:
    """Literal image URIs the steps run or register (the execution role must be able to pull them)."""
    images: set[str] = set()
    for step, _parent in iter_steps(definition):
        arguments = step.get("Arguments") or {}
        candidates = [
            _dig(arguments, "AppSpecification", "ImageUri"),
            _dig(arguments, "AlgorithmSpecification", "TrainingImage"),
            *(c.get("Image") for c in _dig(arguments, "InferenceSpecification", "Containers") or []),
            _dig(arguments, "PrimaryContainer", "Image"),
        ]
        images.update(image for image in candidates if isinstance(image, str))
    return images
