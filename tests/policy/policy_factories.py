"""Builders for rule tests: resource views, stack views and one-policy evaluations."""

from __future__ import annotations

from typing import Any

from mlops_infra.policy.config import PolicyConfig
from mlops_infra.policy.evaluate import resource_violations, stack_violations
from mlops_infra.policy.model import ResourceView, StackView, ViewOptions, Violation, stack_urn_for
from mlops_infra.policy.rules import REGISTRY

PROJECT = "churn"
AWS_TAGS = {"project": "churn", "environment": "prod", "owner": "ml-platform", "cost-center": "cc-1234"}
GCP_LABELS = dict(AWS_TAGS)
K8S_LABELS = dict(AWS_TAGS)
KEY_ARN = "arn:aws:kms:us-east-1:123456789012:key/0f1e2d3c-aaaa-bbbb-cccc-0123456789ab"
GCP_KEY = "projects/p/locations/us-central1/keyRings/ring/cryptoKeys/key"


def urn(type_token: str, name: str, stack: str = "prod") -> str:
    return f"urn:pulumi:{stack}::{PROJECT}::{type_token}::{name}"


def view(
    type_token: str,
    props: dict[str, Any] | None = None,
    *,
    name: str = "res",
    protect: bool | None = False,
    retain: bool | None = False,
    provider_props: dict[str, Any] | None = None,
    dependencies: tuple[str, ...] = (),
) -> ResourceView:
    return ResourceView(
        type=type_token,
        props=props or {},
        urn=urn(type_token, name),
        name=name,
        options=ViewOptions(protect=protect, retain_on_delete=retain, provider_props=provider_props),
        dependencies=dependencies,
    )


def env_config(environment: str | None) -> dict[str, Any]:
    return {f"{PROJECT}:environment": environment} if environment else {}


def check(
    policy_id: str, resource: ResourceView, environment: str | None = "prod", config: PolicyConfig | None = None
) -> list[Violation]:
    """Violations of one policy's resource rule (notes included)."""
    return resource_violations(REGISTRY[policy_id], resource, env_config(environment), config or PolicyConfig())


def check_stack(
    policy_id: str, *resources: ResourceView, environment: str | None = "prod", config: PolicyConfig | None = None
) -> list[Violation]:
    stack = StackView(tuple(resources), env_config(environment), stack_urn_for(PROJECT, environment or "dev"))
    return stack_violations(REGISTRY[policy_id], stack, config or PolicyConfig())


def findings(violations: list[Violation]) -> list[Violation]:
    """Real findings (skipped-check notes removed)."""
    return [v for v in violations if not v.note]
