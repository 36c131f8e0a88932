"""Who lets a model version reach production, and how endpoints pick the version they serve."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from mlops_infra.spec.alerts import CONFIG_KEY
from mlops_infra.spec.base import Spec


class ApprovalMode(StrEnum):
    """How a newly registered version becomes deployable."""

    MANUAL = "manual"
    """A person approves each version (SageMaker PendingManualApproval, Vertex alias promotion, MLflow stage)."""
    AUTOMATIC = "automatic"
    """Versions that pass the pipeline's metric gate are approved at registration (dev only by default)."""


class ServedVersion(StrEnum):
    """Which registry version an endpoint serves."""

    PINNED = "pinned"
    """The version written in the spec or stack config (AWS ``aws.approved_model_packages``, the artifact URI)."""
    LATEST_APPROVED = "latest_approved"
    """The registry's newest approved version, resolved when the Pulumi program runs (docs/approval-to-rollout.md):
    the newest Approved package of the SageMaker group, the Vertex version holding the approved alias, the MLflow
    version holding the approved alias."""


class DeployTrigger(StrEnum):
    """What the approval event calls to start a deployment."""

    REPOSITORY_DISPATCH = "repository_dispatch"
    """A CI webhook: POST ``{"event_type": "model-approved", "client_payload": {...}}`` with ``Bearer TOKEN``."""
    PULUMI_DEPLOYMENTS = "pulumi_deployments"
    """Pulumi Deployments' REST API: POST ``{"operation": "update"}`` with ``token TOKEN``."""


class DeployWebhook(Spec):
    """The HTTPS endpoint an approval calls so that the approved version is deployed without a person editing code."""

    url: str = Field(
        pattern=r"^https://[A-Za-z0-9.-]+(:[0-9]{1,5})?/\S*$",
        description="HTTPS URL of the CI webhook (a repository dispatch) or of the stack's Pulumi Deployments API.",
    )
    kind: DeployTrigger = DeployTrigger.REPOSITORY_DISPATCH
    token_secret: str = Field(
        "deployWebhookToken",
        pattern=CONFIG_KEY,
        description="Secret stack config key holding the token the webhook is called with.",
    )


class Approval(Spec):
    """The approval gate between the registry and the endpoints. None in a spec: the environment decides."""

    mode: ApprovalMode = ApprovalMode.MANUAL
    approved_label: str = Field(
        "champion",
        pattern=r"^[a-z][a-z0-9-]{0,62}$",
        description="Label that marks the approved version (Vertex alias, MLflow alias; SageMaker uses its status).",
    )
    serve: ServedVersion = Field(
        ServedVersion.PINNED,
        description=(
            "How endpoints pick their version: pinned (today's explicit version) or latest_approved (the registry's "
            "newest approved version, resolved at deploy time; see docs/approval-to-rollout.md)."
        ),
    )
    deploy_webhook: DeployWebhook | None = Field(
        None,
        description=(
            "Called when a version is approved, to start the deployment (AWS: EventBridge API destination; GCP: "
            "Eventarc audit-log trigger and a Cloud Workflow; Kubernetes: a CronJob polling the MLflow alias)."
        ),
    )
