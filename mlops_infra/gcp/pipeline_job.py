"""The Vertex ``PipelineJob`` request a schedule submits (REST JSON, camelCase field names)."""

from __future__ import annotations

import base64
import json
from typing import Any

import pulumi

from mlops_infra.outputs import concat

CLOUD_PLATFORM_SCOPE = "https://www.googleapis.com/auth/cloud-platform"


def pipeline_job_body(
    *,
    display_name: str,
    pipeline_root: pulumi.Input[str],
    kms_key_name: pulumi.Input[str],
    service_account: pulumi.Input[str],
    labels: dict[str, str],
    parameter_values: dict[str, Any],
    spec: dict[str, Any] | None = None,
    template_uri: str | None = None,
    network: pulumi.Input[str] | None = None,
) -> pulumi.Output[dict[str, Any]]:
    """A PipelineJob: inline ``pipelineSpec`` or an Artifact Registry ``templateUri``, always CMEK-encrypted."""
    if (spec is None) == (template_uri is None):
        raise ValueError("a pipeline job takes exactly one of spec or template_uri")
    body: dict[str, Any] = {
        "displayName": display_name,
        "runtimeConfig": {"gcsOutputDirectory": pipeline_root, "parameterValues": parameter_values},
        "encryptionSpec": {"kmsKeyName": kms_key_name},
        "serviceAccount": service_account,
        "labels": labels,
    }
    if spec is not None:
        body["pipelineSpec"] = spec
    else:
        body["templateUri"] = template_uri
    if network is not None:
        body["network"] = network
    return pulumi.Output.from_input(body)


def encode_body(body: pulumi.Input[dict[str, Any]]) -> pulumi.Output[str]:
    """Base64 of the canonical JSON (sorted keys, so the same job never shows a diff)."""
    return pulumi.Output.from_input(body).apply(
        lambda b: base64.b64encode(json.dumps(b, sort_keys=True, separators=(",", ":")).encode()).decode()
    )


def pipeline_jobs_url(project: pulumi.Input[str], region: str) -> pulumi.Output[str]:
    """``pipelineJobs.create`` on the regional Vertex AI REST endpoint."""
    return concat(
        f"https://{region}-aiplatform.googleapis.com/v1/projects/", project, f"/locations/{region}/pipelineJobs"
    )


def schedule_pipeline_job_request(body: dict[str, Any], project: str, region: str) -> dict[str, Any]:
    """``gcp.colab.Schedule``'s ``create_pipeline_job_request`` for the PipelineJob ``body`` (CMEK kept).

    The provider types ``pipelineSpec`` as a JSON string and ``runtimeConfig.parameterValues`` as a map
    of strings, so the spec is serialized (sorted keys: no spurious diff) and each value must be a string.
    """
    runtime = body["runtimeConfig"]
    job: dict[str, Any] = {
        "display_name": body["displayName"],
        "runtime_config": {
            "gcs_output_directory": runtime["gcsOutputDirectory"],
            "parameter_values": {key: str(value) for key, value in runtime.get("parameterValues", {}).items()},
        },
        "encryption_spec": {"kms_key_name": body["encryptionSpec"]["kmsKeyName"]},
        "service_account": body["serviceAccount"],
        "labels": body["labels"],
    }
    if "pipelineSpec" in body:
        job["pipeline_spec"] = json.dumps(body["pipelineSpec"], sort_keys=True, separators=(",", ":"))
    else:
        job["template_uri"] = body["templateUri"]
    if "network" in body:
        job["network"] = body["network"]
    return {"parent": f"projects/{project}/locations/{region}", "pipeline_job": job}
