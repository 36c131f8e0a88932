"""What a job or a replica runs on: a cloud-neutral size class, with an explicit per-cloud override.

The size-class table below is the one place that maps a class to each cloud's machine. It is
documented in ``docs/platform-spec.md``; a test keeps the two equal.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from pydantic import Field, field_validator, model_validator

from mlops_infra.policy.facts.instance_types import (
    SageMakerKind,
    VertexUse,
    check_sagemaker_instance_type,
    check_vertex_machine_type,
)
from mlops_infra.spec.base import Spec


class SizeClass(StrEnum):
    """A machine size every cloud can realize."""

    SMALL = "small"
    MEDIUM = "medium"
    LARGE = "large"
    GPU_SMALL = "gpu-small"


@dataclass(frozen=True)
class KubernetesSize:
    """Kubernetes requests (limits equal requests): CPU cores, memory GiB and GPUs."""

    cpu: str
    memory: str
    gpu: int = 0


@dataclass(frozen=True)
class SizeRow:
    """One class on every cloud."""

    aws_instance_type: str
    gcp_machine_type: str
    gcp_accelerator_type: str | None
    gcp_accelerator_count: int
    kubernetes: KubernetesSize
    # Vertex custom training offers no 2-vCPU n1-standard/e2-standard machine: a class whose prediction
    # machine training lacks names its training machine here (None: the same machine for both uses).
    gcp_training_machine_type: str | None = None


SIZE_CLASSES: dict[SizeClass, SizeRow] = {
    SizeClass.SMALL: SizeRow(
        "ml.m5.large", "n1-standard-2", None, 0, KubernetesSize("1", "4Gi"), gcp_training_machine_type="n1-highmem-2"
    ),
    SizeClass.MEDIUM: SizeRow("ml.m5.xlarge", "n1-standard-4", None, 0, KubernetesSize("2", "8Gi")),
    SizeClass.LARGE: SizeRow("ml.m5.4xlarge", "n1-standard-16", None, 0, KubernetesSize("8", "32Gi")),
    SizeClass.GPU_SMALL: SizeRow(
        "ml.g5.xlarge", "n1-standard-4", "NVIDIA_TESLA_T4", 1, KubernetesSize("4", "16Gi", gpu=1)
    ),
}

_GCP_ACCELERATOR = re.compile(r"^NVIDIA_[A-Z0-9_]+$|^TPU_V[0-9A-Z_]+$")
_CPU = re.compile(r"^(?:[0-9]+m|[0-9]+(?:\.[0-9]+)?)$")
_MEMORY = re.compile(r"^[0-9]+(?:\.[0-9]+)?(?:Ki|Mi|Gi|Ti|K|M|G|T)?$")


def check_aws_instance_type(value: str, kind: SageMakerKind | None = None) -> str:
    """A SageMaker instance type the API offers for ``kind`` (any job kind when None), from botocore's model."""
    return check_sagemaker_instance_type(value, kind)


def check_gcp_machine_type(value: str, use: VertexUse | None = None) -> str:
    """A machine type Vertex AI documents for ``use`` (prediction or training; either when None)."""
    return check_vertex_machine_type(value, use)


class KubernetesResources(Spec):
    """Requests of one container; limits are set equal, so the pod's cost is what it asks for."""

    cpu: str = Field(description="CPU cores, e.g. '2' or '500m'.")
    memory: str = Field(description="Memory, e.g. '8Gi'.")
    gpu: int = Field(0, ge=0, le=16, description="NVIDIA GPUs (nvidia.com/gpu).")

    @field_validator("cpu")
    @classmethod
    def _cpu(cls, value: str) -> str:
        if not _CPU.fullmatch(value):
            raise ValueError(f"{value!r} is not a CPU quantity like '2' or '500m'")
        return value

    @field_validator("memory")
    @classmethod
    def _memory(cls, value: str) -> str:
        if not _MEMORY.fullmatch(value):
            raise ValueError(f"{value!r} is not a memory quantity like '8Gi'")
        return value


class Compute(Spec):
    """A size class, or an explicit machine per cloud (an override wins on its own cloud only)."""

    size: SizeClass = SizeClass.SMALL
    instance_type: str | None = Field(None, description="AWS override: SageMaker instance type.")
    machine_type: str | None = Field(None, description="GCP override: Vertex machine type.")
    accelerator_type: str | None = Field(None, description="GCP override: accelerator, e.g. NVIDIA_TESLA_T4.")
    accelerator_count: int = Field(0, ge=0, le=16, description="GCP override: accelerators per replica.")
    resources: KubernetesResources | None = Field(None, description="Kubernetes override: container requests.")

    @field_validator("instance_type")
    @classmethod
    def _aws(cls, value: str | None) -> str | None:
        return None if value is None else check_aws_instance_type(value)

    @field_validator("machine_type")
    @classmethod
    def _gcp(cls, value: str | None) -> str | None:
        return None if value is None else check_gcp_machine_type(value)

    @field_validator("accelerator_type")
    @classmethod
    def _accelerator(cls, value: str | None) -> str | None:
        if value is not None and not _GCP_ACCELERATOR.fullmatch(value):
            raise ValueError(f"{value!r} is not a Vertex accelerator type like NVIDIA_TESLA_T4")
        return value

    @model_validator(mode="after")
    def _accelerator_pair(self) -> Compute:
        if (self.accelerator_type is None) != (self.accelerator_count == 0):
            raise ValueError("accelerator_type and accelerator_count go together (both set or neither)")
        if self.accelerator_type is not None and self.machine_type is None:
            raise ValueError("an accelerator override needs machine_type too")
        return self

    def offered_for(self, kind: SageMakerKind) -> Compute:
        """This compute when its AWS override is a type SageMaker offers for ``kind`` jobs (every class row is)."""
        if self.instance_type is not None:
            try:
                check_aws_instance_type(self.instance_type, kind)
            except ValueError as exc:
                raise ValueError(f"instance_type: {exc}") from exc
        return self

    @property
    def row(self) -> SizeRow:
        """The size class's row of the table."""
        return SIZE_CLASSES[self.size]

    def aws_instance_type(self) -> str:
        """The SageMaker instance type: the override, else the class's."""
        return self.instance_type or self.row.aws_instance_type

    def gcp_machine(self, use: VertexUse = "prediction") -> tuple[str, str | None, int]:
        """(machine type, accelerator type, accelerator count) for ``use``: the override, else the class's."""
        if self.machine_type is not None:
            return self.machine_type, self.accelerator_type, self.accelerator_count
        row = self.row
        machine = row.gcp_training_machine_type if use == "training" and row.gcp_training_machine_type else None
        return machine or row.gcp_machine_type, row.gcp_accelerator_type, row.gcp_accelerator_count

    def kubernetes_resources(self) -> KubernetesResources:
        """The container requests: the override, else the class's."""
        if self.resources is not None:
            return self.resources
        size = self.row.kubernetes
        return KubernetesResources(cpu=size.cpu, memory=size.memory, gpu=size.gpu)
