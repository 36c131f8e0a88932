"""The deploying GCP project and region, read once per stack (invokes are mocked offline)."""

from __future__ import annotations

import pulumi
import pulumi_gcp as gcp
import pulumi_gcp.config as gcp_config

from mlops_infra.outputs import concat

# Vertex AI, BigQuery, Cloud KMS and GCS must share a region for CMEK to apply, so every
# component takes one explicit region (``region`` arg, else the ``gcp:region`` stack config).
REGION_PATTERN = r"^[a-z]+-[a-z]+[0-9]+$"


def configured_region() -> str:
    """``gcp:region`` (or GOOGLE_REGION); empty when unset so validation names the ``region`` field."""
    return gcp_config.region or ""


def project_id(opts: pulumi.InvokeOutputOptions | None = None) -> pulumi.Output[str]:
    """The project id of the provider in use (``gcp:project``)."""
    return gcp.organizations.get_project_output(opts=opts).apply(lambda p: str(p.project_id))


def project_number(opts: pulumi.InvokeOutputOptions | None = None) -> pulumi.Output[str]:
    """The project number, which names the Google-managed service agents."""
    return gcp.organizations.get_project_output(opts=opts).apply(lambda p: str(p.number))


def vertex_api_endpoint(region: str) -> str:
    """The regional Vertex AI API host (``{region}-aiplatform.googleapis.com``)."""
    return f"{region}-aiplatform.googleapis.com"


def location_path(project: pulumi.Input[str], region: str) -> pulumi.Output[str]:
    """``projects/{project}/locations/{region}``: the parent of every regional Vertex resource."""
    return concat("projects/", project, "/locations/", region)
