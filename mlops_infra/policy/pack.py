"""The rule library as pulumi-policy objects: one ResourceValidationPolicy per policy id with a
resource rule, one StackValidationPolicy per id with a stack rule (named ``<id>-stack`` when the id
has both).

Only ``policies/mlops-guardrails/__main__.py`` wraps these in a ``PolicyPack``; constructing a
PolicyPack starts a gRPC server that never returns, so nothing importable here does it.

The validate callbacks unwrap pulumi-policy's unknown-checking proxies and call the same
functions as ``mlops-infra check`` (``evaluate.resource_violations`` / ``stack_violations``).
A check that needs a value unknown during preview is skipped the way pulumi-policy skips one:
by raising its UnknownValueError, which the pack turns into an advisory note.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pulumi.runtime
from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UnknownValueError, _DictProxy, _ListProxy
from pulumi_policy.secret import Secret

from mlops_infra.policy.config import PolicyConfig, property_schema
from mlops_infra.policy.enforcement import enforcement_for, stack_environment, with_platform_protection
from mlops_infra.policy.evaluate import resource_violations, stack_violations
from mlops_infra.policy.model import (
    Enforcement,
    ResourceView,
    StackView,
    ViewOptions,
    Violation,
    stack_urn_from,
)
from mlops_infra.policy.rules import REGISTRY
from mlops_infra.policy.spec import PolicySpec
from mlops_infra.policy.values import UNKNOWN_STRING

PACK_NAME = "mlops-guardrails"
DOCS_PAGE = "docs/policies.md"

# JSON schema of each pack-config property (the Pulumi CLI validates --policy-pack-config against it),
# generated from the PolicyConfig field that validates it, so the two cannot disagree.
PROPERTY_SCHEMAS: dict[str, dict[str, Any]] = {
    name: property_schema(name) for spec in REGISTRY.values() for name in spec.config_properties
}

PACK_LEVELS = {
    Enforcement.MANDATORY: EnforcementLevel.MANDATORY,
    Enforcement.ADVISORY: EnforcementLevel.ADVISORY,
    Enforcement.DISABLED: EnforcementLevel.DISABLED,
}

StackConfigSource = Callable[[], Mapping[str, Any]]


def runtime_stack_config() -> dict[str, Any]:
    """The stack config the Pulumi CLI hands to a policy pack (PULUMI_CONFIG and explicit sets)."""
    return {**pulumi.runtime.get_config_env(), **pulumi.runtime.config.CONFIG.get()}


def plain(value: Any) -> Any:
    """pulumi-policy props (unknown-checking proxies, Secrets) as plain dicts and lists, sentinels kept."""
    if isinstance(value, _DictProxy):
        return {k: plain(v) for k, v in value["__target"].items()}
    if isinstance(value, _ListProxy):
        return [plain(v) for v in value["__target"]]
    if isinstance(value, Secret):
        return plain(value.value)
    if isinstance(value, Mapping):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def view_from_resource_args(args: ResourceValidationArgs) -> ResourceView:
    """A ResourceView from the arguments of a resource validation (``retainOnDelete`` is not sent)."""
    provider = args.provider
    return ResourceView(
        type=args.resource_type,
        props=plain(args.props),
        urn=args.urn,
        name=args.name,
        options=ViewOptions(
            protect=bool(args.opts.protect) if args.opts is not None else None,
            retain_on_delete=None,
            parent=args.opts.parent if args.opts is not None else None,
            provider_props=plain(provider.props) if provider is not None else None,
        ),
    )


def stack_from_args(args: StackValidationArgs, stack_config: Mapping[str, Any]) -> StackView:
    """A StackView from the arguments of a stack validation."""
    views = []
    for resource in args.resources:
        provider = resource.provider
        views.append(
            ResourceView(
                type=resource.resource_type,
                props=plain(resource.props),
                urn=resource.urn,
                name=resource.name,
                options=ViewOptions(
                    protect=bool(resource.opts.protect) if resource.opts is not None else None,
                    retain_on_delete=None,
                    parent=resource.parent.urn if resource.parent is not None else None,
                    provider_props=plain(provider.props) if provider is not None else None,
                ),
                dependencies=tuple(d.urn for d in resource.dependencies or []),
                custom=_is_custom(resource.resource_type),
            )
        )
    return StackView(tuple(views), dict(stack_config), stack_urn_from(v.urn for v in views))


def _is_custom(type_token: str) -> bool:
    """Stack policies do not say which resources are components; provider types have a ``module/...`` part."""
    package, _, rest = type_token.partition(":")
    return package in ("aws", "gcp", "kubernetes", "pulumi", "pulumi-python") or "/" in rest.split(":")[0]


def _report(violations: list[Violation], report_violation: ReportViolation, with_urn: bool) -> None:
    """Report violations; then, like pulumi-policy, turn skipped checks into one UnknownValueError."""
    notes = []
    for violation in violations:
        if violation.note:
            notes.append(violation.message)
        else:
            report_violation(violation.message, violation.urn if with_urn else None)
    if notes:
        error = UnknownValueError(UNKNOWN_STRING, [])
        error.message = "; ".join(notes)
        raise error


def _config_for(
    base: PolicyConfig,
    args: ResourceValidationArgs | StackValidationArgs,
    stack_config: Mapping[str, Any],
    stack: StackView | None = None,
) -> PolicyConfig:
    """The pack config with this policy's properties, then the stack's platform protection over it."""
    resources = stack.resources if stack is not None else ()
    return with_platform_protection(base.with_pack_properties(args.get_config()), stack_config, resources)


def resource_validator(spec: PolicySpec, config: PolicyConfig, stack_config: StackConfigSource) -> Callable[..., None]:
    """The validate callback of ``spec``'s ResourceValidationPolicy."""

    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        view = view_from_resource_args(args)
        settings = stack_config()
        _report(resource_violations(spec, view, settings, _config_for(config, args, settings)), report_violation, False)

    return validate


def stack_validator(spec: PolicySpec, config: PolicyConfig, stack_config: StackConfigSource) -> Callable[..., None]:
    """The validate callback of ``spec``'s StackValidationPolicy (violations carry the resource URN)."""

    def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
        stack = stack_from_args(args, stack_config())
        _report(stack_violations(spec, stack, _config_for(config, args, stack.config, stack)), report_violation, True)

    return validate


def config_schema(spec: PolicySpec) -> PolicyConfigSchema | None:
    properties = {name: PROPERTY_SCHEMAS[name] for name in spec.config_properties}
    return PolicyConfigSchema(properties=properties) if properties else None


def stack_policy_name(spec: PolicySpec) -> str:
    """The pack name of ``spec``'s stack policy: the id, or ``<id>-stack`` when the id also has a resource policy."""
    return f"{spec.id}-stack" if spec.resource_check is not None else spec.id


def pack_initial_config(
    config: PolicyConfig, policies: Sequence[ResourceValidationPolicy | StackValidationPolicy] = ()
) -> dict[str, dict[str, Any]]:
    """``initial_config`` for the PolicyPack: each policy's properties as this config sets them.

    Each entry also carries the policy's own level (``policies``): an entry without one reaches the
    CLI as the protobuf enum's zero value, ADVISORY, which would replace the policy's level.
    """
    values = config.model_dump(by_alias=True, mode="json")
    levels = {p.name: p.enforcement_level for p in policies if p.enforcement_level is not None}
    initial: dict[str, dict[str, Any]] = {}
    for spec in REGISTRY.values():
        properties = {name: values[name] for name in spec.config_properties if values[name] is not None}
        if not properties:
            continue
        names = ([spec.id] if spec.resource_check is not None else []) + (
            [stack_policy_name(spec)] if spec.stack_check is not None else []
        )
        for name in names:
            initial[name] = dict(properties)
            if name in levels:
                initial[name]["enforcementLevel"] = levels[name]
    return initial


def build_policies(
    config: PolicyConfig, stack_config: Mapping[str, Any] | None = None
) -> tuple[list[ResourceValidationPolicy], list[StackValidationPolicy]]:
    """Every rule as pulumi-policy policies; levels follow the stack's ``environment`` config.

    ``stack_config`` defaults to the config the Pulumi CLI passes to the pack. A pack sets one level
    per policy, so the environment comes from stack config (a stack that does not set it is
    treated as protected); the offline check can also read each resource's environment tag.
    """

    def source() -> Mapping[str, Any]:
        return stack_config if stack_config is not None else runtime_stack_config()

    environment = stack_environment(source())
    levels_config = with_platform_protection(config, source())
    resource_policies: list[ResourceValidationPolicy] = []
    stack_policies: list[StackValidationPolicy] = []
    for spec in REGISTRY.values():
        level = PACK_LEVELS[enforcement_for(spec.id, environment, levels_config)]
        common: dict[str, Any] = {
            "description": spec.title,
            "enforcement_level": level,
            "config_schema": config_schema(spec),
            "remediation_steps": spec.remediation,
            "url": f"{DOCS_PAGE}#{spec.id}",
        }
        if spec.resource_check is not None:
            resource_policies.append(
                ResourceValidationPolicy(name=spec.id, validate=resource_validator(spec, config, source), **common)
            )
        if spec.stack_check is not None:
            stack_policies.append(
                StackValidationPolicy(
                    name=stack_policy_name(spec), validate=stack_validator(spec, config, source), **common
                )
            )
    return resource_policies, stack_policies
