"""An approval starts the deployment: the registry's "approved" EventBridge rule calls a CI webhook.

``registry.approval.deploy_webhook`` names an HTTPS endpoint: a repository dispatch of the CI that
runs ``pulumi up`` (``kind: repository_dispatch``), or the stack's Pulumi Deployments API
(``kind: pulumi_deployments``). When a package of the platform's group becomes Approved
("SageMaker Model Package State Change", ``ModelApprovalStatus: Approved``), EventBridge calls it:

- an ``EventConnection`` holds the token (the secret stack config ``token_secret``), encrypted with
  the platform key (the connection's Secrets Manager secret);
- an ``EventApiDestination`` (POST, at most one call per second) is the endpoint;
- an ``EventTarget`` on the registry's approval rule shapes the body from the event (the shared
  request of :mod:`mlops_infra.registry.deploy_request`: the group as ``registry``, the package
  version ARN as ``reference``, its ``version``) and retries for an hour;
- EventBridge assumes a role (trusting events.amazonaws.com from this account only) whose one
  permission is ``events:InvokeApiDestination`` on that destination.

With ``serve: latest_approved`` the run the webhook starts resolves the newest Approved package.
The token's config key is checked (set, and a secret) before any resource registers.
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
from mlops_infra.outputs import concat
from mlops_infra.registry import deploy_request
from mlops_infra.registry.deploy_request import ApprovedEvent
from mlops_infra.registry.deploy_token import check_deploy_token
from mlops_infra.spec.approval import DeployTrigger, DeployWebhook

_EVENT_FIELDS = {
    "arn": "$.detail.ModelPackageArn",
    "group": "$.detail.ModelPackageGroupName",
    "version": "$.detail.ModelPackageVersion",
}


def request_body(kind: DeployTrigger, stack: str) -> str:
    """The input template EventBridge fills from the approval event (``<arn>``, ``<group>``, ``<version>``)."""
    # EventBridge substitutes quoted placeholders as JSON strings.
    event = ApprovedEvent(cloud="aws", stack=stack, registry="<group>", version="<version>", reference="<arn>")
    return json.dumps(deploy_request.request_body(kind, event))


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
    check_deploy_token(webhook)
    token = pulumi.Config().require_secret(webhook.token_secret)
    authorization = concat(deploy_request.authorization_scheme(webhook.kind), " ", token)
    connection = aws.cloudwatch.EventConnection(
        f"{name}-connection",
        name=platform.name(f"{name}-connection", naming.EVENTBRIDGE_RULE),
        description="The deploy webhook's token (stack secret config)",
        authorization_type="API_KEY",
        auth_parameters={"api_key": {"key": "Authorization", "value": authorization}},
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
        retry_policy={
            "maximum_event_age_in_seconds": deploy_request.RETRY_SECONDS,
            "maximum_retry_attempts": deploy_request.RETRY_ATTEMPTS,
        },
        opts=opts,
    )
    return {"connection": connection, "destination": destination, "role": role, "target": target}
