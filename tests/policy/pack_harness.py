"""Drive the pack's policies the way pulumi-policy's analyzer does, without constructing a PolicyPack.

Props go through ``unknown_checking_proxy`` as in ``_PolicyAnalyzerServicer.Analyze``; an
``UnknownValueError`` from a validate callback becomes an advisory note, as the analyzer makes it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyCustomTimeouts,
    PolicyProviderResource,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UnknownValueError, unknown_checking_proxy

from mlops_infra.engine.captured import CapturedResource, CapturedStack


@dataclass(frozen=True)
class Diagnostic:
    policy: str
    level: str
    urn: str
    message: str
    note: bool = False


def _options(resource: CapturedResource) -> PolicyResourceOptions:
    return PolicyResourceOptions(
        resource.protect, [], None, list(resource.aliases), PolicyCustomTimeouts(0, 0, 0), [], resource.parent
    )


def _provider(stack: CapturedStack, resource: CapturedResource) -> PolicyProviderResource | None:
    if not resource.provider:
        return None
    provider = stack.by_urn().get(resource.provider.rsplit("::", 1)[0])
    if provider is None:
        return None
    return PolicyProviderResource(
        provider.type, unknown_checking_proxy(dict(provider.inputs)), provider.urn, provider.name
    )


def resource_args(
    stack: CapturedStack, resource: CapturedResource, config: dict[str, Any] | None = None
) -> ResourceValidationArgs:
    return ResourceValidationArgs(
        resource.type,
        unknown_checking_proxy(dict(resource.inputs)),
        resource.urn,
        resource.name,
        _options(resource),
        _provider(stack, resource),
        config,
    )


def stack_args(stack: CapturedStack, config: dict[str, Any] | None = None) -> StackValidationArgs:
    by_urn: dict[str, PolicyResource] = {}
    for r in stack.resources:
        by_urn[r.urn] = PolicyResource(
            r.type,
            unknown_checking_proxy(dict(r.inputs)),
            r.urn,
            r.name,
            _options(r),
            _provider(stack, r),
            None,
            [],
            {},
        )
    for r in stack.resources:
        by_urn[r.urn].parent = by_urn.get(r.parent) if r.parent else None
        by_urn[r.urn].dependencies = [by_urn[d] for d in r.dependencies if d in by_urn]
    return StackValidationArgs(list(by_urn.values()), config)


def _call(policy: Any, args: Any, default_urn: str, out: list[Diagnostic]) -> None:
    level = policy.enforcement_level or EnforcementLevel.ADVISORY
    if level is EnforcementLevel.DISABLED:
        return

    def report(message: str, urn: str | None = None) -> None:
        out.append(Diagnostic(policy.name, level.value, urn or default_urn, message))

    try:
        policy.validate(args, report)
    except UnknownValueError as exc:
        out.append(Diagnostic(policy.name, EnforcementLevel.ADVISORY.value, default_urn, exc.message, note=True))


def run_pack(
    stack: CapturedStack,
    resource_policies: list[ResourceValidationPolicy],
    stack_policies: list[StackValidationPolicy],
    config: dict[str, dict[str, Any]] | None = None,
) -> list[Diagnostic]:
    """Every resource policy on every custom resource, then every stack policy on the stack."""
    config = config or {}
    out: list[Diagnostic] = []
    for resource in stack.resources:
        if not resource.custom or resource.type.startswith("pulumi:providers:"):
            continue
        for policy in resource_policies:
            _call(policy, resource_args(stack, resource, config.get(policy.name)), resource.urn, out)
    for policy in stack_policies:
        _call(policy, stack_args(stack, config.get(policy.name)), "", out)
    return out
