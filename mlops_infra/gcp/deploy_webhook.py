"""An approval starts the deployment on GCP: the approved-alias audit log starts a workflow that calls the webhook.

A Vertex "approval" is setting the approved alias (``champion``) on a model version:
``ModelService.MergeVersionAliases``, which needs ``aiplatform.models.update`` (an ADMIN_WRITE
permission) and is therefore written to the Admin Activity audit log, which is always on. From it:

- an Eventarc trigger (``google.cloud.audit.log.v1.written``, ``serviceName``
  ``aiplatform.googleapis.com``, ``methodName`` ``google.cloud.aiplatform.v1.ModelService.MergeVersionAliases``)
  in the models' region starts
- a Cloud Workflow (CMEK, :mod:`mlops_infra.gcp.deploy_webhook_workflow`) that finds the version
  holding the alias and POSTs the shared request (:mod:`mlops_infra.registry.deploy_request`) to
  ``registry.approval.deploy_webhook.url``;
- the token is a Secret Manager secret (CMEK, replicated in the region only) whose value comes from
  the secret stack config ``token_secret``; only the workflow's service account may read it.

Least privilege: the trigger's account may receive events and invoke workflows; the workflow's
account may read this one secret and get Vertex models (a custom role with ``aiplatform.models.get``).
"""

from __future__ import annotations

import json
import re
from typing import Any

import pulumi
import pulumi_gcp as gcp
from pydantic import Field

from mlops_infra.component import PlatformComponent
from mlops_infra.conventions import naming
from mlops_infra.gcp.deploy_webhook_workflow import workflow_definition
from mlops_infra.gcp.iam import KMS_ENCRYPTER_DECRYPTER, service_account_member
from mlops_infra.gcp.platform_key import key_for, workflows_agent_grant
from mlops_infra.gcp.project import project_id, project_number
from mlops_infra.gcp.settings import KmsKeyName, Region
from mlops_infra.gcp.validation import VERSION_ALIAS_PATTERN
from mlops_infra.outputs import concat
from mlops_infra.registry.deploy_token import check_deploy_token
from mlops_infra.spec.approval import DeployWebhook
from mlops_infra.spec.base import Spec

AUDIT_LOG_EVENT = "google.cloud.audit.log.v1.written"
VERTEX_SERVICE = "aiplatform.googleapis.com"
MERGE_VERSION_ALIASES = "google.cloud.aiplatform.v1.ModelService.MergeVersionAliases"
TRIGGER_ROLES = ("roles/eventarc.eventReceiver", "roles/workflows.invoker")
"""Project roles of the trigger's account: receive the audit-log events, start the workflow."""
SECRET_ACCESSOR = "roles/secretmanager.secretAccessor"
MODEL_READER_PERMISSIONS = ("aiplatform.models.get",)
"""The workflow's one Vertex permission (custom role): read which version holds the alias."""
SECRET_MANAGER_AGENT_EMAIL = "service-{n}@gcp-sa-secretmanager.iam.gserviceaccount.com"


class DeployOnApprovalArgs(Spec):
    """Which models' approved alias starts which webhook."""

    region: Region
    kms_key_name: KmsKeyName = None
    webhook: DeployWebhook
    model_ids: list[str] = Field(
        min_length=1, description="Ids of the Vertex models (last segment of projects/P/locations/R/models/ID)."
    )
    approved_alias: str = Field(pattern=VERSION_ALIAS_PATTERN, description="The version alias that means approved.")


class DeployOnApproval(PlatformComponent[DeployOnApprovalArgs]):
    """Eventarc audit-log trigger -> Cloud Workflow -> deploy webhook, token in a CMEK Secret Manager secret."""

    TYPE_TOKEN = "mlops-infra:gcp:DeployOnApproval"
    ARGS = DeployOnApprovalArgs

    def __init__(
        self, name: str, args: DeployOnApprovalArgs | dict[str, Any], opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(name, args, opts)
        a = self.args
        check_deploy_token(a.webhook)  # before any child registers
        token = pulumi.Config().require_secret(a.webhook.token_secret)
        invoke = pulumi.InvokeOutputOptions(parent=self)
        project = project_id(invoke)
        number = project_number(invoke)
        key = key_for(a.kms_key_name, a.region, requester=self)

        # The token: a CMEK secret in the region, readable by the workflow's account only.
        agent = gcp.projects.ServiceIdentity(
            self.child_name("secretmanager-agent"), service="secretmanager.googleapis.com", opts=self.child_opts()
        )
        secret_key_grant = gcp.kms.CryptoKeyIAMMember(
            self.child_name("key-secretmanager-agent"),
            crypto_key_id=key.name,
            role=KMS_ENCRYPTER_DECRYPTER,
            member=pulumi.Output.from_input(number).apply(
                lambda n: "serviceAccount:" + SECRET_MANAGER_AGENT_EMAIL.format(n=n)
            ),
            opts=self.child_opts(depends_on=[agent]),
        )
        self.secret_id: str = self.platform.name(f"{name}-token", naming.GCP_RESOURCE)
        self.secret = gcp.secretmanager.Secret(
            self.child_name("token"),
            secret_id=self.secret_id,
            replication=gcp.secretmanager.SecretReplicationArgs(
                user_managed=gcp.secretmanager.SecretReplicationUserManagedArgs(
                    replicas=[
                        gcp.secretmanager.SecretReplicationUserManagedReplicaArgs(
                            location=a.region,
                            customer_managed_encryption=gcp.secretmanager.SecretReplicationUserManagedReplicaCustomerManagedEncryptionArgs(
                                kms_key_name=key.name
                            ),
                        )
                    ]
                )
            ),
            opts=self.child_opts(depends_on=[secret_key_grant, *key.depends_on]),
        )
        self.secret_version = gcp.secretmanager.SecretVersion(
            self.child_name("token-version"),
            secret=self.secret.id,
            secret_data=token,  # a secret Output: encrypted in the state, masked in previews
            opts=self.child_opts(),
        )

        # The workflow's identity: this secret, and reading Vertex models.
        self.workflow_account = gcp.serviceaccount.Account(
            self.child_name("workflow-sa"),
            account_id=self.platform.name(f"{name}-wf", naming.GCP_SERVICE_ACCOUNT_ID),
            display_name=f"{name} deploy webhook ({self.platform.environment})",
            description="Reads the approved Vertex version and calls the deploy webhook with its token.",
            opts=self.child_opts(),
        )
        workflow_member = service_account_member(self.workflow_account.email)
        self.secret_accessor = gcp.secretmanager.SecretIamMember(
            self.child_name("token-accessor"),
            project=project,
            secret_id=self.secret.secret_id,
            role=SECRET_ACCESSOR,
            member=workflow_member,
            opts=self.child_opts(),
        )
        role_id = re.sub(r"[^A-Za-z0-9_]", "_", self.platform.name(f"{name}-models", naming.GCP_RESOURCE))
        self.model_reader_role = gcp.projects.IAMCustomRole(
            self.child_name("model-reader"),
            role_id=role_id,
            title=f"{name}: read Vertex models",
            description="Which version holds the approved alias (the deploy webhook's workflow)",
            permissions=list(MODEL_READER_PERMISSIONS),
            opts=self.child_opts(),
        )
        self.model_reader = gcp.projects.IAMMember(
            self.child_name("workflow-model-reader"),
            project=project,
            role=concat("projects/", project, "/roles/", role_id),
            member=workflow_member,
            opts=self.child_opts(depends_on=[self.model_reader_role]),
        )
        # The Workflows agent's use of the key: one grant per key, shared with the drift workflow.
        workflows_key_grant = workflows_agent_grant(key, self)
        workflow_name = self.platform.name(name, naming.GCP_RESOURCE)
        self.workflow = gcp.workflows.Workflow(
            self.child_name("workflow"),
            name=workflow_name,
            region=a.region,
            description="A model version was approved (Vertex alias): call the deploy webhook",
            service_account=self.workflow_account.id,
            crypto_key_name=key.name,
            call_log_level="LOG_ERRORS_ONLY",  # never LOG_ALL_CALLS: it would log the token read from the secret
            source_contents=project.apply(
                lambda p: json.dumps(
                    workflow_definition(
                        project=p,
                        region=a.region,
                        model_ids=a.model_ids,
                        alias=a.approved_alias,
                        secret_id=self.secret_id,
                        url=a.webhook.url,
                        kind=a.webhook.kind,
                        stack=pulumi.get_stack(),
                    ),
                    sort_keys=True,
                    indent=1,
                )
            ),
            opts=self.child_opts(
                depends_on=[self.secret_accessor, self.secret_version, self.model_reader, workflows_key_grant]
            ),
        )

        # The trigger's identity: receive the audit-log events and start workflows.
        self.trigger_account = gcp.serviceaccount.Account(
            self.child_name("trigger-sa"),
            account_id=self.platform.name(f"{name}-ev", naming.GCP_SERVICE_ACCOUNT_ID),
            display_name=f"{name} approval trigger ({self.platform.environment})",
            description="Eventarc delivers the approved-alias audit log to the deploy webhook's workflow.",
            opts=self.child_opts(),
        )
        trigger_member = service_account_member(self.trigger_account.email)
        trigger_grants = [
            gcp.projects.IAMMember(
                self.child_name(f"trigger-{role.split('/')[1].replace('.', '-')}"),
                project=project,
                role=role,
                member=trigger_member,
                opts=self.child_opts(),
            )
            for role in TRIGGER_ROLES
        ]
        self.trigger = gcp.eventarc.Trigger(
            self.child_name("trigger"),
            name=self.platform.name(f"{name}-approved", naming.GCP_RESOURCE),
            location=a.region,
            matching_criterias=[
                gcp.eventarc.TriggerMatchingCriteriaArgs(attribute="type", value=AUDIT_LOG_EVENT),
                gcp.eventarc.TriggerMatchingCriteriaArgs(attribute="serviceName", value=VERTEX_SERVICE),
                gcp.eventarc.TriggerMatchingCriteriaArgs(attribute="methodName", value=MERGE_VERSION_ALIASES),
            ],
            destination=gcp.eventarc.TriggerDestinationArgs(workflow=self.workflow.id),
            service_account=self.trigger_account.email,
            opts=self.child_opts(depends_on=trigger_grants),
        )
        self.workflow_name: pulumi.Output[str] = self.workflow.name
        self.register_outputs(
            {"workflow": self.workflow.name, "trigger": self.trigger.name, "secret": self.secret.secret_id}
        )
