"""The platform's audit logs on GCP: Data Access audit logs of the services that hold its data and models.

Admin Activity audit logs are always on in GCP; Data Access logs (who read or wrote which data) are
off by default for most services. This turns ADMIN_READ, DATA_READ and DATA_WRITE on for Vertex AI,
BigQuery and Cloud Storage on the platform's project, one ``IAMAuditConfig`` per service. Each config
is authoritative for its service on the project: another program that sets the same service's audit
config on this project would fight it. The entries land in the project's ``_Default`` log bucket
(30 days unless its retention is raised); route them to a locked bucket with a sink for longer.
"""

from __future__ import annotations

from typing import Any, Final

import pulumi
import pulumi_gcp as gcp
from pydantic import Field

from mlops_infra.component import PlatformComponent
from mlops_infra.gcp.project import project_id
from mlops_infra.spec.base import Spec

PLATFORM_SERVICES: Final = ("aiplatform.googleapis.com", "bigquery.googleapis.com", "storage.googleapis.com")
LOG_TYPES: Final = ("ADMIN_READ", "DATA_READ", "DATA_WRITE")


class AuditLogsArgs(Spec):
    """The services whose Data Access audit logs are turned on."""

    services: list[str] = Field(
        default_factory=lambda: list(PLATFORM_SERVICES),
        min_length=1,
        max_length=20,
        description="Service names (e.g. aiplatform.googleapis.com) whose Data Access logs are recorded.",
    )


class AuditLogs(PlatformComponent[AuditLogsArgs]):
    """ADMIN_READ, DATA_READ and DATA_WRITE audit logs for each service on the provider's project."""

    TYPE_TOKEN = "mlops-infra:gcp:AuditLogs"
    ARGS = AuditLogsArgs

    def __init__(
        self, name: str, args: AuditLogsArgs | dict[str, Any] | None = None, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(name, args, opts)
        project = project_id(pulumi.InvokeOutputOptions(parent=self))
        self.configs: list[gcp.projects.IAMAuditConfig] = [
            gcp.projects.IAMAuditConfig(
                self.child_name(service.split(".", 1)[0]),
                project=project,
                service=service,
                audit_log_configs=[
                    gcp.projects.IAMAuditConfigAuditLogConfigArgs(log_type=log_type) for log_type in LOG_TYPES
                ],
                opts=self.child_opts(),
            )
            for service in self.args.services
        ]
        self.register_outputs({"services": list(self.args.services)})
