"""The Cloud Workflow an approval starts: find the version holding the approved alias, POST the deploy webhook.

Eventarc passes the Admin Activity audit-log entry of ``ModelService.MergeVersionAliases`` as the
workflow's argument (a CloudEvent; the entry is its ``data``). The workflow:

1. ignores calls on other models (``protoPayload.resourceName`` ``.../models/ID[@VERSION]``, ID one of
   the platform's models) and calls whose request does not add the approved alias (another alias
   moved, or ``-champion`` removed it); a log entry without the request is not ignored;
2. asks Vertex which version holds the alias (``GET .../models/ID@ALIAS``: the registry's answer,
   not the event's, decides);
3. reads the token from Secret Manager (``accessString``; call logging never logs all calls, so the
   value is never written to a log) and POSTs :func:`mlops_infra.registry.deploy_request.request_body`
   with ``Authorization: <scheme> <token>``, retrying 429/5xx and connection errors with backoff
   (10 s doubling to 600 s, 10 retries: about an hour).
"""

from __future__ import annotations

from typing import Any

from mlops_infra.registry import deploy_request
from mlops_infra.registry.deploy_request import ApprovedEvent
from mlops_infra.spec.approval import DeployTrigger

BACKOFF = {"initial_delay": 10, "max_delay": 600, "multiplier": 2}
"""Seconds between retries of the webhook call."""
TIMEOUT_SECONDS = 30
"""One webhook call's timeout."""


def model_url(region: str, project: str, model_expression: str, alias: str) -> str:
    """Workflow expression of ``models.get`` for ``MODEL@ALIAS`` on the regional Vertex endpoint."""
    base = f"https://{region}-aiplatform.googleapis.com/v1/projects/{project}/locations/{region}/models/"
    return f'${{"{base}" + {model_expression} + "@{alias}"}}'


def workflow_definition(
    *,
    project: str,
    region: str,
    model_ids: list[str],
    alias: str,
    secret_id: str,
    url: str,
    kind: DeployTrigger,
    stack: str,
) -> dict[str, Any]:
    """The workflow (Workflows accepts JSON): see the module docstring."""
    registry = f'${{"projects/{project}/locations/{region}/models/" + model_id}}'
    event = ApprovedEvent(
        cloud="gcp",
        stack=stack,
        registry=registry,
        version="${version}",
        reference=f'${{"projects/{project}/locations/{region}/models/" + model_id + "@" + version}}',
    )
    scheme = deploy_request.authorization_scheme(kind)
    return {
        "main": {
            "params": ["event"],
            "steps": [
                {
                    "read": {
                        "assign": [
                            {"resource": '${default(map.get(event, ["data", "protoPayload", "resourceName"]), "")}'},
                            {"added": '${map.get(event, ["data", "protoPayload", "request", "versionAliases"])}'},
                            {"watched": model_ids},
                        ]
                    }
                },
                {
                    "which_model": {
                        "switch": [
                            {
                                "condition": '${not(text.match_regex(resource, "/models/[^/@]+(@[^/]+)?$"))}',
                                "return": "ignored: not a model",
                            }
                        ],
                        "next": "model_id",
                    }
                },
                {"model_id": {"assign": [{"model_id": '${text.split(text.split(resource, "/models/")[1], "@")[0]}'}]}},
                {
                    "relevant": {
                        "switch": [
                            {"condition": "${not(model_id in watched)}", "return": "ignored: another model"},
                            {
                                "condition": f'${{added != null and not("{alias}" in added)}}',
                                "return": "ignored: the approved alias did not move",
                            },
                        ],
                        "next": "approved",
                    }
                },
                {
                    "approved": {
                        "call": "http.get",
                        "args": {"url": model_url(region, project, "model_id", alias), "auth": {"type": "OAuth2"}},
                        "result": "model",
                    }
                },
                {"version": {"assign": [{"version": "${model.body.versionId}"}]}},
                {
                    "token": {
                        "call": "googleapis.secretmanager.v1.projects.secrets.versions.accessString",
                        "args": {"secret_id": secret_id, "version": "latest", "project_id": project},
                        "result": "token",
                    }
                },
                {
                    "notify": {
                        "try": {
                            "call": "http.post",
                            "args": {
                                "url": url,
                                "headers": {
                                    "Authorization": f'${{"{scheme} " + token}}',
                                    "Accept": "application/json",
                                    "Content-Type": "application/json",
                                },
                                "body": deploy_request.request_body(kind, event),
                                "timeout": TIMEOUT_SECONDS,
                            },
                            "result": "response",
                        },
                        "retry": {
                            "predicate": "${http.default_retry_predicate}",
                            "max_retries": deploy_request.RETRY_ATTEMPTS,
                            "backoff": BACKOFF,
                        },
                    }
                },
                {"done": {"return": {"model": "${model_id}", "version": "${version}", "status": "${response.code}"}}},
            ],
        }
    }
