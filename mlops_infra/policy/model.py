"""The vocabulary of the rule library: policy ids, enforcement, what a rule sees and what it reports.

Vocabulary only: a policy's definition and the signatures of its checks live in ``policy.spec``
(they need the rule context, which needs the config, which needs these ids).

Rules see a :class:`ResourceView`: the type token, the props in Pulumi wire format (camelCase,
exactly as the engine or a policy pack receives them) and the resource options. The offline check
builds views from a captured stack, the policy pack from ``pulumi_policy`` arguments, so both run
the same functions.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from typing import Any, Literal

from mlops_infra.conventions.taggable import tag_property
from mlops_infra.policy.stack_index import StackIndex
from mlops_infra.policy.values import UnknownValue, is_unknown

# The documented, stable policy ids (architecture contract).
PolicyId = Literal[
    "encryption-at-rest",
    "key-rotation",
    "encryption-in-transit",
    "required-tags",
    "no-public-access",
    "network-isolation",
    "least-privilege-iam",
    "data-capture",
    "model-approval",
    "deletion-protection",
    "deployment-safety",
    "monitoring-required",
    "alert-routing",
    "allowed-instance-types",
    "budget-required",
    "cost-budget",
    "k8s-pod-security",
    "k8s-namespace-guardrails",
    "log-retention",
    "audit-logging",
    "helm-chart-pinned",
]
POLICY_IDS: tuple[str, ...] = PolicyId.__args__  # type: ignore[attr-defined]


class Enforcement(StrEnum):
    """What a violation does: block the deploy (mandatory), warn (advisory), or nothing (disabled)."""

    MANDATORY = "mandatory"
    ADVISORY = "advisory"
    DISABLED = "disabled"


@dataclass(frozen=True)
class Violation:
    """One broken rule on one resource (or on the stack). ``note`` marks a check skipped on unknowns."""

    policy_id: str
    enforcement: Enforcement
    urn: str
    resource_type: str
    message: str
    note: bool = False

    def to_json(self) -> dict[str, Any]:
        """The documented JSON contract: exactly these five keys."""
        return {
            "policy_id": self.policy_id,
            "enforcement": self.enforcement.value,
            "urn": self.urn,
            "resource_type": self.resource_type,
            "message": self.message,
        }


@dataclass(frozen=True)
class ViewOptions:
    """Resource options a rule may read. ``None`` means the source cannot tell (policy packs
    do not see ``retainOnDelete``)."""

    protect: bool | None = False
    retain_on_delete: bool | None = False
    parent: str | None = None
    provider_props: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class ResourceView:
    """A resource as a rule sees it: type token, wire-format props, URN, logical name, options."""

    type: str
    props: Mapping[str, Any]
    urn: str
    name: str
    options: ViewOptions = field(default_factory=ViewOptions)
    dependencies: tuple[str, ...] = ()
    custom: bool = True

    @property
    def package(self) -> str:
        """``aws``, ``gcp``, ``kubernetes``, ``pulumi`` (providers) or a component package."""
        return self.type.split(":", 1)[0]

    @property
    def kind(self) -> str:
        """The last part of the type token: ``Bucket``, ``Deployment``, ``InferenceService``."""
        return self.type.rsplit(":", 1)[-1]

    def label_map(self) -> Mapping[str, Any]:
        """Tags (AWS), labels (GCP) or metadata.labels (Kubernetes); {} when the type has none."""
        prop = tag_property(self.type) if self.type.count(":") == 2 else None
        if prop is None:
            return {}
        if prop == "metadata.labels":
            return self._metadata_map("labels")
        value = self.props.get(prop)
        if is_unknown(value):
            raise UnknownValue(value, prop)
        return value if isinstance(value, Mapping) else {}

    def annotations(self) -> Mapping[str, Any]:
        """Kubernetes metadata.annotations ({} for other clouds)."""
        return self._metadata_map("annotations") if self.package == "kubernetes" else {}

    def _metadata_map(self, key: str) -> Mapping[str, Any]:
        metadata = self.props.get("metadata")
        if is_unknown(metadata):
            raise UnknownValue(metadata, "metadata")
        value = metadata.get(key) if isinstance(metadata, Mapping) else None
        if is_unknown(value):
            raise UnknownValue(value, f"metadata.{key}")
        return value if isinstance(value, Mapping) else {}

    def k8s_name(self) -> str:
        """metadata.name, else the logical name (what the engine derives the object name from)."""
        metadata = self.props.get("metadata")
        name = metadata.get("name") if isinstance(metadata, Mapping) else None
        return name if isinstance(name, str) and not is_unknown(name) else self.name

    def k8s_namespace(self) -> str | None:
        """metadata.namespace when known."""
        metadata = self.props.get("metadata")
        namespace = metadata.get("namespace") if isinstance(metadata, Mapping) else None
        return namespace if isinstance(namespace, str) and not is_unknown(namespace) else None


@dataclass(frozen=True)
class StackView:
    """Every resource of a stack plus its config: what stack-level rules and correlations read.

    ``index`` (built on first use, once per view) answers by type, URN, dependency and reference
    value without scanning the stack; see ``policy/stack_index.py`` and docs/architecture.md.
    """

    resources: tuple[ResourceView, ...]
    config: Mapping[str, Any]
    stack_urn: str

    @cached_property
    def index(self) -> StackIndex:
        """The stack's one index (by type, URN, dependency, reference value)."""
        return StackIndex(self.resources)

    def by_type(self, *type_tokens: str) -> list[ResourceView]:
        """Resources of any of ``type_tokens``, in stack order (an index lookup)."""
        return self.index.of_type(*type_tokens)

    def custom(self) -> list[ResourceView]:
        """Cloud resources: no components, no providers."""
        return list(
            self.index.memo("custom", lambda: [r for r in self.resources if r.custom and r.package not in ("pulumi",)])
        )

    def find(self, urn: str) -> ResourceView | None:
        """The resource with ``urn`` (an index lookup)."""
        return self.index.by_urn(urn)


def stack_urn_for(project: str, stack: str) -> str:
    """The URN of the root ``pulumi:pulumi:Stack`` resource, as the engine builds it."""
    return f"urn:pulumi:{stack}::{project}::pulumi:pulumi:Stack::{project}-{stack}"


def stack_urn_from(resource_urns: Iterable[str]) -> str:
    """The root stack URN derived from any resource URN of the same stack (empty stack: '')."""
    for urn in resource_urns:
        parts = urn.split("::")
        if len(parts) >= 4 and parts[0].startswith("urn:pulumi:"):
            return stack_urn_for(parts[1], parts[0].removeprefix("urn:pulumi:"))
    return ""


@dataclass(frozen=True)
class Finding:
    """What a rule reports: the message (what is wrong, how to fix it, naming the property).

    Stack rules also say which resource it concerns (``urn`` and ``resource_type``); resource
    rules leave them empty and the evaluator fills in the resource being checked.
    """

    message: str
    urn: str | None = None
    resource_type: str | None = None
