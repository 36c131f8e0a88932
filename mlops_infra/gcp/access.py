"""The platform's four personas (plus model approvers) granted least privilege on GCP.

Data reads are granted on the feature store's dataset and the models bucket only; project-level
roles are Vertex AI and Cloud Monitoring roles (Vertex has no per-model IAM, so approving a
model version, i.e. moving its alias, needs ``roles/aiplatform.user`` on the project).
"""

from __future__ import annotations

import re
from typing import Any

import pulumi
import pulumi_gcp as gcp
from pydantic import Field

from mlops_infra.component import PlatformComponent
from mlops_infra.gcp.iam import Principal
from mlops_infra.gcp.project import project_id
from mlops_infra.spec.base import Spec, StrInput

# persona -> (project roles in unprotected environments, in protected ones, dataset read, models read)
PERSONA_ROLES: dict[str, tuple[tuple[str, ...], tuple[str, ...], bool, bool]] = {
    "data_scientists": (("roles/aiplatform.user",), ("roles/aiplatform.viewer",), True, False),
    "ml_engineers": (("roles/aiplatform.user",), ("roles/aiplatform.user",), True, True),
    "devops": (
        ("roles/aiplatform.viewer", "roles/monitoring.alertPolicyEditor"),
        ("roles/aiplatform.viewer", "roles/monitoring.alertPolicyEditor"),
        False,
        False,
    ),
    "analysts": (("roles/monitoring.viewer",), ("roles/monitoring.viewer",), False, False),
    "model_approvers": (("roles/aiplatform.user",), ("roles/aiplatform.user",), False, False),
}


class PlatformAccessArgs(Spec):
    """Principals per persona, and the data the personas that read data may read."""

    data_scientists: list[Principal] = Field(default_factory=list, description="Read features; run pipelines in dev.")
    ml_engineers: list[Principal] = Field(default_factory=list, description="Read features and models; run Vertex.")
    devops: list[Principal] = Field(default_factory=list, description="View Vertex, edit alert policies; no data.")
    analysts: list[Principal] = Field(default_factory=list, description="View monitoring.")
    model_approvers: list[Principal] = Field(default_factory=list, description="Move the approved alias.")
    feature_dataset: StrInput | None = Field(None, description="BigQuery dataset id of the offline feature store.")
    models_bucket: StrInput | None = Field(None, description="Bucket holding model artifacts.")


class PlatformAccess(PlatformComponent[PlatformAccessArgs]):
    """One IAM member binding per persona, role and principal; data roles on the named resources only."""

    TYPE_TOKEN = "mlops-infra:gcp:PlatformAccess"
    ARGS = PlatformAccessArgs

    def __init__(
        self, name: str, args: PlatformAccessArgs | dict[str, Any], opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(name, args, opts)
        a = self.args
        project = project_id(pulumi.InvokeOutputOptions(parent=self))
        self.bindings: list[pulumi.CustomResource] = []
        for persona, (open_roles, protected_roles, reads_features, reads_models) in PERSONA_ROLES.items():
            principals: list[str] = getattr(a, persona)
            roles = protected_roles if self.platform.protected else open_roles
            for principal in principals:
                # Named after the principal, not its position: reordering a list replaces nothing.
                who = re.sub(r"[^a-z0-9-]+", "-", principal.split(":", 1)[1].lower())
                prefix = f"{persona.replace('_', '-')}-{who}"
                for role in roles:
                    self.bindings.append(
                        gcp.projects.IAMMember(
                            self.child_name(f"{prefix}-{role.split('/')[1].replace('.', '-')}"),
                            project=project,
                            role=role,
                            member=principal,
                            opts=self.child_opts(),
                        )
                    )
                if reads_features and a.feature_dataset is not None:
                    self.bindings.append(
                        gcp.bigquery.DatasetIamMember(
                            self.child_name(f"{prefix}-features-reader"),
                            dataset_id=a.feature_dataset,
                            role="roles/bigquery.dataViewer",
                            member=principal,
                            opts=self.child_opts(),
                        )
                    )
                if reads_models and a.models_bucket is not None:
                    self.bindings.append(
                        gcp.storage.BucketIAMMember(
                            self.child_name(f"{prefix}-models-reader"),
                            bucket=a.models_bucket,
                            role="roles/storage.objectViewer",
                            member=principal,
                            opts=self.child_opts(),
                        )
                    )
        self.register_outputs({"bindings": len(self.bindings)})
