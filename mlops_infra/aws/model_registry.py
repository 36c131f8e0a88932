"""SageMaker model registry: a model package group, approval events and a deploy hook.

Approving a model package (``ModelApprovalStatus`` -> ``Approved``) emits a "SageMaker Model
Package State Change" event; an EventBridge rule forwards exactly those events for this
group to a KMS-encrypted SNS topic and, optionally, to a deploy hook (Lambda, Step Functions
or CodePipeline). Other accounts may be granted read access to deploy approved packages.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any, Literal
from urllib.parse import urlsplit

import pulumi
import pulumi_aws as aws
from pydantic import Field, ValidationInfo, field_validator

from mlops_infra.aws.account import account_id, arn
from mlops_infra.aws.arns import KmsKeyOrAliasArn, check_service_arn
from mlops_infra.aws.global_names import global_name
from mlops_infra.aws.iam import assume_role_policy, policy_document, statement
from mlops_infra.aws.platform_key import key_arn_or_shared
from mlops_infra.component import PlatformComponent
from mlops_infra.config.base import validate_args
from mlops_infra.conventions import naming
from mlops_infra.conventions.context import current_platform
from mlops_infra.spec.approval import ApprovalMode
from mlops_infra.spec.base import Spec as ComponentArgs
from mlops_infra.spec.base import StrInput, Switch, field_error
from mlops_infra.spec.types import Email

EVENTS_PRINCIPAL = "events.amazonaws.com"
APPROVAL_DETAIL_TYPE = "SageMaker Model Package State Change"
PENDING_MANUAL_APPROVAL = "PendingManualApproval"
APPROVED = "Approved"

# Read-only actions a consumer account needs to find and deploy an approved package.
GROUP_READ_ACTIONS = ["sagemaker:DescribeModelPackageGroup", "sagemaker:ListModelPackages"]
PACKAGE_READ_ACTIONS = ["sagemaker:DescribeModelPackage", "sagemaker:ListModelPackages"]

_ACCOUNT_ID = re.compile(r"[0-9]{12}")
# The service and resource type of each hook's ARN (checked by the spec's one ARN validator).
_HOOK_ARNS: dict[str, tuple[str, str]] = {
    "lambda": ("lambda", "function:"),
    "step_functions": ("states", "stateMachine:"),
    "codepipeline": ("codepipeline", ""),
}
# The one action EventBridge needs to start each role-based hook.
_HOOK_START_ACTION = {
    "step_functions": "states:StartExecution",
    "codepipeline": "codepipeline:StartPipelineExecution",
}


class DeployHook(ComponentArgs):
    """What starts a deployment when a package is approved (receives the full event)."""

    kind: Literal["lambda", "step_functions", "codepipeline"]
    arn: StrInput = Field(description="Lambda function, state machine or pipeline ARN (checked when known now).")

    @field_validator("arn")
    @classmethod
    def _arn_matches_kind(cls, value: StrInput, info: ValidationInfo) -> StrInput:
        kind = info.data.get("kind")
        if isinstance(value, str) and kind in _HOOK_ARNS:
            try:
                check_service_arn(value, *_HOOK_ARNS[kind])
            except ValueError as exc:
                raise ValueError(f"{value!r} is not a {kind} ARN: {exc}") from None
        return value


class ModelRegistryArgs(ComponentArgs):
    """Settings of a model registry; every default is the secure choice."""

    group_name: str | None = Field(
        None,
        min_length=1,
        max_length=40,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9-]*$",
        description="Short name inside the physical name {project}-{env}-{group_name}; default: the logical name.",
    )
    description: str | None = Field(None, min_length=1, max_length=1024)
    kms_key_arn: KmsKeyOrAliasArn | None = Field(
        None, description="Key for the approvals topic; default: the platform key."
    )
    consumer_account_ids: list[str] = Field(
        default_factory=list, max_length=100, description="Accounts that may read and deploy approved packages."
    )
    approval_mode: ApprovalMode | None = Field(
        None, description="manual: packages wait for a person; default manual in protected environments, else auto."
    )
    allow_auto_approval_in_protected_env: Switch = False
    deploy_hook: DeployHook | None = None
    notification_emails: list[Email] = Field(default_factory=list, max_length=20)
    notification_https_endpoints: list[str] = Field(default_factory=list, max_length=20)

    @field_validator("consumer_account_ids")
    @classmethod
    def _account_ids(cls, values: list[str]) -> list[str]:
        for value in values:
            if not _ACCOUNT_ID.fullmatch(value):
                raise ValueError(f"{value!r} is not a 12-digit AWS account id")
        return sorted(set(values))

    @field_validator("notification_emails")
    @classmethod
    def _emails(cls, values: list[str]) -> list[str]:
        return sorted(set(values))

    @field_validator("notification_https_endpoints")
    @classmethod
    def _https_only(cls, values: list[str]) -> list[str]:
        for value in values:
            parts = urlsplit(value)
            if parts.scheme != "https" or not parts.hostname or parts.username or parts.password:
                raise ValueError(f"{value!r} must be an https:// URL without credentials (plain http is not allowed)")
        return sorted(set(values))


def resolve_approval_mode(args: ModelRegistryArgs, protected: bool, environment: str) -> str:
    """``manual`` or ``automatic``; automatic in a protected environment needs the explicit opt-in field."""
    mode = args.approval_mode or (ApprovalMode.MANUAL if protected else ApprovalMode.AUTOMATIC)
    if mode is ApprovalMode.AUTOMATIC and protected and not args.allow_auto_approval_in_protected_env:
        message = (
            f"automatic approval in the protected environment {environment!r} needs "
            "allow_auto_approval_in_protected_env=True (default there is manual)"
        )
        raise field_error(ModelRegistryArgs, ("approval_mode",), message, mode.value)
    return mode.value


def _short_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:8]


class ModelRegistry(PlatformComponent[ModelRegistryArgs]):
    """A model package group whose approvals notify a topic and can start a deployment.

    ``initial_approval_status`` is what a training pipeline registers new packages with:
    ``PendingManualApproval`` when a person must approve, else ``Approved``.
    """

    TYPE_TOKEN = "mlops-infra:aws:ModelRegistry"
    ARGS = ModelRegistryArgs

    def __init__(
        self,
        name: str,
        args: ModelRegistryArgs | dict[str, Any] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        # Decided before anything is registered, so a refused opt-out leaves no partial stack.
        validated = validate_args(ModelRegistryArgs, args)
        context = current_platform()
        self.approval_mode: str = resolve_approval_mode(validated, context.protected, context.environment)
        self.requires_manual_approval: bool = self.approval_mode == "manual"
        self.initial_approval_status: str = PENDING_MANUAL_APPROVAL if self.requires_manual_approval else APPROVED
        super().__init__(name, validated, opts)

        short = self.args.group_name or name
        self.physical_group_name: str = self.platform.name(short, naming.SAGEMAKER)
        self._invoke_opts = pulumi.InvokeOutputOptions(parent=self)
        self._account = account_id(self._invoke_opts)

        self.group = aws.sagemaker.ModelPackageGroup(
            self.child_name("group"),
            model_package_group_name=self.physical_group_name,
            model_package_group_description=self.args.description
            or f"Model versions of {self.platform.settings.project} ({self.platform.environment})",
            opts=self.child_opts(),
        )
        self.group_policy = self._cross_account_policy()

        self.rule = aws.cloudwatch.EventRule(
            self.child_name("approved"),
            name=self.platform.name(f"{short}-approved", naming.EVENTBRIDGE_RULE),
            description=f"Approved model packages of {self.physical_group_name}",
            event_pattern=self.event_pattern(),
            state="ENABLED",
            opts=self.child_opts(depends_on=[self.group]),
        )
        self.topic = aws.sns.Topic(
            self.child_name("approvals"),
            name=self.platform.name(f"{short}-approvals", naming.SNS_TOPIC),
            kms_master_key_id=key_arn_or_shared(self.args.kms_key_arn, requester=self),
            signature_version=2,
            opts=self.child_opts(),
        )
        self.topic_policy = aws.sns.TopicPolicy(
            self.child_name("approvals-policy"),
            arn=self.topic.arn,
            policy=self._topic_policy(),
            opts=self.child_opts(),
        )
        self.topic_target = aws.cloudwatch.EventTarget(
            self.child_name("approvals-target"),
            rule=self.rule.name,
            target_id="approvals-topic",
            arn=self.topic.arn,
            opts=self.child_opts(depends_on=[self.topic_policy]),
        )
        self.subscriptions = self._subscriptions()
        self.hook_role: aws.iam.Role | None = None
        self.hook_target = self._deploy_hook(short)

        self.group_name: pulumi.Output[str] = self.group.model_package_group_name
        self.group_arn: pulumi.Output[str] = self.group.arn
        self.topic_arn: pulumi.Output[str] = self.topic.arn
        self.rule_arn: pulumi.Output[str] = self.rule.arn
        self.register_outputs(
            {
                "groupName": self.group_name,
                "groupArn": self.group_arn,
                "topicArn": self.topic_arn,
                "ruleArn": self.rule_arn,
                "approvalMode": self.approval_mode,
                "initialApprovalStatus": self.initial_approval_status,
            }
        )

    def event_pattern(self) -> str:
        """EventBridge pattern (JSON) matching approvals of this group's packages only."""
        return json.dumps(
            {
                "source": ["aws.sagemaker"],
                "detail-type": [APPROVAL_DETAIL_TYPE],
                "detail": {
                    "ModelPackageGroupName": [self.physical_group_name],
                    "ModelApprovalStatus": [APPROVED],
                },
            },
            sort_keys=True,
        )

    def _sagemaker_arn(self, resource: str) -> pulumi.Output[str]:
        return arn("sagemaker", resource, self._invoke_opts)

    def _cross_account_policy(self) -> aws.sagemaker.ModelPackageGroupPolicy | None:
        accounts = self.args.consumer_account_ids
        if not accounts:
            return None
        principals = [arn("iam", "root", self._invoke_opts, region="", account=account) for account in accounts]
        # SageMaker lowercases names inside ARNs; list both spellings when they differ.
        spellings = sorted({self.physical_group_name, self.physical_group_name.lower()})
        group_arns: list[pulumi.Input[str]] = [self._sagemaker_arn(f"model-package-group/{n}") for n in spellings]
        package_arns: list[pulumi.Input[str]] = [self._sagemaker_arn(f"model-package/{n}/*") for n in spellings]
        statements = [
            {**statement(GROUP_READ_ACTIONS, group_arns, sid="ConsumersReadGroup"), "Principal": {"AWS": principals}},
            {
                **statement(PACKAGE_READ_ACTIONS, package_arns, sid="ConsumersReadPackages"),
                "Principal": {"AWS": principals},
            },
        ]
        return aws.sagemaker.ModelPackageGroupPolicy(
            self.child_name("group-policy"),
            model_package_group_name=self.group.model_package_group_name,
            resource_policy=policy_document(statements),
            opts=self.child_opts(),
        )

    def _topic_policy(self) -> pulumi.Output[str]:
        publish_from_rule = statement(
            ["sns:Publish"],
            [self.topic.arn],
            sid="ApprovalRulePublishes",
            conditions={"ArnEquals": {"aws:SourceArn": self.rule.arn}},
        )
        deny_plaintext = statement(
            ["sns:Publish"],
            [self.topic.arn],
            sid="DenyPublishWithoutTls",
            effect="Deny",
            conditions={"Bool": {"aws:SecureTransport": "false"}},
        )
        return policy_document(
            [{**publish_from_rule, "Principal": {"Service": EVENTS_PRINCIPAL}}, {**deny_plaintext, "Principal": "*"}]
        )

    def _subscriptions(self) -> list[aws.sns.TopicSubscription]:
        """One subscription per endpoint; named by a hash of the endpoint so reordering replaces nothing."""
        endpoints = [("email", e) for e in self.args.notification_emails]
        endpoints += [("https", u) for u in self.args.notification_https_endpoints]
        return [
            aws.sns.TopicSubscription(
                self.child_name(f"{protocol}-{_short_hash(endpoint)}"),
                topic=self.topic.arn,
                protocol=protocol,
                endpoint=endpoint,
                opts=self.child_opts(),
            )
            for protocol, endpoint in endpoints
        ]

    def _deploy_hook(self, short: str) -> aws.cloudwatch.EventTarget | None:
        hook = self.args.deploy_hook
        if hook is None:
            return None
        if hook.kind == "lambda":
            permission = aws.lambda_.Permission(
                self.child_name("hook-invoke"),
                action="lambda:InvokeFunction",
                function=hook.arn,
                principal=EVENTS_PRINCIPAL,
                source_arn=self.rule.arn,
                statement_id=self.platform.name(f"{short}-approved", naming.EVENTBRIDGE_RULE),
                opts=self.child_opts(),
            )
            return aws.cloudwatch.EventTarget(
                self.child_name("hook-target"),
                rule=self.rule.name,
                target_id="deploy-hook",
                arn=hook.arn,
                opts=self.child_opts(depends_on=[permission]),
            )
        self.hook_role = aws.iam.Role(
            self.child_name("hook-role"),
            name=global_name(self, f"{short}-deploy-hook", naming.IAM_ROLE),
            description="EventBridge starts the deployment of approved model packages",
            assume_role_policy=assume_role_policy(EVENTS_PRINCIPAL, self._account),
            opts=self.child_opts(),
        )
        role_policy = aws.iam.RolePolicy(
            self.child_name("hook-role-policy"),
            role=self.hook_role.id,
            policy=policy_document([statement([_HOOK_START_ACTION[hook.kind]], [hook.arn], sid="StartDeployment")]),
            opts=self.child_opts(),
        )
        return aws.cloudwatch.EventTarget(
            self.child_name("hook-target"),
            rule=self.rule.name,
            target_id="deploy-hook",
            arn=hook.arn,
            role_arn=self.hook_role.arn,
            opts=self.child_opts(depends_on=[role_policy]),
        )
