"""A Cloud Composer 3 environment whose DAG submits the training pipeline (``training.orchestrator: airflow``).

The environment is private (``enable_private_environment``: no public IPs), its web server admits
only the listed ranges (none by default: operators use the Airflow REST API through IAM), and it is
encrypted with the platform's Cloud KMS key; the Google service agents Composer works through get
encrypt/decrypt on that key. Its bucket is the platform's secure bucket (CMEK, public access
prevention, versioning) and holds the DAG rendered by :mod:`mlops_infra.airflow_dag`, which submits
the platform's Vertex AI PipelineJob (its CMEK and service account in the body) on the schedule.

The environment runs as its own service account: ``roles/composer.worker`` on the project
(Composer workers have no narrower resource to grant on), a project custom role with only
``aiplatform.pipelineJobs.create`` and ``.get`` (pipeline jobs have no resource-level IAM), object
admin on its own bucket, and actAs on the pipeline's service account only, so the jobs it submits
run as that account and not as itself.
"""

from __future__ import annotations

from typing import Any, Literal

import pulumi
import pulumi_gcp as gcp
from pydantic import Field

from mlops_infra.airflow_dag import vertex_pipeline_dag
from mlops_infra.component import PlatformComponent
from mlops_infra.config.base import ComponentArgs, StrInput
from mlops_infra.conventions import naming
from mlops_infra.gcp.iam import KMS_ENCRYPTER_DECRYPTER, service_account_member
from mlops_infra.gcp.pipeline_job import pipeline_jobs_url
from mlops_infra.gcp.project import project_id, project_number
from mlops_infra.gcp.secure_bucket import SecureBucket
from mlops_infra.gcp.settings import Region
from mlops_infra.outputs import concat
from mlops_infra.spec.schedule import Schedule
from mlops_infra.spec.types import KeyRef

# Composer workers have no narrower resource than the project to be granted on.
PROJECT_ROLES = ("roles/composer.worker",)
# Vertex AI pipeline jobs have no resource-level IAM: a project custom role with exactly what the DAG calls.
SUBMITTER_ROLE = "airflowSubmitter"
SUBMITTER_PERMISSIONS = ("aiplatform.pipelineJobs.create", "aiplatform.pipelineJobs.get")
# The Composer service agent acts as a user-managed environment account (Cloud Composer, "Access control").
SERVICE_AGENT_EXTENSION_ROLE = "roles/composer.ServiceAgentV2Ext"
COMPOSER_AGENT_EMAIL = "service-{n}@cloudcomposer-accounts.iam.gserviceaccount.com"
# Service agents Composer encrypts through with CMEK, besides Cloud Storage and Artifact Registry, which the
# platform key already grants (Cloud Composer, "Using customer-managed encryption keys").
CMEK_AGENT_EMAILS: dict[str, str] = {
    "composer": COMPOSER_AGENT_EMAIL,
    "pubsub": "service-{n}@gcp-sa-pubsub.iam.gserviceaccount.com",
    "gke": "service-{n}@container-engine-robot.iam.gserviceaccount.com",
    "compute": "service-{n}@compute-system.iam.gserviceaccount.com",
}
ENVIRONMENT_SIZES = {
    "small": "ENVIRONMENT_SIZE_SMALL",
    "medium": "ENVIRONMENT_SIZE_MEDIUM",
    "large": "ENVIRONMENT_SIZE_LARGE",
}
DAG_FOLDER = "dags"


def _agent_member(template: str, number: pulumi.Output[str]) -> pulumi.Output[str]:
    """``serviceAccount:`` of the service agent whose e-mail ``template`` takes the project number ``{n}``."""
    return number.apply(lambda n: "serviceAccount:" + template.format(n=n))


class WebServerRange(ComponentArgs):
    """An IP range allowed to reach the Airflow web server."""

    value: str = Field(pattern=r"^[0-9a-fA-F:.]+/[0-9]{1,3}$", description="CIDR range.")
    description: str = Field("", max_length=300)


class ComposerEnvironmentArgs(ComponentArgs):
    """Settings of the Composer environment and the PipelineJob its DAG submits."""

    region: Region
    kms_key_name: KeyRef = Field(description="Cloud KMS key (projects/P/locations/R/keyRings/K/cryptoKeys/C).")
    pipeline_job: Any = Field(
        description="The PipelineJob body the DAG submits (the TrainingPipeline's job_body: CMEK, service account)."
    )
    pipeline_service_account: StrInput = Field(description="E-mail of the account the jobs run as (actAs on it).")
    schedule: Schedule | None = Field(None, description="When the DAG submits the job; None: on demand.")
    size: Literal["small", "medium", "large"] = Field("small", description="Composer 3 environment size.")
    image_version: str = Field(
        "composer-3-airflow-2.10.5",
        pattern=r"^composer-3-airflow-[0-9]+(\.[0-9]+)*(-build\.[0-9]+)?$",
        description="Composer 3 image (Airflow version).",
    )
    web_server_allowed_ranges: list[WebServerRange] = Field(
        default_factory=list, max_length=25, description="Ranges that may reach the web server; none: nobody."
    )


class ComposerEnvironment(PlatformComponent[ComposerEnvironmentArgs]):
    """A private, CMEK Composer 3 environment, its service account, its bucket and the training DAG."""

    TYPE_TOKEN = "mlops-infra:gcp:ComposerEnvironment"
    ARGS = ComposerEnvironmentArgs

    def __init__(
        self,
        name: str,
        args: ComposerEnvironmentArgs | dict[str, Any] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(name, args, opts)
        a = self.args
        project = project_id(pulumi.InvokeOutputOptions(parent=self))
        number = project_number(pulumi.InvokeOutputOptions(parent=self))
        self.environment_name = self.platform.name(name, naming.GCP_RESOURCE)
        self.service_account = gcp.serviceaccount.Account(
            self.child_name("sa"),
            account_id=self.platform.name(name, naming.GCP_SERVICE_ACCOUNT_ID),
            display_name=f"{name} Airflow (Composer, {self.platform.environment})",
            description="Runs the Composer environment; submits the training pipeline as its own account.",
            opts=self.child_opts(),
        )
        member = service_account_member(self.service_account.email)
        self.bucket = SecureBucket(
            self.child_name("bucket"), {"region": a.region, "kms_key_name": a.kms_key_name}, opts=self.child_opts()
        )
        grants = self._grants(project, number, member)
        self.dag_text: pulumi.Output[str] = pulumi.Output.all(
            pulumi.Output.from_input(a.pipeline_job), pipeline_jobs_url(project, a.region)
        ).apply(
            lambda resolved: vertex_pipeline_dag(
                dag_id=self.environment_name,
                pipeline_jobs_url=resolved[1],
                pipeline_job=resolved[0],
                schedule=a.schedule,
            )
        )
        self.dag = gcp.storage.BucketObject(
            self.child_name("dag"),
            bucket=self.bucket.bucket_name,
            name=f"{DAG_FOLDER}/{self.environment_name.replace('-', '_')}.py",
            content=self.dag_text,
            content_type="text/x-python",
            opts=self.child_opts(),
        )
        self.environment = gcp.composer.Environment(
            self.child_name("environment"),
            name=self.environment_name,
            region=a.region,
            project=project,
            storage_config=gcp.composer.EnvironmentStorageConfigArgs(bucket=self.bucket.bucket_name),
            config=gcp.composer.EnvironmentConfigArgs(
                software_config=gcp.composer.EnvironmentConfigSoftwareConfigArgs(image_version=a.image_version),
                environment_size=ENVIRONMENT_SIZES[a.size],
                enable_private_environment=True,
                node_config=gcp.composer.EnvironmentConfigNodeConfigArgs(service_account=self.service_account.email),
                encryption_config=gcp.composer.EnvironmentConfigEncryptionConfigArgs(kms_key_name=a.kms_key_name),
                web_server_network_access_control=gcp.composer.EnvironmentConfigWebServerNetworkAccessControlArgs(
                    allowed_ip_ranges=[
                        gcp.composer.EnvironmentConfigWebServerNetworkAccessControlAllowedIpRangeArgs(
                            value=r.value, description=r.description or None
                        )
                        for r in a.web_server_allowed_ranges
                    ]
                ),
            ),
            # Composer checks the key grants and the account's roles when it creates the environment.
            opts=self.child_opts(depends_on=grants),
        )
        self.register_outputs(
            {
                "environmentName": self.environment.name,
                "bucket": self.bucket.bucket_name,
                "dagObject": self.dag.name,
                "serviceAccountEmail": self.service_account.email,
            }
        )

    def _grants(
        self, project: pulumi.Output[str], number: pulumi.Output[str], member: pulumi.Output[str]
    ) -> list[pulumi.Resource]:
        a = self.args
        grants: list[pulumi.Resource] = [
            gcp.projects.IAMMember(
                self.child_name(role.split("/")[1].replace(".", "-").lower()),
                project=project,
                role=role,
                member=member,
                opts=self.child_opts(),
            )
            for role in PROJECT_ROLES
        ]
        submitter = gcp.projects.IAMCustomRole(
            self.child_name("role-submitter"),
            project=project,
            role_id=self.platform.name(f"{self.logical_name}-{SUBMITTER_ROLE}", naming.GCP_CUSTOM_ROLE_ID),
            title="Submits the training pipeline (Airflow)",
            description="Creates and reads Vertex AI pipeline jobs; granted by mlops-infra to the Composer account",
            permissions=list(SUBMITTER_PERMISSIONS),
            stage="GA",
            opts=self.child_opts(),
        )
        grants.append(
            gcp.projects.IAMMember(
                self.child_name("submitter"), project=project, role=submitter.name, member=member,
                opts=self.child_opts(),
            )
        )  # fmt: skip
        grants.append(
            gcp.storage.BucketIAMMember(
                self.child_name("bucket-admin"),
                bucket=self.bucket.bucket_name,
                role="roles/storage.objectAdmin",
                member=member,
                opts=self.child_opts(),
            )
        )
        pipeline_account = concat(
            "projects/", project, "/serviceAccounts/", pulumi.Output.from_input(a.pipeline_service_account)
        )
        grants.append(
            gcp.serviceaccount.IAMMember(
                self.child_name("act-as-pipeline"),
                service_account_id=pipeline_account,
                role="roles/iam.serviceAccountUser",
                member=member,
                opts=self.child_opts(),
            )
        )
        agent = _agent_member(COMPOSER_AGENT_EMAIL, number)
        grants.append(
            gcp.serviceaccount.IAMMember(
                self.child_name("agent-extension"),
                service_account_id=self.service_account.name,
                role=SERVICE_AGENT_EXTENSION_ROLE,
                member=agent,
                opts=self.child_opts(),
            )
        )
        for label, template in CMEK_AGENT_EMAILS.items():
            grants.append(
                gcp.kms.CryptoKeyIAMMember(
                    self.child_name(f"key-{label}-agent"),
                    crypto_key_id=a.kms_key_name,
                    role=KMS_ENCRYPTER_DECRYPTER,
                    member=_agent_member(template, number),
                    opts=self.child_opts(),
                )
            )
        return grants
