"""A SageMaker managed MLflow tracking server (``mlops-infra:aws:TrackingServer``).

The server stores run artifacts in its own KMS-encrypted, private, TLS-only bucket (archived after
``archive_after_days``, never expired) and runs as an execution role that may read and write that
bucket only and, with automatic model registration, register models into one model package group.
SageMaker encrypts the server's own metadata store with an AWS-owned key: the managed service takes
no customer key (``aws.sagemaker.MlflowTrackingServer`` has no key property), so the runs' artifacts,
which are the data, are what the platform key protects.
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_aws as aws
from pydantic import Field

from mlops_infra.aws.account import account_id, arn
from mlops_infra.aws.arns import KmsKeyArn
from mlops_infra.aws.global_names import global_name
from mlops_infra.aws.iam import assume_role_policy, kms_use_actions, policy_document, statement
from mlops_infra.aws.secure_bucket import SecureBucket, SecureBucketArgs
from mlops_infra.component import PlatformComponent
from mlops_infra.conventions import naming
from mlops_infra.outputs import concat
from mlops_infra.spec.base import Spec as ComponentArgs
from mlops_infra.spec.base import StrInput, Switch
from mlops_infra.spec.tracking import TrackingSize

SAGEMAKER_PRINCIPAL = "sagemaker.amazonaws.com"
SIZES: dict[TrackingSize, str] = {
    TrackingSize.SMALL: "Small",
    TrackingSize.MEDIUM: "Medium",
    TrackingSize.LARGE: "Large",
}
# What automatic model registration does in the registry (SageMaker Developer Guide, "Automatically register
# SageMaker AI models with SageMaker Model Registry"), on one group and its versions only.
REGISTRATION_ACTIONS = [
    "sagemaker:AddTags",
    "sagemaker:CreateModelPackage",
    "sagemaker:CreateModelPackageGroup",
    "sagemaker:DescribeModelPackageGroup",
    "sagemaker:UpdateModelPackage",
]
ARTIFACT_OBJECT_ACTIONS = ["s3:DeleteObject", "s3:GetObject", "s3:PutObject"]
ARTIFACT_BUCKET_ACTIONS = ["s3:GetBucketLocation", "s3:ListBucket"]


class TrackingServerArgs(ComponentArgs):
    """Settings of the managed MLflow tracking server."""

    kms_key_arn: KmsKeyArn = Field(description="Customer-managed key of the artifact bucket.")
    size: TrackingSize = Field(TrackingSize.SMALL, description="Server capacity (SageMaker Small, Medium, Large).")
    mlflow_version: str | None = Field(
        None, pattern=r"^[0-9]+\.[0-9]+(\.[0-9]+)?$", description="MLflow version; default the service's current."
    )
    model_package_group_name: StrInput | None = Field(
        None,
        description="Physical name of the model package group models are registered into; None turns automatic "
        "model registration off.",
    )
    automatic_model_registration: Switch = Field(
        True, description="Register models logged to MLflow into the model package group."
    )
    archive_after_days: int | None = Field(
        None, ge=1, le=36500, description="Days before artifacts move to GLACIER_IR (never expired)."
    )
    weekly_maintenance_window_start: str = Field(
        "Sun:03:00",
        pattern=r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun):([01][0-9]|2[0-3]):[0-5][0-9]$",
        description="Weekly maintenance start, UTC (Ddd:HH:MM).",
    )


class TrackingServer(PlatformComponent[TrackingServerArgs]):
    """SageMaker managed MLflow: a server, its artifact bucket and a role scoped to that bucket (and group)."""

    TYPE_TOKEN = "mlops-infra:aws:TrackingServer"
    ARGS = TrackingServerArgs

    def __init__(
        self,
        name: str,
        args: TrackingServerArgs | dict[str, Any] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(name, args, opts)
        a = self.args
        invoke = pulumi.InvokeOutputOptions(parent=self)
        account = account_id(invoke)
        self.artifact_bucket = SecureBucket(
            self.child_name("artifacts"),
            SecureBucketArgs(
                purpose="experiment-tracking",
                kms_key_arn=a.kms_key_arn,
                transition_to_glacier_ir_days=a.archive_after_days,
            ),
            opts=self.child_opts(),
        )
        self.role = aws.iam.Role(
            self.child_name("role"),
            name=global_name(self, f"{name}-mlflow", naming.IAM_ROLE),
            description=f"The {name} MLflow tracking server: its artifact bucket and model registration only",
            assume_role_policy=assume_role_policy(SAGEMAKER_PRINCIPAL, account),
            opts=self.child_opts(),
        )
        self.role_policy = aws.iam.RolePolicy(
            self.child_name("role-policy"),
            role=self.role.id,
            policy=policy_document(self._statements(invoke)),
            opts=self.child_opts(),
        )
        registers = a.automatic_model_registration and a.model_package_group_name is not None
        self.server = aws.sagemaker.MlflowTrackingServer(
            self.child_name("server"),
            tracking_server_name=self.platform.name(name, naming.SAGEMAKER),
            artifact_store_uri=concat("s3://", self.artifact_bucket.bucket_name, "/mlflow"),
            role_arn=self.role.arn,
            tracking_server_size=SIZES[a.size],
            mlflow_version=a.mlflow_version,
            automatic_model_registration=registers,
            weekly_maintenance_window_start=a.weekly_maintenance_window_start,
            # The server writes with the role from its first start: the policy must be in place.
            opts=self.child_opts(depends_on=[self.role_policy]),
        )
        self.server_arn: pulumi.Output[str] = self.server.arn
        self.tracking_uri: pulumi.Output[str] = self.server.arn
        """What MLFLOW_TRACKING_URI holds for the sagemaker-mlflow plugin: the server's ARN."""
        self.register_outputs(
            {"serverArn": self.server_arn, "artifactBucket": self.artifact_bucket.bucket_name, "roleArn": self.role.arn}
        )

    def _statements(self, invoke: pulumi.InvokeOutputOptions) -> list[dict[str, Any]]:
        a = self.args
        bucket = self.artifact_bucket.arn
        statements = [
            statement(ARTIFACT_BUCKET_ACTIONS, [bucket], sid="ArtifactBucket"),
            statement(ARTIFACT_OBJECT_ACTIONS, [concat(bucket, "/*")], sid="ArtifactObjects"),
            statement(kms_use_actions(), [a.kms_key_arn], sid="ArtifactKey"),
        ]
        if a.automatic_model_registration and a.model_package_group_name is not None:
            group = pulumi.Output.from_input(a.model_package_group_name).apply(lambda name: str(name).lower())
            statements.append(
                statement(
                    REGISTRATION_ACTIONS,
                    [
                        arn("sagemaker", concat("model-package-group/", group), invoke),
                        arn("sagemaker", concat("model-package/", group, "/*"), invoke),
                    ],
                    sid="RegisterModels",
                )
            )
        return statements


def tracking_statement(server_arn: pulumi.Input[str]) -> dict[str, Any]:
    """What a job that logs runs to the server may do on it (the MLflow data plane, that server only)."""
    return statement(TRACKING_CLIENT_ACTIONS, [server_arn], sid="LogToTrackingServer")


TRACKING_CLIENT_ACTIONS = [
    "sagemaker-mlflow:CreateExperiment",
    "sagemaker-mlflow:CreateModelVersion",
    "sagemaker-mlflow:CreateRegisteredModel",
    "sagemaker-mlflow:CreateRun",
    "sagemaker-mlflow:GetExperiment",
    "sagemaker-mlflow:GetExperimentByName",
    "sagemaker-mlflow:GetRun",
    "sagemaker-mlflow:LogBatch",
    "sagemaker-mlflow:LogInputs",
    "sagemaker-mlflow:LogMetric",
    "sagemaker-mlflow:LogModel",
    "sagemaker-mlflow:LogParam",
    "sagemaker-mlflow:SetTag",
    "sagemaker-mlflow:UpdateRun",
]
