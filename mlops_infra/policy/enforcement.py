"""Which enforcement a policy gets, from the environment of the stack or the resource.

Mandatory in protected environments; advisory elsewhere, except required-tags,
encryption-at-rest and no-public-access, which are mandatory everywhere. A stack that does not
say which environment it is gets the strict treatment: unknown counts as protected.

Which environments are protected is the platform's decision (``PlatformSettings``): the stack
config key ``protectedEnvironments`` (``Pulumi.<stack>.yaml``), and the ``environment`` /
``protected`` inputs the platform conventions put on every mlops-infra component resource (what the
program actually decided, its defaults included). When the stack gives either, it wins over the
policy config's ``protectedEnvironments``, which stays only as the fallback for raw programs that do
not use the platform settings (:func:`with_platform_protection`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from mlops_infra.policy.config import PolicyConfig
from mlops_infra.policy.model import Enforcement, ResourceView
from mlops_infra.policy.values import UnknownValue, is_unknown

ALWAYS_MANDATORY: frozenset[str] = frozenset({"required-tags", "encryption-at-rest", "no-public-access"})
ENVIRONMENT_KEY = "environment"
PROTECTED_ENVIRONMENTS_KEY = "protectedEnvironments"
PROTECTION_EXEMPTIONS_KEY = "protectionExemptions"
PROTECTED_INPUT = "protected"
COMPONENT_PACKAGE = "mlops-infra"
# Config namespaces of providers: their keys are never the platform's settings.
PROVIDER_NAMESPACES = frozenset({"aws", "gcp", "kubernetes", "pulumi"})


def is_protected(environment: str | None, config: PolicyConfig) -> bool:
    """True in protected environments, and when the environment cannot be told (fail closed)."""
    return environment is None or environment in config.protected_environments


def enforcement_for(policy_id: str, environment: str | None, config: PolicyConfig) -> Enforcement:
    """The level of ``policy_id`` for a resource in ``environment``; config overrides win."""
    override = config.enforcement.get(policy_id)
    if override is not None:
        return override
    if policy_id in ALWAYS_MANDATORY or is_protected(environment, config):
        return Enforcement.MANDATORY
    return Enforcement.ADVISORY


def stack_environment(stack_config: Mapping[str, Any]) -> str | None:
    """The stack config value of ``environment`` in any namespace (``churn:environment``, ...)."""
    for key in sorted(stack_config):
        value = stack_config[key]
        if str(key).split(":")[-1] == ENVIRONMENT_KEY and isinstance(value, str) and value and not is_unknown(value):
            return value
    return None


def _provider_default(view: ResourceView) -> Any:
    """``environment`` from the AWS provider's defaultTags or the GCP provider's defaultLabels."""
    props = view.options.provider_props or {}
    for key, inner in (("defaultTags", "tags"), ("defaultLabels", None)):
        value = props.get(key)
        if isinstance(value, str) and not is_unknown(value):
            try:
                value = json.loads(value)
            except json.JSONDecodeError:
                continue
        if isinstance(value, Mapping) and inner is not None:
            value = value.get(inner)
        if isinstance(value, Mapping) and isinstance(value.get(ENVIRONMENT_KEY), str):
            return value[ENVIRONMENT_KEY]
    return None


def resource_environment(view: ResourceView) -> str | None:
    """The resource's own ``environment`` tag or label (or its provider's default tag)."""
    try:
        value = view.label_map().get(ENVIRONMENT_KEY)
    except UnknownValue:
        value = None
    if value is None:
        value = _provider_default(view)
    return value if isinstance(value, str) and value and not is_unknown(value) else None


def environment_of(view: ResourceView | None, stack_config: Mapping[str, Any]) -> str | None:
    """Stack config ``environment`` first, else the resource's ``environment`` tag/label."""
    from_stack = stack_environment(stack_config)
    if from_stack is not None or view is None:
        return from_stack
    return resource_environment(view)


def stack_protected_environments(stack_config: Mapping[str, Any]) -> frozenset[str] | None:
    """The platform's ``protectedEnvironments`` from stack config (project namespace), if set."""
    return _stack_string_list(stack_config, PROTECTED_ENVIRONMENTS_KEY)


def stack_protection_exemptions(stack_config: Mapping[str, Any]) -> frozenset[str] | None:
    """The platform's ``protectionExemptions`` (logical names left unprotected on purpose), if set."""
    return _stack_string_list(stack_config, PROTECTION_EXEMPTIONS_KEY)


def _stack_string_list(stack_config: Mapping[str, Any], wanted: str) -> frozenset[str] | None:
    """A list of strings under ``wanted`` in the project namespace.

    Values arrive as the engine and the Pulumi CLI store them: a JSON list in a string.
    """
    for key in sorted(stack_config):
        namespace, _, name = str(key).rpartition(":")
        if name != wanted or namespace in PROVIDER_NAMESPACES:
            continue
        value = stack_config[key]
        if isinstance(value, str) and not is_unknown(value):
            try:
                value = json.loads(value)
            except json.JSONDecodeError:
                continue
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return frozenset(value)
    return None


def component_protection(resources: Iterable[ResourceView]) -> dict[str, bool]:
    """Environment -> protected, as the stack's mlops-infra component resources carry it in their inputs."""
    decided: dict[str, bool] = {}
    for view in resources:
        if view.custom or view.package != COMPONENT_PACKAGE:
            continue
        environment, protected = view.props.get(ENVIRONMENT_KEY), view.props.get(PROTECTED_INPUT)
        if isinstance(environment, str) and isinstance(protected, bool) and not is_unknown(environment):
            decided[environment] = protected
    return decided


def component_environment(resources: Iterable[ResourceView]) -> str | None:
    """The one ``environment`` input the stack's mlops-infra components agree on (None if none or several)."""
    found = set(component_protection(resources))
    return found.pop() if len(found) == 1 else None


def with_platform_protection(
    config: PolicyConfig, stack_config: Mapping[str, Any], resources: Iterable[ResourceView] = ()
) -> PolicyConfig:
    """``config`` with the protected environments the stack's platform settings decided.

    Order: the components' own ``environment``/``protected`` inputs (what the platform did), then
    the stack config's ``protectedEnvironments``, then the policy config's ``protectedEnvironments``
    (raw programs without platform settings). The stack's platform settings win when they disagree
    with the policy config: the policy then judges the stack by the protection it was built with.
    The stack's ``protectionExemptions`` (explicit opt-outs by logical name) replace the policy
    config's the same way.
    """
    from_stack = stack_protected_environments(stack_config)
    protected = set(from_stack if from_stack is not None else config.protected_environments)
    for environment, is_protected_there in component_protection(resources).items():
        if is_protected_there:
            protected.add(environment)
        else:
            protected.discard(environment)
    exemptions = stack_protection_exemptions(stack_config)
    update: dict[str, frozenset[str]] = {}
    if protected != set(config.protected_environments):
        update["protected_environments"] = frozenset(protected)
    if exemptions is not None and exemptions != config.protection_exemptions:
        update["protection_exemptions"] = exemptions
    return config.model_copy(update=update) if update else config
