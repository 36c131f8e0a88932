"""The policy of a platform SNS topic: named AWS services of this account may publish, only over TLS.

One builder for every platform topic (alert topics, budget topics): :func:`publish_statement` lets
one service publish for this account (``aws:SourceAccount``) and, given ``source_arns``, only from
those resources (``aws:SourceArn``: e.g. the EventBridge rules that target the topic, not any rule
of the account); :func:`topic_policy` adds the statement that refuses plaintext publishes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pulumi

from mlops_infra.aws.account import arn
from mlops_infra.aws.iam import statement
from mlops_infra.outputs import json_text


def publish_statement(
    topic_arn: pulumi.Input[str],
    *,
    service: str,
    sid: str,
    account: pulumi.Input[str],
    source_arns: Sequence[pulumi.Input[str]] = (),
) -> dict[str, Any]:
    """Allow ``service`` (e.g. ``events.amazonaws.com``) to publish for ``account``, from ``source_arns`` if given."""
    conditions: dict[str, Any] = {"StringEquals": {"aws:SourceAccount": account}}
    if source_arns:
        conditions["ArnEquals"] = {"aws:SourceArn": list(source_arns)}
    return {
        **statement(["sns:Publish"], [topic_arn], sid=sid, conditions=conditions),
        "Principal": {"Service": service},
    }


def deny_plaintext_statement(topic_arn: pulumi.Input[str]) -> dict[str, Any]:
    """Nobody may publish over plaintext HTTP."""
    return {
        **statement(
            ["sns:Publish"],
            [topic_arn],
            sid="DenyInsecureTransport",
            effect="Deny",
            conditions={"Bool": {"aws:SecureTransport": "false"}},
        ),
        "Principal": "*",
    }


def topic_policy(topic_arn: pulumi.Input[str], allow: Sequence[dict[str, Any]]) -> pulumi.Output[str]:
    """The policy document: the ``allow`` statements, then the plaintext deny."""
    return json_text({"Version": "2012-10-17", "Statement": [*allow, deny_plaintext_statement(topic_arn)]})


def service_publish_policy(
    topic_arn: pulumi.Input[str], *, service: str, sid: str, account: pulumi.Input[str]
) -> pulumi.Output[str]:
    """Allow ``service`` (e.g. ``budgets.amazonaws.com``) to publish for ``account`` only; deny plaintext."""
    return topic_policy(topic_arn, [publish_statement(topic_arn, service=service, sid=sid, account=account)])


def event_rule_arn(rule_name: str, opts: pulumi.InvokeOutputOptions | None = None) -> pulumi.Output[str]:
    """``arn:PARTITION:events:REGION:ACCOUNT:rule/NAME`` of a default-bus rule, known before the rule exists.

    Physical rule names are deterministic (``PlatformContext.name``), so a topic's policy can name
    the rules that publish to it without waiting for them.
    """
    return arn("events", f"rule/{rule_name}", opts)
