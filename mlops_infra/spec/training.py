"""Continuous training: the pipeline, its schedule, the metric gate and retraining on drift."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field, field_validator, model_validator

from mlops_infra.spec.base import Spec, Switch
from mlops_infra.spec.compute import Compute
from mlops_infra.spec.images import Images
from mlops_infra.spec.schedule import Schedule


class MetricDirection(StrEnum):
    """Whether a larger metric is better."""

    MAXIMIZE = "maximize"
    MINIMIZE = "minimize"


class Orchestrator(StrEnum):
    """What runs the training pipeline."""

    NATIVE = "native"
    """The cloud's own: SageMaker Pipelines, Vertex AI Pipelines, Kubernetes CronJob or Argo (k8s.argo_enabled)."""
    KUBEFLOW = "kubeflow"
    """Kubeflow Pipelines recurring runs on the cluster (Kubernetes, KFP >= 2.5 in Kubernetes-native API mode).

    Not on GCP: there ``native`` already compiles the pipeline with kfp and runs it on Vertex AI Pipelines."""
    AIRFLOW = "airflow"
    """An Airflow DAG starts the pipeline (Amazon MWAA on AWS, Cloud Composer on GCP)."""


class MetricGate(Spec):
    """Only models whose evaluation metric passes ``threshold`` are registered."""

    name: str = Field("auc", pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
    threshold: float
    direction: MetricDirection = MetricDirection.MAXIMIZE


class TrainingSpec(Spec):
    """The training pipeline and when it runs."""

    image: Images = Field(description="Training container.")
    orchestrator: Orchestrator = Field(Orchestrator.NATIVE, description="What runs and schedules the pipeline.")
    compute: Compute = Field(default_factory=lambda: Compute(size="medium"))
    max_runtime_seconds: int = Field(7200, ge=60, le=28 * 24 * 3600, description="Hard stop of one run, seconds.")
    use_spot: Switch = Field(False, description="Spot/preemptible capacity where the cloud offers it.")
    volume_size_gb: int = Field(50, ge=1, le=16384, description="Training volume, GB.")
    gate: MetricGate = Field(default_factory=lambda: MetricGate(threshold=0.8))
    schedule: Schedule | None = Field(None, description="Continuous training; None runs on demand only.")
    retrain_on_drift: Switch = Field(True, description="Start a run when drift monitoring alarms.")
    parameters: dict[str, str] = Field(default_factory=dict, description="Pipeline parameters for scheduled runs.")

    @field_validator("compute")
    @classmethod
    def _training_type(cls, compute: Compute) -> Compute:
        return compute.offered_for("training")

    @field_validator("parameters")
    @classmethod
    def _parameters(cls, values: dict[str, str]) -> dict[str, str]:
        for name in values:
            if not name or not name.replace("_", "").replace("-", "").isalnum() or len(name) > 64:
                raise ValueError(f"parameter name {name!r} must be 1-64 letters, digits, '_' or '-'")
        return values

    @model_validator(mode="after")
    def _image(self) -> TrainingSpec:
        if self.image.image is None and not self.image.per_cloud:
            raise ValueError("image names no training container (set image.image or image.per_cloud)")
        return self
