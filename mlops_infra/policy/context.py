"""What a rule knows besides the resource: the config, the environment, and skipped-check notes."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from mlops_infra.policy.config import PolicyConfig
from mlops_infra.policy.enforcement import environment_of, is_protected
from mlops_infra.policy.model import ResourceView
from mlops_infra.policy.values import UnknownValue


@dataclass
class RuleContext:
    """Per (rule, resource) evaluation state. ``skipped`` collects checks skipped on unknown values."""

    config: PolicyConfig
    environment: str | None
    skipped: list[UnknownValue] = field(default_factory=list)

    @property
    def protected(self) -> bool:
        return is_protected(self.environment, self.config)

    @contextlib.contextmanager
    def unknowns(self) -> Iterator[None]:
        """Run one sub-check; an unknown value skips just that sub-check and is recorded."""
        try:
            yield
        except UnknownValue as exc:
            self.skipped.append(exc)


@dataclass
class StackContext:
    """Stack rules' context: per-resource environments come from stack config, else tags/labels."""

    config: PolicyConfig
    stack_config: Mapping[str, Any]
    skipped: list[tuple[str, UnknownValue]] = field(default_factory=list)

    def environment(self, view: ResourceView | None) -> str | None:
        return environment_of(view, self.stack_config)

    def protected(self, view: ResourceView | None) -> bool:
        return is_protected(self.environment(view), self.config)

    def rule_context(self, view: ResourceView) -> RuleContext:
        return RuleContext(self.config, self.environment(view))

    @contextlib.contextmanager
    def unknowns(self, urn: str) -> Iterator[None]:
        """Run one correlation for the resource ``urn``; an unknown value skips it with a note."""
        try:
            yield
        except UnknownValue as exc:
            self.skipped.append((urn, exc))
