"""Which enforcement a policy gets, from the environment of the stack or the resource.

Mandatory in protected environments; advisory elsewhere, except required-tags,
encryption-at-rest and no-public-access, which are mandatory everywhere. A stack that does not
say which environment it is gets the strict treatment: unknown counts as protected.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from mlops_infra.policy.config import PolicyConfig
from mlops_infra.policy.model import Enforcement, ResourceView
from mlops_infra.policy.values import UnknownValue, is_unknown

ALWAYS_MANDATORY: frozenset[str] = frozenset({"required-tags", "encryption-at-rest", "no-public-access"})
ENVIRONMENT_KEY = "environment"


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
