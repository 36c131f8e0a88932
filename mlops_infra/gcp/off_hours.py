"""Off-hours for Vertex AI endpoints (``mlops-infra:gcp:OffHours``): no deployed model at night, the same ones by day.

A dedicated Vertex endpoint cannot hold a deployed model at zero replicas (v1 ``minReplicaCount >= 1``), so
the evening undeploys the endpoints' declared models and the morning redeploys exactly them
(:mod:`mlops_infra.gcp.off_hours_workflow`)::

    Cloud Scheduler ``stop``  (cron, time zone) --{"action": "stop"}-->  Cloud Workflow (CMEK) -> Vertex AI
    Cloud Scheduler ``start`` (cron, time zone) --{"action": "start"}--> the same workflow

Least privilege: the workflow runs as its own account, which holds a custom role with the four endpoint
permissions the calls need (get, update the traffic split, deploy, undeploy) and ``actAs`` on the
serving accounts the deployed models run as, nothing else; it is also the schedulers' OAuth identity
(``workflows.invoker``). A failed stop or start (quota, a model that will not deploy) alerts.
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
from mlops_infra.gcp.alert_policy import severity_alert_policy
from mlops_infra.gcp.iam import service_account_member
from mlops_infra.gcp.off_hours_workflow import off_hours_workflow
from mlops_infra.gcp.platform_key import key_for, workflows_agent_grant
from mlops_infra.gcp.project import project_id
from mlops_infra.gcp.scheduled_workflow import (
    WORKFLOWS_INVOKER,
    cmek_workflow,
    failed_executions,
    project_role_grants,
    workflow_schedule,
)
from mlops_infra.gcp.settings import KmsKeyName, Region
from mlops_infra.outputs import concat
from mlops_infra.spec.base import Spec, StrInput
from mlops_infra.spec.schedule import Schedule

ENDPOINT_PERMISSIONS = (
    "aiplatform.endpoints.get",
    "aiplatform.endpoints.update",
    "aiplatform.endpoints.deploy",
    "aiplatform.endpoints.undeploy",
)
"""The custom role of the workflow: read an endpoint, set its traffic split, deploy to it, undeploy from it."""


class OffHoursEndpoint(Spec):
    """One endpoint that follows the schedule, and what it serves by day."""

    endpoint: StrInput = Field(description="projects/P/locations/L/endpoints/ID (Endpoint.resource_name).")
    models: Any = Field(description="Key, share and REST DeployedModel of each deployment (Endpoint.restore_plan()).")
    serving_accounts: list[StrInput] = Field(
        default_factory=list, description="E-mails of the accounts the deployed models run as (deploying needs actAs)."
    )


class OffHoursArgs(Spec):
    """When the endpoints go down and come back, and which endpoints."""

    region: Region
    kms_key_name: KmsKeyName = None
    stop: Schedule = Field(description="When the endpoints' models are undeployed.")
    start: Schedule = Field(description="When they are deployed again, with the declared traffic split.")
    endpoints: list[OffHoursEndpoint] = Field(min_length=1, max_length=50)
    notification_channels: list[StrInput] = Field(
        default_factory=list, description="Cloud Monitoring channels told of a failed stop or start."
    )


class OffHours(PlatformComponent[OffHoursArgs]):
    """A custom-role account, a CMEK workflow, a stop and a start scheduler job, and an alert on failed runs."""

    TYPE_TOKEN = "mlops-infra:gcp:OffHours"
    ARGS = OffHoursArgs

    def __init__(
        self, name: str, args: OffHoursArgs | dict[str, Any] | None = None, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(name, args, opts)
        a = self.args
        project = project_id(pulumi.InvokeOutputOptions(parent=self))
        physical = self.platform.name(name, naming.GCP_RESOURCE)
        self.service_account = gcp.serviceaccount.Account(
            self.child_name("sa"),
            account_id=self.platform.name(name, naming.GCP_SERVICE_ACCOUNT_ID),
            display_name=f"{name} off-hours ({self.platform.environment})",
            description="Undeploys the endpoints' models in the evening and deploys them again in the morning.",
            opts=self.child_opts(),
        )
        member = service_account_member(self.service_account.email)
        grants = [*self._endpoint_role(name, project, member), *self._act_as(project, member)]
        grants.extend(project_role_grants(self, project, member, (WORKFLOWS_INVOKER,)))
        key = key_for(a.kms_key_name, a.region, requester=self)
        grants.append(workflows_agent_grant(key, self))
        region = a.region
        source = pulumi.Output.from_input([{"name": e.endpoint, "models": e.models} for e in a.endpoints]).apply(
            lambda endpoints: json.dumps(
                off_hours_workflow(region=region, endpoints=endpoints), sort_keys=True, indent=1
            )
        )
        self.workflow = cmek_workflow(
            self,
            name=physical,
            region=a.region,
            description=f"Off-hours of {len(a.endpoints)} endpoint(s): undeploy at stop, redeploy at start",
            service_account=self.service_account.id,
            key_name=key.name,
            source=source,
            depends_on=grants,
        )
        self.scheduler_jobs: dict[str, gcp.cloudscheduler.Job] = {
            action: workflow_schedule(
                self,
                name=self.platform.name(f"{name}-{action}", naming.GCP_RESOURCE),
                region=a.region,
                description=f"Off-hours {action}: {verb} the endpoints' models",
                schedule=schedule,
                workflow=self.workflow,
                invoker_email=self.service_account.email,
                depends_on=grants,
                argument={"action": action},
                child=action,
            )
            for action, verb, schedule in (("stop", "undeploy", a.stop), ("start", "redeploy", a.start))
        }
        self.alert_policy = severity_alert_policy(
            self.child_name("alert"),
            display_name=f"{physical} off-hours failed",
            severity="warning",
            channels=a.notification_channels,
            labels=self.platform.gcp_labels,
            content="An off-hours stop or start failed: after a failed start an endpoint may serve nothing "
            '(see the workflow\'s executions; run it with {"action": "start"} or `pulumi up`).',
            conditions=[failed_executions("off-hours run failed", physical)],
            opts=self.child_opts(),
        )
        self.register_outputs(
            {
                "workflow": self.workflow.name,
                "stopJob": self.scheduler_jobs["stop"].name,
                "startJob": self.scheduler_jobs["start"].name,
                "serviceAccount": self.service_account.email,
            }
        )

    def _endpoint_role(
        self, name: str, project: pulumi.Output[str], member: pulumi.Output[str]
    ) -> list[pulumi.Resource]:
        """A project custom role with :data:`ENDPOINT_PERMISSIONS` only, bound to the workflow's account."""
        role_id = re.sub(r"[^A-Za-z0-9_]", "_", self.platform.name(f"{name}-endpoints", naming.GCP_RESOURCE))
        self.endpoint_role = gcp.projects.IAMCustomRole(
            self.child_name("endpoint-role"),
            role_id=role_id,
            title=f"{name}: undeploy and redeploy Vertex endpoint models",
            description="Off-hours workflow: read endpoints, set their traffic split, deploy and undeploy models",
            permissions=list(ENDPOINT_PERMISSIONS),
            opts=self.child_opts(),
        )
        binding = gcp.projects.IAMMember(
            self.child_name("endpoint-operator"),
            project=project,
            role=concat("projects/", project, "/roles/", role_id),
            member=member,
            opts=self.child_opts(depends_on=[self.endpoint_role]),
        )
        return [binding]

    def _act_as(self, project: pulumi.Output[str], member: pulumi.Output[str]) -> list[pulumi.Resource]:
        """``actAs`` on each serving account: deploying a model that runs as an account needs it."""
        accounts: list[pulumi.Input[str]] = []
        for endpoint in self.args.endpoints:
            accounts.extend(endpoint.serving_accounts)
        return [
            gcp.serviceaccount.IAMMember(
                self.child_name(f"act-as-serving-{index}"),
                service_account_id=concat("projects/", project, "/serviceAccounts/", account),
                role="roles/iam.serviceAccountUser",
                member=member,
                opts=self.child_opts(),
            )
            for index, account in enumerate(accounts)
        ]
