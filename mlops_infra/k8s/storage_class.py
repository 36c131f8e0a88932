"""An encrypted StorageClass: every volume it provisions is encrypted with a customer-managed key.

- ``aws-ebs``: the EBS CSI driver (``ebs.csi.aws.com``) with ``encrypted: "true"`` and ``kmsKeyId``;
- ``gce-pd``: the GCE persistent disk CSI driver (``pd.csi.storage.gke.io``) with
  ``disk-encryption-kms-key``.

Volumes bind when their pod is scheduled (``WaitForFirstConsumer``, so a zonal disk lands in the
pod's zone), can grow (``allowVolumeExpansion``), and are retained when their claim is deleted
(``reclaimPolicy: Retain``) unless ``reclaim_policy`` says ``Delete``. The class is cluster-scoped:
its name carries the project and environment.
"""

from __future__ import annotations

from typing import Any, Literal

import pulumi
import pulumi_kubernetes as k8s
from pydantic import Field, model_validator

from mlops_infra.component import PlatformComponent
from mlops_infra.conventions import naming
from mlops_infra.k8s.labels import MANAGED_BY, MANAGER
from mlops_infra.k8s.objects import metadata
from mlops_infra.spec.base import Spec
from mlops_infra.spec.k8s import VolumeProvisioner, check_volume_key

CSI_DRIVERS: dict[VolumeProvisioner, str] = {
    VolumeProvisioner.AWS_EBS: "ebs.csi.aws.com",
    VolumeProvisioner.GCE_PD: "pd.csi.storage.gke.io",
}
DEFAULT_VOLUME_TYPES: dict[VolumeProvisioner, str] = {
    VolumeProvisioner.AWS_EBS: "gp3",
    VolumeProvisioner.GCE_PD: "pd-balanced",
}


class EncryptedStorageClassArgs(Spec):
    """A StorageClass whose volumes are encrypted with ``kms_key``."""

    provisioner: VolumeProvisioner = Field(description="aws-ebs (EBS CSI) or gce-pd (GCE PD CSI).")
    kms_key: str = Field(description="KMS key ARN (aws-ebs) or Cloud KMS crypto key name (gce-pd).")
    volume_type: str | None = Field(
        None, pattern=r"^[a-z0-9-]+$", description="EBS volume type or PD type; default gp3 / pd-balanced."
    )
    reclaim_policy: Literal["Retain", "Delete"] = Field(
        "Retain", description="What happens to a volume when its claim is deleted (Retain keeps the data)."
    )

    @model_validator(mode="after")
    def _key_matches_driver(self) -> EncryptedStorageClassArgs:
        check_volume_key(self.provisioner, self.kms_key)
        return self


def parameters(args: EncryptedStorageClassArgs) -> dict[str, str]:
    """The CSI driver's StorageClass parameters (all strings, as Kubernetes requires)."""
    volume_type = args.volume_type or DEFAULT_VOLUME_TYPES[args.provisioner]
    if args.provisioner is VolumeProvisioner.AWS_EBS:
        return {"type": volume_type, "encrypted": "true", "kmsKeyId": args.kms_key}
    return {"type": volume_type, "disk-encryption-kms-key": args.kms_key}


class EncryptedStorageClass(PlatformComponent[EncryptedStorageClassArgs]):
    """A cluster-scoped StorageClass encrypting every volume with a customer-managed key."""

    TYPE_TOKEN = "mlops-infra:k8s:EncryptedStorageClass"
    ARGS = EncryptedStorageClassArgs

    class_name: str
    """The StorageClass name, {project}-{environment}-{name}: what PVCs put in storageClassName."""

    def __init__(
        self,
        name: str,
        args: EncryptedStorageClassArgs | dict[str, Any] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(name, args, opts)
        a = self.args
        self.class_name = self.platform.name(name, naming.K8S_LABEL_NAME)
        self.storage_class = k8s.storage.v1.StorageClass(
            self.child_name("class"),
            metadata=metadata(self.class_name, None, {MANAGED_BY: MANAGER}),
            provisioner=CSI_DRIVERS[a.provisioner],
            parameters=parameters(a),
            reclaim_policy=a.reclaim_policy,
            volume_binding_mode="WaitForFirstConsumer",
            allow_volume_expansion=True,
            opts=self.child_opts(),
        )
        self.register_outputs({"class_name": self.class_name})
