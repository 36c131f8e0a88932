"""Batch inference on a schedule: a model run over a dataset, results written next to it."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field, field_validator

from mlops_infra.spec.base import Spec
from mlops_infra.spec.compute import Compute
from mlops_infra.spec.model import ModelSpec, check_artifact
from mlops_infra.spec.schedule import Schedule
from mlops_infra.spec.types import Name


class BatchFormat(StrEnum):
    """How input records are laid out; outputs use the same."""

    JSONL = "jsonl"
    CSV = "csv"


class BatchInferenceSpec(Spec):
    """A scheduled batch prediction (SageMaker transform, Vertex batch prediction, a Kubernetes CronJob).

    ``input`` and ``output`` are paths relative to each cloud's data store, or absolute URIs;
    outputs and scratch volumes are encrypted with the platform key.
    """

    name: Name
    model: ModelSpec
    input: str = Field(description="Dataset to score: a path relative to the data store, or an object URI.")
    output: str | None = Field(None, description="Where results go; None: predictions/<name>/ in the data store.")
    format: BatchFormat = BatchFormat.JSONL
    schedule: Schedule
    compute: Compute = Field(default_factory=Compute)
    max_replicas: int = Field(1, ge=1, le=100, description="Most replicas working on one run.")
    max_runtime_seconds: int = Field(3600, ge=60, le=7 * 24 * 3600, description="Hard stop of one run, seconds.")

    @field_validator("input", "output")
    @classmethod
    def _location(cls, value: str | None) -> str | None:
        return None if value is None else check_artifact(value)

    @field_validator("compute")
    @classmethod
    def _transform_type(cls, compute: Compute) -> Compute:
        return compute.offered_for("transform")
