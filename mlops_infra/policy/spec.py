"""A policy's definition: its documentation and its check functions (per resource, per stack).

Kept apart from ``policy.model`` (the vocabulary) so the import graph has no circle: the
signatures here need ``RuleContext`` and ``StackContext``, which need the policy config, which
needs the policy ids from ``model``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from mlops_infra.policy.context import RuleContext, StackContext
from mlops_infra.policy.model import Finding, ResourceView, StackView

ResourceCheck = Callable[[ResourceView, RuleContext], Iterable[Finding]]
StackCheck = Callable[[StackView, StackContext], Iterable[Finding]]


@dataclass(frozen=True)
class PolicySpec:
    """One policy id: its documentation, the checkov ids it matches and its check functions.

    ``resource_check`` runs per resource (a pack ResourceValidationPolicy); ``stack_check`` runs
    on the whole stack for correlations (a pack StackValidationPolicy). ``protected_only``
    policies apply only to resources in protected environments ("production endpoints ...").
    """

    id: str
    title: str
    description: str
    remediation: str
    resource_types: Mapping[str, tuple[str, ...]]
    checkov_ids: tuple[str, ...] = ()
    resource_check: ResourceCheck | None = None
    stack_check: StackCheck | None = None
    protected_only: bool = False
    config_properties: tuple[str, ...] = ()
