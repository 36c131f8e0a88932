"""An approval starts the deployment: the registry's "approved" EventBridge rule calls a CI webhook.

``registry.approval.deploy_webhook`` names an HTTPS endpoint: a repository dispatch of the CI that
runs ``pulumi up`` (``kind: repository_dispatch``), or the stack's Pulumi Deployments API
(``kind: pulumi_deployments``). When a package of the platform's group becomes Approved
("SageMaker Model Package State Change", ``ModelApprovalStatus: Approved``), EventBridge calls it:

- an ``EventConnection`` holds the token (the secret stack config ``token_secret``), encrypted with
  the platform key (the connection's Secrets Manager secret);
- an ``EventApiDestination`` (POST, at most one call per second) is the endpoint;
- an ``EventTarget`` on the registry's approval rule shapes the body from the event (the package
  ARN, group and version) and retries for an hour;
- EventBridge assumes a role (trusting events.amazonaws.com from this account only) whose one
  permission is ``events:InvokeApiDestination`` on that destination.

With ``serve: latest_approved`` the run the webhook starts resolves the newest Approved package.
"""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pulumi_aws as aws

from mlops_infra.aws.account import account_id
from mlops_infra.aws.iam import assume_role_policy, policy_document, statement
from mlops_infra.conventions import naming
from mlops_infra.conventions.context import PlatformContext
from mlops_infra.spec.approval import DeployTrigger, DeployWebhook

EVENT_TYPE = "model-approved"
RETRY_SECONDS = 3600
RETRY_ATTEMPTS = 10
_SCHEMES = {DeployTrigger.REPOSITORY_DISPATCH: "Bearer", DeployTrigger.PULUMI_DEPLOYMENTS: "token"}
_EVENT_FIELDS = {
    "arn": "$.detail.ModelPackageArn",
    "group": "$.detail.ModelPackageGroupName",
    "version": "$.detail.ModelPackageVersion",
}


def request_body(kind: DeployTrigger, stack: str) -> str:
    """The input template EventBridge fills from the approval event (``<arn>``, ``<group>``, ``<version>``)."""
    if kind is DeployTrigger.PULUMI_DEPLOYMENTS:
        return json.dumps({"operation": "update"})
    payload = {"model_package_arn": "<arn>", "model_package_group": "<group>", "version": "<version>", "stack": stack}
    # EventBridge substitutes quoted placeholders as JSON strings.
    return json.dumps({"event_type": EVENT_TYPE, "client_payload": payload})


def deploy_on_approval(
    name: str,
    *,
    webhook: DeployWebhook,
    rule_name: pulumi.Input[str],
    kms_key_arn: pulumi.Input[str],
    platform: PlatformContext,
    opts: pulumi.ResourceOptions,
) -> dict[str, Any]:
    """Connection, API destination, role and target of ``rule_name`` (the registry's approval rule)."""
    token = pulumi.Config().require_secret(webhook.token_secret)
    connection = aws.cloudwatch.EventConnection(
        f"{name}-connection",
        name=platform.name(f"{name}-connection", naming.EVENTBRIDGE_RULE),
        description="The deploy webhook's token (stack secret config)",
        authorization_type="API_KEY",
        auth_parameters={
            "api_key": {"key": "Authorization", "value": pulumi.Output.concat(_SCHEMES[webhook.kind], " ", token)}
        },
        kms_key_identifier=kms_key_arn,
        opts=opts,
    )
    destination = aws.cloudwatch.EventApiDestination(
        f"{name}-destination",
        name=platform.name(f"{name}-destination", naming.EVENTBRIDGE_RULE),
        description=f"Starts a deployment when a model version is approved ({webhook.kind.value})",
        connection_arn=connection.arn,
        invocation_endpoint=webhook.url,
        http_method="POST",
        invocation_rate_limit_per_second=1,
        opts=opts,
    )
    role = aws.iam.Role(
        f"{name}-role",
        name=platform.name(f"{name}-role", naming.IAM_ROLE),
        description="EventBridge calls the deploy webhook (one API destination, nothing else)",
        assume_role_policy=assume_role_policy(
            "events.amazonaws.com", account_id(pulumi.InvokeOutputOptions(parent=opts.parent))
        ),
        opts=opts,
    )
    aws.iam.RolePolicy(
        f"{name}-invoke",
        role=role.id,
        policy=policy_document([statement(["events:InvokeApiDestination"], [destination.arn], sid="InvokeWebhook")]),
        opts=opts,
    )
    target = aws.cloudwatch.EventTarget(
        f"{name}-target",
        rule=rule_name,
        arn=destination.arn,
        role_arn=role.arn,
        input_transformer={
            "input_paths": _EVENT_FIELDS,
            "input_template": request_body(webhook.kind, pulumi.get_stack()),
        },
        retry_policy={"maximum_event_age_in_seconds": RETRY_SECONDS, "maximum_retry_attempts": RETRY_ATTEMPTS},
        opts=opts,
    )
    return {"connection": connection, "destination": destination, "role": role, "target": target}
