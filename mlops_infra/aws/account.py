"""The deploying account and region, read once per stack through provider invokes."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws


def account_id(opts: pulumi.InvokeOutputOptions | None = None) -> pulumi.Output[str]:
    """The AWS account id of the credentials (or provider) in use."""
    return aws.get_caller_identity_output(opts=opts).account_id


def region_name(opts: pulumi.InvokeOutputOptions | None = None) -> pulumi.Output[str]:
    """The AWS region of the provider in use."""
    return aws.get_region_output(opts=opts).region
