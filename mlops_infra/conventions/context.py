"""The platform context of the running stack: settings, names and tags, set up once per stack."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi

from mlops_infra.config.platform import PlatformSettings
from mlops_infra.conventions.labels import gcp_labels, k8s_labels
from mlops_infra.conventions.naming import NameRule, content_suffixed, physical_name
from mlops_infra.conventions.per_stack import per_stack_table
from mlops_infra.conventions.transform import make_stack_transform

# One context per running stack (kept on its root resource), so many programs can run in one process.
_TABLE = "platform_context"

_CONFIG_KEYS = ("environment", "owner", "costCenter", "tags", "protectedEnvironments", "protectionExemptions")


@dataclass(frozen=True)
class PlatformContext:
    """What every component needs to know about the stack it is deployed into."""

    settings: PlatformSettings

    @property
    def environment(self) -> str:
        return self.settings.environment.value

    @property
    def protected(self) -> bool:
        return self.settings.is_protected

    @property
    def tags(self) -> dict[str, str]:
        return self.settings.required_tags()

    @property
    def gcp_labels(self) -> dict[str, str]:
        return gcp_labels(self.tags)

    @property
    def k8s_labels(self) -> dict[str, str]:
        return k8s_labels(self.tags)

    def name(self, name: str, rule: NameRule) -> str:
        """Physical name ``{project}-{environment}-{name}`` fitted to the service's ``rule``."""
        return physical_name(self.settings.project, self.environment, name, rule)

    def versioned_name(self, name: str, content: str, rule: NameRule) -> str:
        """Physical name that changes whenever ``content`` does (immutable resources)."""
        return content_suffixed(self.name(name, rule), content, rule)


def _settings_from_config(defaults: dict[str, Any]) -> PlatformSettings:
    config = pulumi.Config()
    values: dict[str, Any] = {"project": pulumi.get_project(), **defaults}
    for key in _CONFIG_KEYS:
        if key in ("tags", "protectedEnvironments", "protectionExemptions"):
            value = config.get_object(key)
        else:
            value = config.get(key)
        if value is not None:
            values[key] = value
    return PlatformSettings.model_validate(values)


def init_platform(settings: PlatformSettings | None = None, **defaults: Any) -> PlatformContext:
    """Validate the stack's platform settings and install the conventions transform.

    Call it first in a program, so the transform sees every resource. Stack config wins over
    ``defaults`` (``owner=...``, ``costCenter=...``, ``environment=...``). Raises a pydantic
    ValidationError naming the field before any resource is registered.
    """
    contexts: dict[str, PlatformContext] = per_stack_table(_TABLE)
    existing = contexts.get("context")
    if existing is not None:
        if settings is not None and settings != existing.settings:
            raise ValueError("init_platform() was already called for this stack with different settings")
        return existing
    context = PlatformContext(settings or _settings_from_config(defaults))
    pulumi.runtime.register_resource_transform(make_stack_transform(context.settings))
    contexts["context"] = context  # kept only inside a running stack (outside, the table is a fresh one)
    return context


def initialized_platform() -> PlatformContext | None:
    """The stack's context if ``init_platform`` already ran, without creating one."""
    context: PlatformContext | None = per_stack_table(_TABLE).get("context")
    return context


def current_platform() -> PlatformContext:
    """The stack's context, initialised from stack config on first use."""
    context = initialized_platform()
    return context if context is not None else init_platform()
