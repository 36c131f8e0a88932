"""Experiment tracking: where training runs log their parameters, metrics and artifacts.

AWS realizes it as a SageMaker managed MLflow tracking server, GCP as Vertex AI Experiments backed by
a CMEK TensorBoard, Kubernetes as the platform's in-cluster MLflow. The training pipeline of every
cloud is told where to log (``MLFLOW_TRACKING_URI`` and ``MLFLOW_EXPERIMENT_NAME``, or the Vertex
experiment and TensorBoard resource name).
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from mlops_infra.spec.base import Spec, Switch


class TrackingSize(StrEnum):
    """Capacity of a managed tracking server (SageMaker: Small, Medium, Large)."""

    SMALL = "small"
    MEDIUM = "medium"
    LARGE = "large"


class TrackingSpec(Spec):
    """The platform's experiment tracker."""

    experiment: str | None = Field(
        None,
        pattern=r"^[a-z][a-z0-9-]{0,62}$",
        description="Experiment the training runs log to; default the registry's model name (lower case, '-').",
    )
    size: TrackingSize = Field(TrackingSize.SMALL, description="Managed tracking server capacity (AWS).")
    mlflow_version: str | None = Field(
        None,
        pattern=r"^[0-9]+\.[0-9]+(\.[0-9]+)?$",
        description="MLflow version of the managed server (AWS); default the service's current one.",
    )
    register_models: Switch = Field(
        True,
        description="Models logged to the tracker are registered into the platform's registry automatically "
        "(AWS: the tracking server's automatic model registration into the model package group).",
    )

    def experiment_name(self, model_name: str) -> str:
        """The experiment runs log to: ``experiment``, else the model name in lower case with '-'."""
        return self.experiment or model_name.lower().replace("_", "-")[:63]
