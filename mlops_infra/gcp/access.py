"""The platform's four personas (plus model approvers) granted least privilege on GCP.

Data reads are granted on the feature store's dataset and the models bucket only; project-level
roles are narrow Vertex AI and Cloud Monitoring roles, never an admin or editor role. Vertex AI has
no per-model IAM, so the project is the finest level for registry rights. Approving a model version
is moving its alias (``models.mergeVersionAliases``), which needs ``aiplatform.models.update``:
- model approvers get it through the custom role ``modelApprover`` (models get/list/update only) plus
  ``roles/aiplatform.viewer``;
- in ``prod`` ML engineers do not hold ``roles/aiplatform.user`` (which includes it): they get
  ``roles/aiplatform.viewer`` plus the custom role ``pipelineRunner`` (pipeline jobs
  create/get/list/cancel) and may act as the training pipeline's service account only; elsewhere
  they keep ``roles/aiplatform.user``.
So in prod the approver list is the only persona that can move an alias.
"""

from __future__ import annotations

import re
from typing import Any

import pulumi
import pulumi_gcp as gcp
from pydantic import Field

from mlops_infra.component import PlatformComponent
from mlops_infra.conventions import naming
from mlops_infra.gcp.iam import Principal
from mlops_infra.gcp.project import project_id
from mlops_infra.outputs import concat
from mlops_infra.spec.access import APPROVER_ONLY_ENVIRONMENT
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
    "model_approvers": (("roles/aiplatform.viewer",), ("roles/aiplatform.viewer",), False, False),
}
# Custom roles (role id suffix -> permissions): the only rights a persona needs beyond narrow predefined roles.
APPROVER_PERMISSIONS: tuple[str, ...] = ("aiplatform.models.get", "aiplatform.models.list", "aiplatform.models.update")
RUNNER_PERMISSIONS: tuple[str, ...] = (
    "aiplatform.pipelineJobs.cancel",
    "aiplatform.pipelineJobs.create",
    "aiplatform.pipelineJobs.get",
    "aiplatform.pipelineJobs.list",
)
CUSTOM_ROLES: dict[str, tuple[str, tuple[str, ...]]] = {
    "modelApprover": ("Approves model versions (moves registry aliases)", APPROVER_PERMISSIONS),
    "pipelineRunner": ("Runs the training pipeline", RUNNER_PERMISSIONS),
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
    pipeline_service_account: StrInput | None = Field(
        None, description="E-mail of the training pipeline's service account (ML engineers run pipelines as it)."
    )


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
        self.custom_roles: dict[str, gcp.projects.IAMCustomRole] = {}
        approvers_only = self.platform.environment == APPROVER_ONLY_ENVIRONMENT
        for persona, (open_roles, protected_roles, reads_features, reads_models) in PERSONA_ROLES.items():
            principals: list[str] = getattr(a, persona)
            roles: tuple[str, ...] = protected_roles if self.platform.protected else open_roles
            custom: tuple[str, ...] = ()
            if persona == "model_approvers":
                custom = ("modelApprover",)
            elif persona == "ml_engineers" and approvers_only:
                roles, custom = ("roles/aiplatform.viewer",), ("pipelineRunner",)
            for principal in principals:
                # Named after the principal, not its position: reordering a list replaces nothing.
                who = re.sub(r"[^a-z0-9-]+", "-", principal.split(":", 1)[1].lower())
                prefix = f"{persona.replace('_', '-')}-{who}"
                for role in roles:
                    self._project_binding(f"{prefix}-{role.split('/')[1].replace('.', '-')}", project, role, principal)
                for suffix in custom:
                    custom_role = self._custom_role(suffix, project)
                    role_name = concat("projects/", project, "/roles/", custom_role.role_id)
                    self._project_binding(f"{prefix}-{suffix}", project, role_name, principal)
                if "pipelineRunner" in custom and a.pipeline_service_account is not None:
                    # Submitting a pipeline job runs it as this account: act as it, and no other.
                    self.bindings.append(
                        gcp.serviceaccount.IAMMember(
                            self.child_name(f"{prefix}-pipeline-account-user"),
                            service_account_id=concat(
                                "projects/", project, "/serviceAccounts/", a.pipeline_service_account
                            ),
                            role="roles/iam.serviceAccountUser",
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

    def _project_binding(self, name: str, project: pulumi.Input[str], role: pulumi.Input[str], member: str) -> None:
        self.bindings.append(
            gcp.projects.IAMMember(
                self.child_name(name), project=project, role=role, member=member, opts=self.child_opts()
            )
        )

    def _custom_role(self, suffix: str, project: pulumi.Input[str]) -> gcp.projects.IAMCustomRole:
        """The project's custom role ``{project}_{env}_{suffix}`` (created once, on first use)."""
        if suffix not in self.custom_roles:
            title, permissions = CUSTOM_ROLES[suffix]
            self.custom_roles[suffix] = gcp.projects.IAMCustomRole(
                self.child_name(f"role-{suffix}"),
                project=project,
                role_id=self.platform.name(suffix, naming.GCP_CUSTOM_ROLE_ID),
                title=title,
                description=f"{title}; granted by mlops-infra to the platform's {suffix} persona",
                permissions=list(permissions),
                stage="GA",
                opts=self.child_opts(),
            )
        return self.custom_roles[suffix]
