"""The policy of a platform SNS topic: one AWS service of this account may publish, and only over TLS."""

from __future__ import annotations

from typing import Any

import pulumi

from mlops_infra.aws.iam import statement


def service_publish_policy(
    topic_arn: pulumi.Input[str], *, service: str, sid: str, account: pulumi.Input[str]
) -> pulumi.Output[str]:
    """Allow ``service`` (e.g. ``budgets.amazonaws.com``) to publish for ``account`` only; deny plaintext."""
    publish: dict[str, Any] = {
        **statement(
            ["sns:Publish"],
            [topic_arn],
            sid=sid,
            conditions={"StringEquals": {"aws:SourceAccount": account}},
        ),
        "Principal": {"Service": service},
    }
    deny_plaintext: dict[str, Any] = {
        **statement(
            ["sns:Publish"],
            [topic_arn],
            sid="DenyInsecureTransport",
            effect="Deny",
            conditions={"Bool": {"aws:SecureTransport": "false"}},
        ),
        "Principal": "*",
    }
    return pulumi.Output.json_dumps({"Version": "2012-10-17", "Statement": [publish, deny_plaintext]})
