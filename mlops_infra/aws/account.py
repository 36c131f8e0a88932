"""The deploying account, region and partition, read once per stack and provider through invokes.

Dozens of components need the account id or region (ARNs, bucket names, trust conditions). Each
invoke is an RPC to the AWS provider under ``pulumi up`` and an Output with its own tasks in the
program, so the answer is kept per stack run and per provider: components under the same provider
share one invoke of each kind. Options with anything else than a parent or provider (``depends_on``,
a version) are not cached.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any

import pulumi
import pulumi_aws as aws

from mlops_infra.conventions.per_stack import per_stack_table
from mlops_infra.outputs import combined

_CacheKey = tuple[str, pulumi.ProviderResource | None]
_TOKEN = "aws:index/getRegion:getRegion"  # any aws token: the provider lookup reads only the package


def _provider(opts: pulumi.InvokeOutputOptions | None) -> pulumi.ProviderResource | None:
    """The provider the invoke will use: the explicit one, else the parent's for ``aws``, else the default."""
    if opts is None:
        return None
    if opts.provider is not None:
        return opts.provider
    return opts.parent.get_provider(_TOKEN) if opts.parent is not None else None


def has_own_provider(opts: pulumi.ResourceOptions | None) -> bool:
    """Whether a component gets an AWS provider of its own (``provider``, ``providers`` or its parent's)."""
    if opts is None:
        return False
    if opts.provider is not None:
        return True
    providers = opts.providers
    named = providers.keys() if isinstance(providers, Mapping) else [p.package for p in providers or []]
    return "aws" in named or (opts.parent is not None and opts.parent.get_provider(_TOKEN) is not None)


def configured_region() -> str | None:
    """The default provider's region as the stack names it, known before anything registers.

    ``aws:region``, else ``AWS_REGION`` / ``AWS_DEFAULT_REGION``; None when only the provider knows it.
    """
    return pulumi.Config("aws").get("region") or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")


def _cacheable(opts: pulumi.InvokeOutputOptions | None) -> bool:
    return opts is None or not (opts.depends_on or opts.version or opts.plugin_download_url)


def _read_once(
    kind: str, opts: pulumi.InvokeOutputOptions | None, read: Callable[[], pulumi.Output[Any]]
) -> pulumi.Output[Any]:
    if not _cacheable(opts):
        return read()
    answers: dict[_CacheKey, pulumi.Output[Any]] = per_stack_table("aws_answers")  # each run reads its own
    key = (kind, _provider(opts))
    if key not in answers:
        answers[key] = read()
    return answers[key]


def account_id(opts: pulumi.InvokeOutputOptions | None = None) -> pulumi.Output[str]:
    """The AWS account id of the credentials (or provider) in use."""
    return _read_once("account", opts, lambda: aws.get_caller_identity_output(opts=opts).account_id)


def region_name(opts: pulumi.InvokeOutputOptions | None = None) -> pulumi.Output[str]:
    """The AWS region of the provider in use."""
    return _read_once("region", opts, lambda: aws.get_region_output(opts=opts).region)


def _partition_facts(opts: pulumi.InvokeOutputOptions | None) -> pulumi.Output[aws.GetPartitionResult]:
    return _read_once("partition-facts", opts, lambda: aws.get_partition_output(opts=opts))


def partition(opts: pulumi.InvokeOutputOptions | None = None) -> pulumi.Output[str]:
    """``aws``, ``aws-cn`` or ``aws-us-gov``: the partition of the provider in use."""
    return _read_once("partition", opts, lambda: _partition_facts(opts).partition)


def dns_suffix(opts: pulumi.InvokeOutputOptions | None = None) -> pulumi.Output[str]:
    """The partition's DNS suffix: ``amazonaws.com``, ``amazonaws.com.cn`` in China."""
    return _read_once("dns-suffix", opts, lambda: _partition_facts(opts).dns_suffix)


def regional_host(service: str, opts: pulumi.InvokeOutputOptions | None = None) -> pulumi.Output[str]:
    """``SERVICE.REGION.DNS_SUFFIX``: the host of ``service``'s endpoint in the provider's region.

    This is the value ``kms:ViaService`` compares (``sqs.us-east-1.amazonaws.com``,
    ``sqs.cn-north-1.amazonaws.com.cn``).
    """
    return combined(lambda suffix, where: f"{service}.{where}.{suffix}", dns_suffix(opts), region_name(opts))


def regional_service_principal(service: str, opts: pulumi.InvokeOutputOptions | None = None) -> pulumi.Output[str]:
    """The principal of ``service`` in the provider's region, as the AWS provider names it.

    ``logs.us-east-1.amazonaws.com``; in China ``logs.cn-north-1.amazonaws.com.cn``. Most services keep
    ``amazonaws.com`` in every partition and a few do not, so the provider's own table decides
    (the ``getServicePrincipal`` data source) rather than a copy of it here.
    """
    return _read_once(
        f"principal:{service}", opts, lambda: aws.get_service_principal_output(service_name=service, opts=opts).id
    )


def _identity(opts: pulumi.InvokeOutputOptions | None) -> pulumi.Output[list[str]]:
    """``[partition, region, account id]`` of the provider in use, one Output per stack run and provider."""
    return _read_once(
        "identity", opts, lambda: combined(lambda *ids: list(ids), partition(opts), region_name(opts), account_id(opts))
    )


def arn(
    service: str,
    resource: pulumi.Input[str],
    opts: pulumi.InvokeOutputOptions | None = None,
    *,
    region: str | None = None,
    account: str | None = None,
) -> pulumi.Output[str]:
    """``arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE`` in the provider's partition.

    ``region`` and ``account`` default to the provider's; pass ``""`` for services whose ARNs have
    none (``s3``, ``iam``), ``"*"`` for a wildcard, or another account's id. One ``apply`` per
    ARN (one more when ``resource`` is an Output); ``Output.concat`` of the parts lifts every part.
    """

    def render(identity: list[str], name: str) -> str:
        partition_name, here, account_id_ = identity
        where = here if region is None else region
        owner = account_id_ if account is None else account
        return f"arn:{partition_name}:{service}:{where}:{owner}:{name}"

    return combined(render, _identity(opts), resource)
