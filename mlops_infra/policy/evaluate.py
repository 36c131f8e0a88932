"""Evaluate every rule on a captured stack: the function behind ``mlops-infra check``.

The per-policy functions here are also what the policy pack's validate callbacks call, so the
offline check, the pack and tests share one code path.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from mlops_infra.engine.captured import CapturedResource, CapturedStack
from mlops_infra.policy.config import PolicyConfig
from mlops_infra.policy.context import RuleContext, StackContext
from mlops_infra.policy.enforcement import (
    enforcement_for,
    environment_of,
    resource_environment,
    stack_environment,
    with_platform_protection,
)
from mlops_infra.policy.model import (
    Enforcement,
    ResourceView,
    StackView,
    ViewOptions,
    Violation,
    stack_urn_for,
)
from mlops_infra.policy.rules import REGISTRY
from mlops_infra.policy.spec import PolicySpec
from mlops_infra.policy.values import UnknownValue

PROVIDER_PREFIX = "pulumi:providers:"


def _skip_message(spec: PolicySpec, skipped: UnknownValue) -> str:
    return f"{skipped}: {spec.id} check skipped until the value is known (pulumi up, or mlops-infra check)"


def resource_violations(
    spec: PolicySpec, view: ResourceView, stack_config: Mapping[str, Any], config: PolicyConfig
) -> list[Violation]:
    """Violations of one policy's resource rule on one resource (skipped checks as advisory notes)."""
    if spec.resource_check is None or view.type.startswith(PROVIDER_PREFIX):
        return []
    return _resource_violations(spec, view, environment_of(view, stack_config), stack_environment(stack_config), config)


def _resource_violations(
    spec: PolicySpec, view: ResourceView, environment: str | None, stack_env: str | None, config: PolicyConfig
) -> list[Violation]:
    """:func:`resource_violations` with the resource's and the stack's environment already read."""
    return _leveled_violations(spec, view, environment, enforcement_for(spec.id, stack_env, config), config)


def _leveled_violations(
    spec: PolicySpec, view: ResourceView, environment: str | None, level: Enforcement, config: PolicyConfig
) -> list[Violation]:
    """One policy's resource rule on one resource at enforcement ``level``."""
    assert spec.resource_check is not None
    if level is Enforcement.DISABLED:
        return []
    ctx = RuleContext(config, environment)
    if spec.protected_only and not ctx.protected:
        return []
    findings = []
    try:
        for finding in spec.resource_check(view, ctx):  # findings before an unknown value are kept
            findings.append(finding)
    except UnknownValue as exc:
        ctx.skipped.append(exc)
    violations = [Violation(spec.id, level, view.urn, view.type, f.message) for f in findings]
    violations += [
        Violation(spec.id, Enforcement.ADVISORY, view.urn, view.type, _skip_message(spec, s), note=True)
        for s in ctx.skipped
    ]
    return violations


def stack_violations(spec: PolicySpec, stack: StackView, config: PolicyConfig) -> list[Violation]:
    """Violations of one policy's stack rule; each finding's enforcement follows its resource's environment."""
    if spec.stack_check is None:
        return []
    ctx = StackContext(config, stack.config)
    findings = []
    try:
        for finding in spec.stack_check(stack, ctx):
            findings.append(finding)
    except UnknownValue as exc:
        ctx.skipped.append((stack.stack_urn, exc))
    violations = []
    level = enforcement_for(spec.id, stack_environment(stack.config), config)
    for finding in findings:
        if level is not Enforcement.DISABLED:
            violations.append(
                Violation(
                    spec.id,
                    level,
                    finding.urn or stack.stack_urn,
                    finding.resource_type or "pulumi:pulumi:Stack",
                    finding.message,
                )
            )
    for urn, skipped in ctx.skipped:
        target = stack.find(urn)
        if level is not Enforcement.DISABLED:
            violations.append(
                Violation(
                    spec.id,
                    Enforcement.ADVISORY,
                    urn,
                    target.type if target else "pulumi:pulumi:Stack",
                    _skip_message(spec, skipped),
                    note=True,
                )
            )
    return violations


def view_from_captured(resource: CapturedResource, providers: Mapping[str, CapturedResource]) -> ResourceView:
    # A provider reference is "<provider URN>::<provider id>".
    provider = providers.get(resource.provider.rsplit("::", 1)[0]) if resource.provider else None
    return ResourceView(
        type=resource.type,
        props=resource.inputs,
        urn=resource.urn,
        name=resource.name,
        options=ViewOptions(
            protect=resource.protect,
            retain_on_delete=resource.retain_on_delete,
            parent=resource.parent,
            provider_props=provider.inputs if provider is not None else None,
        ),
        dependencies=tuple(resource.dependencies),
        custom=resource.custom,
    )


def stack_view(stack: CapturedStack) -> StackView:
    """A captured stack as rules see it (provider props attached to each resource)."""
    providers = {r.urn: r for r in stack.resources if r.type.startswith(PROVIDER_PREFIX)}
    config = dict(stack.config)
    views = tuple(view_from_captured(r, providers) for r in stack.resources)
    # The stack config is used as the Pulumi CLI hands it to the policy pack: a stack without
    # `environment` is not given one from tags or component defaults (see enforcement.py).
    return StackView(resources=views, config=config, stack_urn=stack_urn_for(stack.project, stack.stack))


def evaluate_view(
    stack: StackView, config: PolicyConfig, policies: Iterable[PolicySpec] | None = None
) -> list[Violation]:
    """Every policy on every resource and on the stack, sorted by policy, URN and message."""
    violations: list[Violation] = []
    config = with_platform_protection(config, stack.config, stack.resources)
    specs = list(policies if policies is not None else REGISTRY.values())
    stack_env = stack_environment(stack.config)  # read once: it is the same for every resource and rule
    # Each rule's level is the stack's; a disabled rule, or one with no handler for a type, finds nothing there.
    levels = {spec.id: enforcement_for(spec.id, stack_env, config) for spec in specs}
    resource_specs = [
        spec for spec in specs if spec.resource_check is not None and levels[spec.id] is not Enforcement.DISABLED
    ]
    by_type: dict[str, list[PolicySpec]] = {}
    for view in stack.resources:
        if not view.custom or view.type.startswith(PROVIDER_PREFIX):
            continue
        environment = stack_env if stack_env is not None else resource_environment(view)
        applicable = by_type.get(view.type)
        if applicable is None:
            applicable = by_type[view.type] = [spec for spec in resource_specs if _applies(spec, view.type)]
        for spec in applicable:
            violations += _leveled_violations(spec, view, environment, levels[spec.id], config)
    for spec in specs:
        violations += stack_violations(spec, stack, config)
    return sorted(violations, key=lambda v: (v.policy_id, v.urn, v.message))


def _applies(spec: PolicySpec, type_token: str) -> bool:
    """False only when the rule's check says it has nothing for ``type_token`` (a ``dispatch`` check)."""
    applies_to = getattr(spec.resource_check, "applies_to", None)
    return applies_to is None or bool(applies_to(type_token))


def evaluate_stack(stack: CapturedStack, config: PolicyConfig | None = None) -> list[Violation]:
    """Evaluate all rules on a stack captured by the offline engine (defaults when ``config`` is None)."""
    return evaluate_view(stack_view(stack), config or PolicyConfig())


def has_mandatory(violations: Iterable[Violation]) -> bool:
    """True when any violation blocks (``mlops-infra check`` exits 1)."""
    return any(v.enforcement is Enforcement.MANDATORY and not v.note for v in violations)
