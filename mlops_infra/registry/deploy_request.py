"""What a deploy webhook receives when a model version is approved: one request on every cloud.

``registry.approval.deploy_webhook`` means the same thing on AWS (EventBridge API destination),
GCP (Eventarc -> Cloud Workflows) and Kubernetes (a CronJob that polls the MLflow alias): a POST
to ``url`` with ``Authorization: <scheme> <token>`` and the body of :func:`request_body`:

- ``repository_dispatch``: ``{"event_type": "model-approved", "client_payload": {...}}`` whose
  payload names the ``cloud``, the Pulumi ``stack``, the ``registry`` (SageMaker model package
  group, Vertex model resource name, MLflow registered model), the registry's ``version`` id and
  the ``reference`` the endpoint deploys (package version ARN, ``MODEL@VERSION``, storage URI);
- ``pulumi_deployments``: ``{"operation": "update"}`` (the stack's deployment settings are inherited).

Each cloud fills the payload values from its event: placeholders (AWS input transformer),
workflow expressions (GCP) or the poller's own answer (Kubernetes).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from mlops_infra.spec.approval import DeployTrigger

EVENT_TYPE = "model-approved"
"""The repository dispatch ``event_type`` a CI workflow listens to (``on: repository_dispatch: types: [...]``)."""
AUTHORIZATION_SCHEMES = {DeployTrigger.REPOSITORY_DISPATCH: "Bearer", DeployTrigger.PULUMI_DEPLOYMENTS: "token"}
"""The ``Authorization`` scheme each kind of webhook expects before the token."""
RETRY_SECONDS = 3600
"""How long a cloud keeps retrying a failed call (seconds)."""
RETRY_ATTEMPTS = 10
"""How many times a failed call is retried."""


@dataclass(frozen=True)
class ApprovedEvent:
    """The payload values of one approval, or the cloud's expressions that yield them."""

    cloud: str
    stack: str
    registry: str
    version: str
    reference: str


def request_body(kind: DeployTrigger, event: ApprovedEvent) -> dict[str, Any]:
    """The JSON body POSTed to the webhook (see the module docstring)."""
    if kind is DeployTrigger.PULUMI_DEPLOYMENTS:
        return {"operation": "update"}
    return {"event_type": EVENT_TYPE, "client_payload": asdict(event)}


def authorization_scheme(kind: DeployTrigger) -> str:
    """``Bearer`` (repository dispatch) or ``token`` (Pulumi Deployments)."""
    return AUTHORIZATION_SCHEMES[kind]
