"""The SageMaker pipeline one scheduled batch run executes: create the model, then a KMS-encrypted transform.

CreateModel (``Type: Model``, the model package's version or an image and artifact, network-isolated)
-> Transform (the model over every object under ``InputDataUrl``, results under
``{output}/{execution id}/`` so runs never overwrite each other). The transform's output and its
instances' volumes are encrypted with the platform key; a type with local NVMe storage gets no
``VolumeKmsKeyId`` (SageMaker refuses one there and encrypts that storage in hardware,
``pipeline_template.volume_key``).

Shapes follow the definition schema ``2020-12-01`` as the sagemaker SDK 2.x renders a model step
(``StepTypeEnum.CREATE_MODEL`` is ``Model``, arguments of CreateModel) and a ``TransformStep`` (arguments
of CreateTransformJob). A transform job has no run-time limit of its own: ``batch_supervisor`` stops the
run at ``max_runtime_seconds``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from mlops_infra.aws.pipeline_template import SCHEMA_VERSION, get, volume_key

CREATE_MODEL = "CreateModel"
TRANSFORM = "Transform"
INPUT_DATA_URL = "InputDataUrl"
"""The one parameter: what a person may score instead of the scheduled input (``StartPipelineExecution``)."""

CONTENT_TYPES: dict[str, str] = {"jsonl": "application/jsonlines", "csv": "text/csv"}
"""The spec's record layouts as the MIME types the transform sends and asks for, one record per line."""


@dataclass(frozen=True)
class BatchInputs:
    """Plain values (known at deploy time) the definition is rendered from."""

    role_arn: str
    kms_key_arn: str
    image_uri: str
    input_s3_uri: str
    output_s3_uri: str  # s3://bucket/prefix, no trailing slash
    instance_type: str
    instance_count: int
    record_format: Literal["jsonl", "csv"]
    model_package_arn: str | None = None  # None: image_uri with model_data_url
    model_data_url: str | None = None
    max_concurrent_transforms: int | None = None  # None: SageMaker's choice from the container
    max_payload_mb: int | None = None


def create_model_step(inputs: BatchInputs) -> dict[str, Any]:
    """The run's model: the approved package version, or the image and artifact; no network access."""
    if inputs.model_package_arn is not None:
        container: dict[str, Any] = {"ModelPackageName": inputs.model_package_arn}
    elif inputs.model_data_url is not None:
        container = {"Image": inputs.image_uri, "ModelDataUrl": inputs.model_data_url, "Environment": {}}
    else:
        raise ValueError("a batch model needs a model package ARN or a model data URL")
    return {
        "Name": CREATE_MODEL,
        "Type": "Model",
        "Arguments": {
            "ExecutionRoleArn": inputs.role_arn,
            "PrimaryContainer": container,
            "EnableNetworkIsolation": True,
        },
    }


def transform_step(inputs: BatchInputs) -> dict[str, Any]:
    """Score every object under ``InputDataUrl`` line by line; encrypted output and volumes."""
    content_type = CONTENT_TYPES[inputs.record_format]
    arguments: dict[str, Any] = {
        "ModelName": get(f"Steps.{CREATE_MODEL}.ModelName"),
        "BatchStrategy": "MultiRecord",
        "TransformInput": {
            "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": get(f"Parameters.{INPUT_DATA_URL}")}},
            "ContentType": content_type,
            "CompressionType": "None",
            "SplitType": "Line",
        },
        "TransformOutput": {
            "S3OutputPath": {
                "Std:Join": {"On": "/", "Values": [inputs.output_s3_uri, get("Execution.PipelineExecutionId")]}
            },
            "Accept": content_type,
            "AssembleWith": "Line",
            "KmsKeyId": inputs.kms_key_arn,
        },
        "TransformResources": {
            "InstanceCount": inputs.instance_count,
            "InstanceType": inputs.instance_type,
            **volume_key(inputs.instance_type, inputs.kms_key_arn),
        },
    }
    if inputs.max_concurrent_transforms is not None:
        arguments["MaxConcurrentTransforms"] = inputs.max_concurrent_transforms
    if inputs.max_payload_mb is not None:
        arguments["MaxPayloadInMB"] = inputs.max_payload_mb
    return {"Name": TRANSFORM, "Type": "Transform", "Arguments": arguments}


def render_batch_definition(inputs: BatchInputs) -> dict[str, Any]:
    """The whole definition as a dict; ``json.dumps`` it for ``aws.sagemaker.Pipeline``."""
    return {
        "Version": SCHEMA_VERSION,
        "Metadata": {},
        "Parameters": [{"Name": INPUT_DATA_URL, "Type": "String", "DefaultValue": inputs.input_s3_uri}],
        "Steps": [create_model_step(inputs), transform_step(inputs)],
    }
