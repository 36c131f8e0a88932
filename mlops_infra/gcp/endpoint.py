"""A private, CMEK-encrypted Vertex AI endpoint with request logging, stepped rollouts and alerts."""

from __future__ import annotations

import hashlib
from typing import Any, Literal

import pulumi
import pulumi_gcp as gcp
from pydantic import Field, field_validator, model_validator

from mlops_infra.component import PlatformComponent
from mlops_infra.config.base import ComponentArgs, StrInput, validate_args
from mlops_infra.conventions import naming
from mlops_infra.conventions.context import PlatformContext, current_platform
from mlops_infra.conventions.markers import public_exposure_labels
from mlops_infra.gcp.bigquery_dataset import cmek_dataset
from mlops_infra.gcp.dynamic.clients import check_api_endpoint
from mlops_infra.gcp.dynamic.rollback_metrics import DEFAULT_MIN_REQUESTS
from mlops_infra.gcp.dynamic.vertex_deployment import VertexModelDeployment, check_canary, deployed_model_body
from mlops_infra.gcp.endpoint_alerts import EndpointAlerts, endpoint_alert_policies
from mlops_infra.gcp.iam import ServiceAgent, service_agent_member
from mlops_infra.gcp.platform_key import key_for
from mlops_infra.gcp.project import project_id, project_number, vertex_api_endpoint
from mlops_infra.gcp.settings import KmsKeyName, Network, Region
from mlops_infra.gcp.traffic import check_traffic_steps
from mlops_infra.gcp.validation import BIGQUERY_ID_PATTERN, VERSION_ALIAS_PATTERN
from mlops_infra.outputs import concat
from mlops_infra.spec.base import Switch, field_error
from mlops_infra.spec.compute import check_gcp_machine_type
from mlops_infra.spec.types import PositivePercent

CPU_UTILIZATION = "aiplatform.googleapis.com/prediction/online/cpu/utilization"
AUTOSCALING_METRICS = (
    CPU_UTILIZATION,
    "aiplatform.googleapis.com/prediction/online/accelerator/duty_cycle",
    "aiplatform.googleapis.com/prediction/online/request_count",
)


class AutoscalingTarget(ComponentArgs):
    """Scale replicas to keep ``metric_name`` near ``target`` (percent, or requests per replica)."""

    metric_name: Literal[AUTOSCALING_METRICS] = CPU_UTILIZATION  # type: ignore[valid-type]
    target: int = Field(60, ge=1, le=100_000)


class DeploymentArgs(ComponentArgs):
    """A model version served by the endpoint, under a stable ``key`` that traffic splits refer to."""

    key: str = Field(pattern=r"^[a-z][a-z0-9-]{0,62}$", description="Name used in traffic_steps (blue, green...).")
    model: StrInput = Field(description="Model resource name without version (ModelRegistry.model_name(...)).")
    alias: str | None = Field(None, pattern=VERSION_ALIAS_PATTERN, description="Deploy the version with this alias.")
    version: str | None = Field(None, pattern=r"^[0-9]+$", description="Or pin a version id (not in protected envs).")
    revision: StrInput | None = Field(
        None, description="A value that changes when the alias moves (VertexModel.version_id): triggers a rollout."
    )
    machine_type: str = Field("n1-standard-4", description="Vertex machine type, e.g. n1-standard-4.")
    accelerator_type: str | None = Field(None, pattern=r"^[A-Z0-9_]+$", description="For example NVIDIA_TESLA_T4.")
    accelerator_count: int = Field(0, ge=0, le=16)
    min_replicas: int = Field(1, ge=1, le=1000, description="Fewest replicas; Vertex cannot scale to zero.")
    max_replicas: int = Field(1, ge=1, le=1000, description="Most replicas; bounds the worst-case cost.")
    autoscaling: list[AutoscalingTarget] = Field(default_factory=lambda: [AutoscalingTarget()])
    service_account: StrInput | None = Field(None, description="Identity the serving container runs as.")

    @field_validator("machine_type")
    @classmethod
    def _machine(cls, value: str) -> str:
        return check_gcp_machine_type(value, "prediction")

    @model_validator(mode="after")
    def _consistent(self) -> DeploymentArgs:
        if (self.alias is None) == (self.version is None):
            raise ValueError("set exactly one of alias or version")
        if self.max_replicas < self.min_replicas:
            raise ValueError(f"min_replicas ({self.min_replicas}) is above max_replicas ({self.max_replicas})")
        if (self.accelerator_type is None) != (self.accelerator_count == 0):
            raise ValueError("accelerator_type and accelerator_count > 0 go together")
        return self


class RequestLoggingArgs(ComponentArgs):
    """Request-response logging (data capture) into a CMEK BigQuery dataset."""

    enabled: Switch = True
    sampling_percent: PositivePercent = Field(100, description="Share of requests logged, percent (0-100].")
    table: str = Field("request_response_logging", pattern=BIGQUERY_ID_PATTERN, description="Created by Vertex AI.")
    table_expiration_days: int | None = Field(None, ge=1, le=3650, description="Log retention; None keeps rows.")


class EndpointArgs(ComponentArgs):
    """Settings of an endpoint."""

    region: Region
    kms_key_name: KmsKeyName = None
    display_name: str | None = Field(None, max_length=128)
    endpoint_id: str | None = Field(None, pattern=r"^[1-9][0-9]{0,9}$", description="Numeric id; default derived.")
    network: Network | None = Field(None, description="VPC peering instead of PSC.")
    psc_project_allowlist: list[str] = Field(default_factory=list, description="PSC consumers; default this project.")
    allow_public_endpoint: Switch = Field(False, description="Explicit opt-in to a public endpoint (no PSC, no VPC).")
    request_logging: RequestLoggingArgs = Field(default_factory=RequestLoggingArgs)
    deployments: list[DeploymentArgs] = Field(default_factory=list)
    traffic_steps: list[dict[str, int]] = Field(
        default_factory=list, description="Splits applied in order (key -> percent); default all to the only key."
    )
    approved_alias: str = Field("champion", pattern=VERSION_ALIAS_PATTERN)
    step_wait_seconds: int | None = Field(
        None, ge=0, le=86400, description="Bake time between traffic steps; default 300 s protected, 0 otherwise."
    )
    canary_percentages: list[int] | None = Field(
        None,
        description="When a deployment's version changes in place, the share moved to the new version at each "
        "stage; default [10, 50, 100] in protected environments, [100] otherwise.",
    )
    alerts: EndpointAlerts = Field(default_factory=EndpointAlerts)
    rollback_on_alerts: Switch = Field(
        False,
        description="After each rollout stage's bake time, roll back when the error rate or p95 latency breaches "
        "the alert thresholds (read from Cloud Monitoring).",
    )
    min_requests: int | None = Field(
        None,
        ge=0,
        le=100_000_000,
        description="Predictions a new copy must serve during one bake window (step_wait_seconds) to be judged by "
        f"the metric gate; None: the gate's default ({DEFAULT_MIN_REQUESTS} predictions per bake window). "
        "Needs rollback_on_alerts.",
    )
    insufficient_data: Literal["rollback", "promote"] | None = Field(
        None,
        description="A stage whose copy served fewer than min_requests predictions in its bake window: 'rollback' "
        "fails it, 'promote' passes it with a warning; None: rollback in protected environments, promote "
        "elsewhere. Needs rollback_on_alerts.",
    )
    api_endpoint: str | None = Field(None, description="Vertex API host; default {region}-aiplatform.googleapis.com.")

    @field_validator("api_endpoint")
    @classmethod
    def _endpoint(cls, value: str | None) -> str | None:
        return check_api_endpoint(value) if value is not None else None

    @field_validator("canary_percentages")
    @classmethod
    def _canary(cls, value: list[int] | None) -> list[int] | None:
        if value is not None:
            check_canary(value)
        return value

    @model_validator(mode="after")
    def _network_and_traffic(self) -> EndpointArgs:
        if self.allow_public_endpoint and (self.network is not None or self.psc_project_allowlist):
            raise ValueError("allow_public_endpoint excludes network and psc_project_allowlist")
        if self.network is not None and self.psc_project_allowlist:
            raise ValueError("network (VPC peering) and psc_project_allowlist (PSC) are mutually exclusive")
        keys = [d.key for d in self.deployments]
        if len(set(keys)) != len(keys):
            raise ValueError(f"deployments: keys must be unique, got {keys}")
        if self.deployments:
            check_traffic_steps(self.resolved_steps(), keys)
        elif self.traffic_steps:
            raise ValueError("traffic_steps need deployments")
        for field in ("min_requests", "insufficient_data"):
            if getattr(self, field) is not None and not self.rollback_on_alerts:
                raise field_error(
                    "EndpointArgs",
                    (field,),
                    f"{field} tunes the metric gate, which only runs with rollback_on_alerts: true",
                    getattr(self, field),
                )
        return self

    def rollback_gate(self) -> dict[str, Any] | None:
        """The deployment's ``rollback_metrics``: the alert thresholds, plus the data rule when set."""
        if not self.rollback_on_alerts:
            return None
        gate: dict[str, Any] = {
            "error_rate_percent": self.alerts.error_rate_percent,
            "p95_latency_ms": self.alerts.p95_latency_ms,
        }
        # Unset keys keep the provider's defaults (100 predictions; rollback when protected, else promote), and
        # keep the inputs of deployments planned before these settings existed unchanged.
        if self.min_requests is not None:
            gate["min_requests"] = self.min_requests
        if self.insufficient_data is not None:
            gate["insufficient_data"] = self.insufficient_data
        return gate

    def resolved_steps(self) -> list[dict[str, int]]:
        """The declared steps, or all traffic to the single deployment."""
        if self.traffic_steps or len(self.deployments) != 1:
            return self.traffic_steps
        return [{self.deployments[0].key: 100}]


def _check_approval(args: EndpointArgs, platform: PlatformContext) -> None:
    """Protected environments deploy only versions carrying the approved alias, and keep data capture on."""
    if not platform.protected:
        return
    for index, deployment in enumerate(args.deployments):
        if deployment.alias != args.approved_alias:
            field = "version" if deployment.version else "alias"
            raise field_error(
                "EndpointArgs",
                ("deployments", index, field),
                f"{platform.environment} deploys only model versions with the approved alias "
                f"'{args.approved_alias}', got {field} {deployment.alias or deployment.version!r}",
                deployment.alias or deployment.version,
            )


def derived_endpoint_id(physical_name: str) -> str:
    """A stable 10-digit endpoint id (Vertex endpoint ids are numeric) from the endpoint's name."""
    return str(10**9 + int(hashlib.sha256(physical_name.encode()).hexdigest(), 16) % (9 * 10**9))


class Endpoint(PlatformComponent[EndpointArgs]):
    """AiEndpoint (CMEK, PSC or VPC), BigQuery request logging, model deployments and alert policies."""

    TYPE_TOKEN = "mlops-infra:gcp:Endpoint"
    ARGS = EndpointArgs

    def __init__(
        self, name: str, args: EndpointArgs | dict[str, Any] | None = None, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        checked = validate_args(EndpointArgs, args)
        _check_approval(checked, current_platform())
        super().__init__(name, checked, opts)
        a = self.args
        invoke = pulumi.InvokeOutputOptions(parent=self)
        project = project_id(invoke)
        vertex_agent = service_agent_member(ServiceAgent.AIPLATFORM, project_number(invoke))
        physical = self.platform.name(name, naming.GCP_RESOURCE)
        self.endpoint_id = a.endpoint_id or derived_endpoint_id(physical)
        vertex_key = key_for(a.kms_key_name, a.region, ServiceAgent.AIPLATFORM, requester=self)

        depends: list[pulumi.Resource] = list(vertex_key.depends_on)
        logging = None
        self.logging_dataset: gcp.bigquery.Dataset | None = None
        # Where Vertex writes the logged requests, ``project.dataset.table`` (what a drift check reads).
        self.logging_table: pulumi.Output[str] | None = None
        if a.request_logging.enabled:
            self.logging_dataset = cmek_dataset(
                self.child_name("logs"),
                dataset_id=self.platform.name(f"{name}_logs", naming.BIGQUERY_ID),
                region=a.region,
                key=key_for(a.kms_key_name, a.region, ServiceAgent.BIGQUERY, requester=self),
                description=f"Request-response logs of the {name} endpoint",
                table_expiration_days=a.request_logging.table_expiration_days,
                opts=self.child_opts(),
            )
            # Vertex AI creates the log table and streams rows as its service agent.
            writer = gcp.bigquery.DatasetIamMember(
                self.child_name("logs-vertex-writer"),
                dataset_id=self.logging_dataset.dataset_id,
                role="roles/bigquery.dataEditor",
                member=vertex_agent,
                opts=self.child_opts(),
            )
            depends.append(writer)
            self.logging_table = concat(project, ".", self.logging_dataset.dataset_id, ".", a.request_logging.table)
            logging = gcp.vertex.AiEndpointPredictRequestResponseLoggingConfigArgs(
                enabled=True,
                # Vertex samples a 0-1 fraction of requests.
                sampling_rate=a.request_logging.sampling_percent / 100,
                bigquery_destination=gcp.vertex.AiEndpointPredictRequestResponseLoggingConfigBigqueryDestinationArgs(
                    output_uri=concat("bq://", self.logging_table)
                ),
            )
        psc = None
        if not a.allow_public_endpoint and a.network is None:
            psc = gcp.vertex.AiEndpointPrivateServiceConnectConfigArgs(
                enable_private_service_connect=True,
                project_allowlists=a.psc_project_allowlist or project.apply(lambda p: [p]),
            )
        self.endpoint = gcp.vertex.AiEndpoint(
            self.child_name("endpoint"),
            name=self.endpoint_id,
            display_name=a.display_name or physical,
            description=f"{name} online predictions ({self.platform.environment})",
            location=a.region,
            region=a.region,
            encryption_spec=gcp.vertex.AiEndpointEncryptionSpecArgs(kms_key_name=vertex_key.name),
            network=a.network,
            private_service_connect_config=psc,
            labels=public_exposure_labels(a.allow_public_endpoint) or None,
            predict_request_response_logging_config=logging,
            # The deployment resource owns the traffic split.
            opts=self.child_opts(depends_on=depends, ignore_changes=["trafficSplit"]),
        )
        self.resource_name: pulumi.Output[str] = concat(
            "projects/", project, f"/locations/{a.region}/endpoints/{self.endpoint_id}"
        )
        self.deployment: VertexModelDeployment | None = None
        self._declared: list[dict[str, Any]] = []
        if a.deployments:
            self.deployment = self._deploy(project)
        self.alert_policies = endpoint_alert_policies(
            self.child_name("alert"),
            display_name=a.display_name or physical,
            endpoint_id=self.endpoint_id,
            spec=a.alerts,
            labels=self.platform.gcp_labels,
            opts=self.child_opts(),
        )
        self.register_outputs(
            {
                "endpoint": self.resource_name,
                "endpointId": self.endpoint_id,
                "loggingDataset": self.logging_dataset.dataset_id if self.logging_dataset else None,
            }
        )

    def _deploy(self, project: pulumi.Output[str]) -> VertexModelDeployment:
        a = self.args
        deployments = [
            {
                "key": d.key,
                "model": d.model,
                "alias": d.alias,
                "version": d.version,
                "revision": d.revision,
                "machine_type": d.machine_type,
                "accelerator_type": d.accelerator_type,
                "accelerator_count": d.accelerator_count,
                "min_replica_count": d.min_replicas,
                "max_replica_count": d.max_replicas,
                "autoscaling_metric_specs": [{"metric_name": s.metric_name, "target": s.target} for s in d.autoscaling],
                "service_account": d.service_account,
            }
            for d in a.deployments
        ]
        self._declared = deployments
        protected = self.platform.protected
        wait = a.step_wait_seconds if a.step_wait_seconds is not None else (300 if protected else 0)
        canary = a.canary_percentages or ([10, 50, 100] if protected else [100])
        return VertexModelDeployment(
            self.child_name("deployment"),
            project=project,
            region=a.region,
            api_endpoint=a.api_endpoint or vertex_api_endpoint(a.region),
            endpoint=self.resource_name,
            deployments=deployments,
            traffic_steps=a.resolved_steps(),
            required_alias=a.approved_alias if protected else None,
            step_wait_seconds=wait,
            canary_percentages=canary,
            rollback_metrics=a.rollback_gate(),
            opts=self.child_opts(depends_on=[self.endpoint]),
        )

    def restore_plan(self) -> pulumi.Output[list[dict[str, Any]]] | None:
        """What off-hours redeploys each morning, per key: its share of traffic and its REST ``DeployedModel``.

        The version is the one the deployment resolved (``resolved_models``), not whatever holds the alias
        in the morning: off-hours restores what the last ``pulumi up`` deployed. The share is the last
        traffic step's. None without deployments.
        """
        if self.deployment is None:
            return None
        final = self.args.resolved_steps()[-1]

        def plan(values: list[Any]) -> list[dict[str, Any]]:
            resolved, declared = dict(values[0] or {}), values[1]
            return [
                {
                    "key": d["key"],
                    "share": int(final.get(d["key"], 0)),
                    # Before the first deployment resolves (a preview) the declared reference stands in.
                    "deployedModel": deployed_model_body(
                        d, str(resolved.get(d["key"]) or f"{d['model']}@{d.get('version') or d.get('alias')}")
                    ),
                }
                for d in declared
            ]

        return pulumi.Output.all(self.deployment.resolved_models, pulumi.Output.from_input(self._declared)).apply(plan)
