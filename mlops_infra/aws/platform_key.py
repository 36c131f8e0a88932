"""The platform's customer-managed KMS key, shared by every AWS component that stores data or models."""

from __future__ import annotations

import re
from typing import Annotated, Any

import pulumi
import pulumi_aws as aws
from pydantic import AfterValidator, Field

from mlops_infra.aws.account import account_id, arn, regional_service_principal
from mlops_infra.aws.iam import kms_use_actions, statement
from mlops_infra.component import PlatformComponent
from mlops_infra.conventions import naming
from mlops_infra.conventions.per_stack import per_stack_table
from mlops_infra.outputs import json_text
from mlops_infra.spec.base import Spec as ComponentArgs
from mlops_infra.spec.types import check_arn

# Administrative actions for the account's key administrators; use of the key is granted separately.
KEY_ADMIN_ACTIONS: list[str] = [
    "kms:CancelKeyDeletion",
    "kms:CreateAlias",
    "kms:DeleteAlias",
    "kms:DescribeKey",
    "kms:DisableKey",
    "kms:EnableKey",
    "kms:EnableKeyRotation",
    "kms:GetKeyPolicy",
    "kms:GetKeyRotationStatus",
    "kms:ListAliases",
    "kms:ListResourceTags",
    "kms:PutKeyPolicy",
    "kms:RotateKeyOnDemand",
    "kms:ScheduleKeyDeletion",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:UpdateAlias",
    "kms:UpdateKeyDescription",
]

# Services that encrypt on the platform's behalf (logs, topics, queues, schedules, alarms).
SERVICE_PRINCIPALS: list[str] = [
    "events.amazonaws.com",
    "scheduler.amazonaws.com",
    "sns.amazonaws.com",
    "cloudwatch.amazonaws.com",
    "sagemaker.amazonaws.com",
    "budgets.amazonaws.com",
]


CLOUDTRAIL_PRINCIPAL = "cloudtrail.amazonaws.com"


def cloudtrail_statements(account: pulumi.Input[str], invoke: pulumi.InvokeOutputOptions) -> list[dict[str, Any]]:
    """CloudTrail encrypts this account's trails' log files, and describes the key when a trail is saved.

    DescribeKey carries no encryption context, so it is a statement of its own (AWS CloudTrail User Guide,
    "Configure AWS KMS key policies for CloudTrail").
    """
    trails = arn("cloudtrail", "trail/*", invoke, region="*")
    principal = {"Principal": {"Service": CLOUDTRAIL_PRINCIPAL}}
    return [
        {
            **statement(
                ["kms:GenerateDataKey"],
                ["*"],
                sid="CloudTrailEncryptsLogs",
                conditions={
                    "StringEquals": {"aws:SourceAccount": account},
                    "StringLike": {"kms:EncryptionContext:aws:cloudtrail:arn": trails},
                },
            ),
            **principal,
        },
        {
            **statement(
                ["kms:DescribeKey"],
                ["*"],
                sid="CloudTrailDescribesKey",
                conditions={"StringEquals": {"aws:SourceAccount": account}},
            ),
            **principal,
        },
    ]


_ACCOUNT_ID = re.compile(r"^[0-9]{12}$")
_SERVICE_PRINCIPAL = re.compile(r"^[a-z0-9][a-z0-9.-]*[a-z0-9]\.amazonaws\.com(\.cn)?$")


def check_key_user(value: str) -> str:
    """An IAM role or user ARN, a 12-digit account id, or an AWS service principal (``*.amazonaws.com``).

    Anything else in a key policy is either refused by KMS at deploy time or, worse, matches nobody
    while looking like a grant.
    """
    if _ACCOUNT_ID.fullmatch(value) or _SERVICE_PRINCIPAL.fullmatch(value):
        return value
    if value.startswith("arn:"):
        check_arn(value, "iam")
        resource = value.split(":", 5)[5]
        if resource.startswith(("role/", "user/")):
            return value
        raise ValueError(f"{value!r} is not an IAM role or user ARN (arn:aws:iam::ACCOUNT:role/NAME)")
    raise ValueError(
        f"{value!r} is not a key user: use an IAM role or user ARN, a 12-digit account id, "
        "or an AWS service principal like logs.amazonaws.com"
    )


KeyUser = Annotated[str, AfterValidator(check_key_user)]


class PlatformKeyArgs(ComponentArgs):
    """Settings of the platform key."""

    description: str = Field("mlops-infra platform data and model encryption", min_length=1, max_length=8192)
    deletion_window_days: int = Field(30, ge=7, le=30, description="Days a scheduled deletion waits (7-30).")
    rotation_period_days: int = Field(365, ge=90, le=2560, description="Automatic rotation period in days.")
    extra_key_users: list[KeyUser] = Field(
        default_factory=list,
        max_length=50,
        description="Who else may use the key: IAM role/user ARNs outside the platform's naming prefix, "
        "12-digit account ids, or AWS service principals (*.amazonaws.com).",
    )


class PlatformKey(PlatformComponent[PlatformKeyArgs]):
    """A rotating customer-managed key whose use is scoped to the platform's own roles.

    The policy names roles by the platform's naming prefix (``{project}-{environment}-*``),
    so roles created later can use the key without a dependency cycle.
    """

    TYPE_TOKEN = "mlops-infra:aws:PlatformKey"
    ARGS = PlatformKeyArgs

    def __init__(
        self,
        name: str,
        args: PlatformKeyArgs | dict[str, Any] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(name, args, opts)
        invoke = pulumi.InvokeOutputOptions(parent=self)
        account = account_id(invoke)
        root = arn("iam", "root", invoke, region="")
        role_prefix = naming.physical_name(
            self.platform.settings.project, self.platform.environment, "", naming.IAM_ROLE
        )
        role_pattern = arn("iam", f"role/{role_prefix}-*", invoke, region="")
        statements: list[dict[str, Any]] = [
            {**statement(KEY_ADMIN_ACTIONS, ["*"], sid="KeyAdministration"), "Principal": {"AWS": root}},
            {
                **statement(
                    [*kms_use_actions(), "kms:CreateGrant"],
                    ["*"],
                    sid="PlatformRolesUseKey",
                    conditions={"ArnLike": {"aws:PrincipalArn": [role_pattern, *self._iam_users()]}},
                ),
                "Principal": {"AWS": root},
            },
            {
                **statement(
                    ["kms:Decrypt", "kms:GenerateDataKey"],
                    ["*"],
                    sid="AwsServicesUseKey",
                    conditions={"StringEquals": {"aws:SourceAccount": account}},
                ),
                "Principal": {"Service": SERVICE_PRINCIPALS},
            },
            {
                **statement(
                    ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey"],
                    ["*"],
                    sid="CloudWatchLogsUseKey",
                    conditions={"ArnLike": {"kms:EncryptionContext:aws:logs:arn": arn("logs", "log-group:*", invoke)}},
                ),
                "Principal": {"Service": regional_service_principal("logs", invoke)},
            },
        ]
        statements += self._extra_principal_statements(account, invoke)
        # In a key policy "Resource": "*" means "this key"; it grants nothing else.
        self.key = aws.kms.Key(
            self.child_name("key"),
            description=self.args.description,
            enable_key_rotation=True,
            rotation_period_in_days=self.args.rotation_period_days,
            deletion_window_in_days=self.args.deletion_window_days,
            key_usage="ENCRYPT_DECRYPT",
            customer_master_key_spec="SYMMETRIC_DEFAULT",
            policy=json_text({"Version": "2012-10-17", "Statement": statements}),
            opts=self.child_opts(),
        )
        self.alias = aws.kms.Alias(
            self.child_name("alias"),
            name=self.platform.name(name, naming.KMS_ALIAS),
            target_key_id=self.key.key_id,
            opts=self.child_opts(),
        )
        self.arn: pulumi.Output[str] = self.key.arn
        self.key_id: pulumi.Output[str] = self.key.key_id
        self.register_outputs({"arn": self.arn, "keyId": self.key_id, "aliasName": self.alias.name})

    def _iam_users(self) -> list[str]:
        return [u for u in self.args.extra_key_users if u.startswith("arn:")]

    def _extra_principal_statements(
        self, account: pulumi.Output[str], invoke: pulumi.InvokeOutputOptions
    ) -> list[dict[str, Any]]:
        """Other accounts use the key through their own IAM; services only on behalf of this account."""
        accounts = sorted({u for u in self.args.extra_key_users if _ACCOUNT_ID.fullmatch(u)})
        services = sorted(
            {u for u in self.args.extra_key_users if _SERVICE_PRINCIPAL.fullmatch(u) and u != CLOUDTRAIL_PRINCIPAL}
        )
        statements: list[dict[str, Any]] = []
        if CLOUDTRAIL_PRINCIPAL in self.args.extra_key_users:
            statements += cloudtrail_statements(account, invoke)
        if accounts:
            statements.append(
                {
                    **statement(kms_use_actions(), ["*"], sid="OtherAccountsUseKey"),
                    "Principal": {"AWS": [arn("iam", "root", invoke, region="", account=a) for a in accounts]},
                }
            )
        if services:
            statements.append(
                {
                    **statement(
                        ["kms:Decrypt", "kms:GenerateDataKey"],
                        ["*"],
                        sid="OtherServicesUseKey",
                        conditions={"StringEquals": {"aws:SourceAccount": account}},
                    ),
                    "Principal": {"Service": services},
                }
            )
        return statements


def shared_platform_key(requester: pulumi.Resource | None = None) -> PlatformKey:
    """The stack's shared key, created on first use, in the requester's AWS provider (account/region).

    The default provider's key is named ``platform``; a key for an explicit provider is named
    ``platform-<provider name>`` and is created with that provider, so a component deployed to
    another region or account never encrypts with a key it cannot reach.
    """
    provider = requester.get_provider("aws:kms/key:Key") if requester is not None else None
    provider_name: str | None = provider._name if provider is not None else None
    # Per stack and per AWS provider (None = the default provider).
    keys: dict[str | None, PlatformKey] = per_stack_table("aws_shared_keys")
    key = keys.get(provider_name)
    if key is None:
        name = "platform" if provider_name is None else f"platform-{provider_name}"
        key = PlatformKey(name, opts=pulumi.ResourceOptions(provider=provider) if provider is not None else None)
        keys[provider_name] = key
    return key


def key_arn_or_shared(explicit: pulumi.Input[str] | None, requester: pulumi.Resource) -> pulumi.Input[str]:
    """The key a component encrypts with: the one it was given, else the shared key of its provider.

    ``requester`` (the calling component) is required so the shared key is always created with the
    component's own AWS provider (account and region).
    """
    return explicit if explicit is not None else shared_platform_key(requester).arn
