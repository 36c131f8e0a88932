"""The Cloud Workflow off-hours runs: ``{"action": "stop"}`` undeploys the endpoints' models, ``start`` redeploys them.

A dedicated Vertex AI endpoint keeps at least one replica per deployed model (``minReplicaCount >= 1``
in v1; scale-to-zero is a v1beta1 preview that scales down after an idle period, not on a schedule),
so "down" on GCP means *no deployed model*: nothing is billed while the endpoint holds none.

The workflow's ``init`` step holds what each endpoint serves, as the platform declared it
(:meth:`mlops_infra.gcp.endpoint.Endpoint.restore_plan`): per deployment key its share of traffic and
the REST ``DeployedModel`` the deployment resource sends (same resolved model version, display name
with the ``[mlops-infra:<key>]`` marker, machine, replicas, autoscaling, service account).

- ``stop``, per endpoint: read it; take all traffic off it (an empty split: the endpoint accepts none);
  undeploy every deployed model whose display name is one of the declared ones (others are left as
  they are, without traffic).
- ``start``, per endpoint: read it; for each declared key, keep a live copy with its display name or
  deploy the body (the Vertex connector waits for the operation); then set the declared split on the
  copies' ids. Running ``start`` twice, or without a ``stop``, deploys nothing twice.

Calls go through the Workflows Vertex AI connector (``googleapis.aiplatform.v1``), which authenticates
as the workflow's account and waits for long-running operations; a failed call fails the execution.
"""

from __future__ import annotations

from typing import Any

ACTIONS = ("stop", "start")
CONNECTOR = "googleapis.aiplatform.v1.projects.locations.endpoints"
OPERATION_TIMEOUT_SECONDS = 3600
"""Longest wait for one deploy or undeploy operation (large models take tens of minutes to deploy)."""


def _call(method: str, region: str, **args: Any) -> dict[str, Any]:
    """A Vertex connector call with the endpoint's region and the operation timeout."""
    return {
        "call": f"{CONNECTOR}.{method}",
        "args": {**args, "region": region, "connector_params": {"timeout": OPERATION_TIMEOUT_SECONDS}},
    }


def _stop(region: str) -> dict[str, Any]:
    return {
        "params": ["endpoint"],
        "steps": [
            {"read": {**_call("get", region, name="${endpoint.name}"), "result": "live"}},
            {
                "no_traffic": _call(
                    "patch", region, name="${endpoint.name}", updateMask="trafficSplit", body={"trafficSplit": {}}
                )
            },
            {
                "undeploy_each": {
                    "for": {
                        "value": "deployed",
                        "in": '${default(map.get(live, "deployedModels"), [])}',
                        "steps": [
                            {
                                "declared": {
                                    "switch": [
                                        {"condition": "${deployed.displayName in endpoint.names}", "next": "undeploy"}
                                    ],
                                    "next": "continue",
                                }
                            },
                            {
                                "undeploy": _call(
                                    "undeployModel",
                                    region,
                                    endpoint="${endpoint.name}",
                                    body={"deployedModelId": "${deployed.id}"},
                                )
                            },
                        ],
                    }
                }
            },
        ],
    }


def _start(region: str) -> dict[str, Any]:
    return {
        "params": ["endpoint"],
        "steps": [
            {"read": {**_call("get", region, name="${endpoint.name}"), "result": "live"}},
            {"init": {"assign": [{"live_models": '${default(map.get(live, "deployedModels"), [])}'}, {"split": {}}]}},
            {
                "each": {
                    "for": {
                        "value": "model",
                        "in": "${endpoint.models}",
                        "steps": [
                            {"none_yet": {"assign": [{"id": None}]}},
                            {
                                "find": {
                                    "for": {
                                        "value": "deployed",
                                        "in": "${live_models}",
                                        "steps": [
                                            {
                                                "same": {
                                                    "switch": [
                                                        {
                                                            "condition": "${deployed.displayName == "
                                                            "model.deployedModel.displayName}",
                                                            "steps": [{"keep": {"assign": [{"id": "${deployed.id}"}]}}],
                                                        }
                                                    ]
                                                }
                                            }
                                        ],
                                    }
                                }
                            },
                            {
                                "deploy_if_missing": {
                                    "switch": [
                                        {
                                            "condition": "${id == null}",
                                            "steps": [
                                                {
                                                    "deploy": {
                                                        **_call(
                                                            "deployModel",
                                                            region,
                                                            endpoint="${endpoint.name}",
                                                            body={"deployedModel": "${model.deployedModel}"},
                                                        ),
                                                        "result": "deployed_now",
                                                    }
                                                },
                                                {"new_id": {"assign": [{"id": "${deployed_now.deployedModel.id}"}]}},
                                            ],
                                        }
                                    ]
                                }
                            },
                            {
                                "route": {
                                    "switch": [
                                        {
                                            "condition": "${model.share > 0}",
                                            "steps": [{"share": {"assign": [{"split[id]": "${model.share}"}]}}],
                                        }
                                    ]
                                }
                            },
                        ],
                    }
                }
            },
            {
                "traffic": _call(
                    "patch",
                    region,
                    name="${endpoint.name}",
                    updateMask="trafficSplit",
                    body={"trafficSplit": "${split}"},
                )
            },
        ],
    }


def off_hours_workflow(*, region: str, endpoints: list[dict[str, Any]]) -> dict[str, Any]:
    """The workflow (Workflows reads JSON). ``endpoints``: ``{"name", "models": Endpoint.restore_plan()}`` each."""
    declared = [
        {
            "name": e["name"],
            "names": sorted(m["deployedModel"]["displayName"] for m in e["models"]),
            "models": e["models"],
        }
        for e in endpoints
    ]
    actions = " or ".join(f'{{"action": "{a}"}}' for a in ACTIONS)
    return {
        "main": {
            "params": ["input"],
            "steps": [
                {"init": {"assign": [{"endpoints": declared}, {"action": '${default(map.get(input, "action"), "")}'}]}},
                {
                    "choose": {
                        "switch": [{"condition": f'${{action == "{a}"}}', "next": a} for a in ACTIONS],
                        "next": "refuse",
                    }
                },
                {"refuse": {"raise": f"off-hours: the execution argument must be {actions}"}},
                *(
                    step
                    for a in ACTIONS
                    for step in (
                        {
                            a: {
                                "for": {
                                    "value": "endpoint",
                                    "in": "${endpoints}",
                                    "steps": [
                                        {f"{a}_one": {"call": f"{a}_endpoint", "args": {"endpoint": "${endpoint}"}}}
                                    ],
                                }
                            }
                        },
                        {f"{a}_done": {"return": a}},
                    )
                ),
            ],
        },
        "stop_endpoint": _stop(region),
        "start_endpoint": _start(region),
    }
