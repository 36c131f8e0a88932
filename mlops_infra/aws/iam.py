"""IAM policy documents built from explicit statements: no wildcard actions, scoped resources."""

from __future__ import annotations

from typing import Any

import pulumi

from mlops_infra.outputs import json_text
from mlops_infra.policy.facts.aws_iam import UNSCOPABLE_ACTIONS

__all__ = [
    "UNSCOPABLE_ACTIONS",
    "assume_role_policy",
    "kms_use_actions",
    "policy_document",
    "resource_statement",
    "statement",
]


def statement(
    actions: list[str],
    resources: list[pulumi.Input[str]],
    *,
    sid: str | None = None,
    conditions: dict[str, Any] | None = None,
    effect: str = "Allow",
) -> dict[str, Any]:
    """One statement; ``actions`` and ``resources`` are listed explicitly, sorted for stable diffs."""
    if not actions or not resources:
        raise ValueError("an IAM statement needs at least one action and one resource")
    result: dict[str, Any] = {"Effect": effect, "Action": sorted(actions), "Resource": resources}
    if sid:
        result["Sid"] = sid
    if conditions:
        result["Condition"] = conditions
    return result


def resource_statement(
    actions: list[str],
    resources: list[pulumi.Input[str]],
    principal: str | dict[str, Any],
    *,
    sid: str | None = None,
    conditions: dict[str, Any] | None = None,
    effect: str = "Allow",
) -> dict[str, Any]:
    """A statement of a resource policy (bucket, queue, topic): :func:`statement` naming who it applies to."""
    return {
        **statement(actions, resources, sid=sid, conditions=conditions, effect=effect),
        "Principal": principal,
    }


def policy_document(statements: list[dict[str, Any]]) -> pulumi.Output[str]:
    """A JSON policy document; Outputs inside statements are resolved at deploy time."""
    return json_text({"Version": "2012-10-17", "Statement": statements})


def assume_role_policy(service: str | list[str], source_account: pulumi.Input[str] | None = None) -> pulumi.Output[str]:
    """Trust policy for an AWS service (or several that act together), optionally pinned to this account
    (confused-deputy guard)."""
    trust: dict[str, Any] = {
        "Effect": "Allow",
        "Principal": {"Service": service},
        "Action": "sts:AssumeRole",
    }
    if source_account is not None:
        trust["Condition"] = {"StringEquals": {"aws:SourceAccount": source_account}}
    return json_text({"Version": "2012-10-17", "Statement": [trust]})


def kms_use_actions() -> list[str]:
    """Data-key use of a customer-managed key, without wildcards."""
    return [
        "kms:Decrypt",
        "kms:DescribeKey",
        "kms:Encrypt",
        "kms:GenerateDataKey",
        "kms:GenerateDataKeyWithoutPlaintext",
        "kms:ReEncryptFrom",
        "kms:ReEncryptTo",
    ]
