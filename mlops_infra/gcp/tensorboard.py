"""Vertex AI Experiments' store: a CMEK-encrypted TensorBoard (``mlops-infra:gcp:ExperimentTracking``).

The training pipeline's train job logs to it (the CustomJob's ``tensorboard``, logs written under the
pipeline root), and Vertex AI Experiments shows the runs against it. The TensorBoard is encrypted with
the platform key (or the given one); the Vertex AI service agent's use of the key is granted first.
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_gcp as gcp
from pydantic import Field

from mlops_infra.component import PlatformComponent
from mlops_infra.config.base import ComponentArgs
from mlops_infra.conventions import naming
from mlops_infra.gcp.iam import ServiceAgent
from mlops_infra.gcp.platform_key import key_for
from mlops_infra.gcp.settings import KmsKeyName, Region


class ExperimentTrackingArgs(ComponentArgs):
    """Settings of the platform's experiment store."""

    region: Region
    kms_key_name: KmsKeyName = None
    experiment: str = Field(pattern=r"^[a-z][a-z0-9-]{0,62}$", description="Experiment the runs are grouped in.")
    description: str = Field("", max_length=500)


class ExperimentTracking(PlatformComponent[ExperimentTrackingArgs]):
    """A CMEK TensorBoard backing Vertex AI Experiments; ``tensorboard_name`` is what pipelines log to."""

    TYPE_TOKEN = "mlops-infra:gcp:ExperimentTracking"
    ARGS = ExperimentTrackingArgs

    def __init__(
        self,
        name: str,
        args: ExperimentTrackingArgs | dict[str, Any] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(name, args, opts)
        a = self.args
        key = key_for(a.kms_key_name, a.region, ServiceAgent.AIPLATFORM, requester=self)
        self.tensorboard = gcp.vertex.AiTensorboard(
            self.child_name("tensorboard"),
            display_name=self.platform.name(f"{name}-{a.experiment}", naming.GCP_RESOURCE),
            description=a.description or f"Experiment {a.experiment} of {self.platform.settings.project}",
            region=a.region,
            encryption_spec=gcp.vertex.AiTensorboardEncryptionSpecArgs(kms_key_name=key.name),
            # The Vertex AI service agent must hold encrypt/decrypt on the key before the TensorBoard exists.
            opts=self.child_opts(depends_on=list(key.depends_on)),
        )
        self.tensorboard_name: pulumi.Output[str] = self.tensorboard.id
        """projects/P/locations/R/tensorboards/ID: what the training job's ``tensorboard`` names."""
        self.experiment: str = a.experiment
        self.register_outputs({"tensorboard": self.tensorboard_name, "experiment": a.experiment})
