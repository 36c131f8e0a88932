"""An approval starts the deployment on Kubernetes: a CronJob polls the MLflow alias and calls the deploy webhook.

On Kubernetes an approval is setting the MLflow alias (``champion``) on a version. The registry runs
MLflow 2.x, which has no model-registry webhooks, so a CronJob runs a standard-library poller
(:mod:`mlops_infra.k8s.deploy_webhook_poller`) every ``schedule``: when the alias names a version
whose storage URI an InferenceService of the platform does not serve, and that version was not
notified yet, it POSTs the shared request (:mod:`mlops_infra.registry.deploy_request`) to
``registry.approval.deploy_webhook.url``. The run the webhook starts resolves the alias again
(``serve: latest_approved``) and deploys it.

Least privilege: the token is a Secret read through ``secretKeyRef``; the poller's Role may ``get``
the platform's InferenceServices and ``get``/``patch`` its own state ConfigMap, nothing else; its
API token is projected and expires; egress goes to DNS, the API server, MLflow's tracking port (the
registry lets the ``deploy-webhook`` component in) and HTTPS on the webhook's port.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pulumi
import pulumi_kubernetes as k8s
from pydantic import Field

from mlops_infra.component import PlatformComponent
from mlops_infra.k8s import in_cluster_controller as controller
from mlops_infra.k8s import labels as lbl
from mlops_infra.k8s import network, objects
from mlops_infra.k8s.model_registry import MLFLOW_PORT
from mlops_infra.k8s.secrets import opaque_secret
from mlops_infra.k8s.workload import ComputeResources, Container, SecretEnv, pod_spec, pod_template
from mlops_infra.outputs import combined
from mlops_infra.registry import deploy_request
from mlops_infra.registry.deploy_request import ApprovedEvent
from mlops_infra.registry.deploy_token import check_deploy_token
from mlops_infra.spec.approval import DeployWebhook
from mlops_infra.spec.base import Spec, StrInput
from mlops_infra.spec.schedule import Schedule
from mlops_infra.spec.types import PinnedImage

COMPONENT = "deploy-webhook"
"""The pods' component label; the model registry admits it to MLflow's tracking port."""
KSERVE_GROUP = "serving.kserve.io"
DEFAULT_IMAGE = "python:3.12.8-slim"
SCRIPT_KEY = "poller.py"
SCRIPT_DIR = "/opt/deploy-webhook"
TOKEN_KEY = "token"


def poller_source() -> str:
    """The poller script, exactly as the ConfigMap ships it."""
    return Path(__file__).with_name("deploy_webhook_poller.py").read_text(encoding="utf-8")


class DeployWebhookPollerArgs(Spec):
    """Which MLflow alias is watched, which InferenceServices serve it, which webhook is called."""

    namespace: StrInput
    webhook: DeployWebhook
    mlflow_url: StrInput = Field(description="In-cluster MLflow tracking URL (the registry's tracking_uri).")
    model_name: str = Field(min_length=1, max_length=256, description="MLflow registered model name.")
    alias: str = Field(pattern=r"^[a-z][a-z0-9-]{0,62}$", description="The alias that means approved.")
    inference_services: list[StrInput] = Field(
        default_factory=list, description="InferenceServices serving the model (empty: none deployed yet)."
    )
    schedule: Schedule = Field(
        default_factory=lambda: Schedule(cron="*/5 * * * *"), description="How often the alias is read."
    )
    image: PinnedImage = Field(DEFAULT_IMAGE, description="Python 3 image, pinned (standard library only).")
    resources: ComputeResources = Field(
        default_factory=lambda: ComputeResources(
            cpu_request="10m", cpu_limit="100m", memory_request="64Mi", memory_limit="128Mi"
        )
    )
    api_server_cidrs: list[str] = Field(
        default_factory=lambda: ["0.0.0.0/0"], min_length=1, description="Where the API server listens (443/6443)."
    )
    webhook_cidrs: list[str] = Field(
        default_factory=lambda: ["0.0.0.0/0"], min_length=1, description="Where the webhook's host resolves."
    )

    @property
    def webhook_port(self) -> int:
        return urlsplit(self.webhook.url).port or 443


class DeployWebhookPoller(PlatformComponent[DeployWebhookPollerArgs]):
    """A CronJob that calls the deploy webhook when the MLflow approved alias moves to a version not served."""

    TYPE_TOKEN = "mlops-infra:k8s:DeployWebhookPoller"
    ARGS = DeployWebhookPollerArgs

    def __init__(
        self,
        name: str,
        args: DeployWebhookPollerArgs | dict[str, Any] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(name, args, opts)
        a = self.args
        check_deploy_token(a.webhook)  # before any child registers
        token = pulumi.Config().require_secret(a.webhook.token_secret)
        ns = a.namespace
        self.base: str = self.platform.name(name, controller.BASE_NAME)
        self.state_name = f"{self.base}-state"
        self.secret_name = f"{self.base}-token"
        part_of = self.platform.settings.project
        self.labels: dict[str, str] = lbl.standard_labels(COMPONENT, self.base, COMPONENT, part_of)
        self.secret = opaque_secret(self, "token", self.secret_name, ns, self.labels, {TOKEN_KEY: token})
        self.script, self.state = controller.script_and_state(
            self, self.base, ns, self.labels, script_key=SCRIPT_KEY, source=poller_source()
        )
        rules: list[dict[str, Any]] = [
            {
                "apiGroups": [""],
                "resources": ["configmaps"],
                "resourceNames": [self.state_name],
                "verbs": ["get", "patch"],
            }
        ]
        if a.inference_services:
            rules.insert(
                0,
                {
                    "apiGroups": [KSERVE_GROUP],
                    "resources": ["inferenceservices"],
                    "resourceNames": list(a.inference_services),
                    "verbs": ["get"],
                },
            )
        self.service_account, self.role, self.role_binding = controller.identity(
            self, self.base, ns, self.labels, rules
        )
        self.cron_job = self._cron_job(ns)
        self.network_policy = network.policy(
            self,
            "egress",
            f"{self.base}-egress",
            ns,
            self.labels,
            pods={"matchLabels": lbl.selector_labels(self.labels)},
            egress=[
                *controller.dns_and_api_egress(a.api_server_cidrs),
                {
                    "to": [{"podSelector": network.components(part_of, lbl.MODEL_REGISTRY)}],
                    "ports": network.ports(MLFLOW_PORT),
                },
                {
                    "to": [{"ipBlock": {"cidr": cidr}} for cidr in a.webhook_cidrs],
                    "ports": network.ports(a.webhook_port),
                },
            ],
        )
        self.register_outputs({"cronJob": self.base, "stateConfigMap": self.state_name})

    def request_template(self) -> str:
        """The shared request with ``<version>`` and ``<reference>`` for the poller to fill in."""
        a = self.args
        event = ApprovedEvent(
            cloud="k8s",
            stack=pulumi.get_stack(),
            registry=a.model_name,
            version="<version>",
            reference="<reference>",
        )
        return json.dumps(deploy_request.request_body(a.webhook.kind, event), sort_keys=True)

    def _env(self) -> dict[str, pulumi.Input[str]]:
        a = self.args
        services = combined(lambda *names: ",".join(str(n) for n in names), *a.inference_services)
        return {
            "NAMESPACE": a.namespace,
            "INFERENCE_SERVICES": services,
            "STATE_CONFIG_MAP": self.state_name,
            "MLFLOW_URL": a.mlflow_url,
            "MODEL_NAME": a.model_name,
            "ALIAS": a.alias,
            "WEBHOOK_URL": a.webhook.url,
            "AUTH_SCHEME": deploy_request.authorization_scheme(a.webhook.kind),
            "REQUEST_TEMPLATE": self.request_template(),
            "PYTHONDONTWRITEBYTECODE": "1",
        }

    def _cron_job(self, ns: StrInput) -> k8s.batch.v1.CronJob:
        a = self.args
        container = Container(
            name="poller",
            image=a.image,
            resources=a.resources,
            command=["python3", f"{SCRIPT_DIR}/{SCRIPT_KEY}"],
            env=self._env(),
            secret_env=[SecretEnv("WEBHOOK_TOKEN", self.secret_name, TOKEN_KEY)],
            mounts=[controller.script_mount(self.base, SCRIPT_DIR), controller.api_token_mount()],
        )
        spec = pod_spec(
            [container],
            service_account_name=objects.name_of(self.service_account),
            automount_token=False,
            restart_policy="Never",
        )
        return k8s.batch.v1.CronJob(
            self.child_name("cron"),
            metadata=objects.metadata(self.base, ns, self.labels, annotations=controller.API_CLIENT_ANNOTATIONS),
            spec=objects.k8s_json(
                {
                    "schedule": a.schedule.cron,
                    "timeZone": a.schedule.time_zone,
                    "concurrencyPolicy": "Forbid",
                    "startingDeadlineSeconds": 120,
                    "successfulJobsHistoryLimit": 1,
                    "failedJobsHistoryLimit": 3,
                    "jobTemplate": {
                        "metadata": {"labels": self.labels},
                        "spec": {
                            "backoffLimit": 0,  # the next scheduled run polls again
                            "activeDeadlineSeconds": 240,
                            "ttlSecondsAfterFinished": 3600,
                            "template": pod_template(self.labels, spec),
                        },
                    },
                }
            ),
            opts=self.child_opts(depends_on=[self.script, self.state, self.role_binding, self.secret]),
        )
