"""Where a workload keeps files: object storage (``s3://``/``gs://``) or a PersistentVolumeClaim."""

from __future__ import annotations

from pydantic import Field, field_validator, model_validator

from mlops_infra.k8s.quantity import quantity
from mlops_infra.spec.base import Spec
from mlops_infra.spec.k8s import DataUri


class StorageLocation(Spec):
    """Object storage (``s3://`` or ``gs://`` URI) or a PVC of ``pvc_size``; exactly one.

    Object storage is reached over HTTPS with the workload's identity (IRSA / GKE Workload
    Identity annotations on its ServiceAccount); a PVC is created as a Pulumi resource, so it
    is protected in protected environments.
    """

    uri: DataUri | None = Field(None, description="s3:// or gs:// URI (the spec's validator).")
    pvc_size: str | None = Field(None, description="Size of a new PVC, e.g. 50Gi.")
    storage_class: str | None = Field(None, pattern=r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")

    @field_validator("pvc_size")
    @classmethod
    def _size(cls, value: str | None) -> str | None:
        return value if value is None else quantity(value)

    @model_validator(mode="after")
    def _exactly_one(self) -> StorageLocation:
        if (self.uri is None) == (self.pvc_size is None):
            raise ValueError("set exactly one of uri (s3:// or gs://) and pvc_size")
        return self
