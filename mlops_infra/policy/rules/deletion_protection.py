"""deletion-protection: stateful resources are protected and retained in protected environments,
and buckets keep object versions everywhere.

Stateful types are the conventions' list (``conventions.protection.STATEFUL_TYPES``): the stack
transform sets ``protect`` and ``retainOnDelete`` on exactly these. A policy pack cannot see
``retainOnDelete``, so the pack checks ``protect`` only; the offline check checks both.
S3 bucket versioning is a stack-level correlation (``stack_rules.s3_bucket_versioning``).
"""

from __future__ import annotations

from collections.abc import Iterator

from mlops_infra.conventions.protection import STATEFUL_TYPES
from mlops_infra.policy.context import RuleContext, StackContext
from mlops_infra.policy.model import Finding, ResourceView, StackView
from mlops_infra.policy.rules.common import subject
from mlops_infra.policy.spec import PolicySpec
from mlops_infra.policy.stack_rules import namespace_protection, s3_bucket_versioning
from mlops_infra.policy.values import get, is_set, is_true

ID = "deletion-protection"
GCS_BUCKET = "gcp:storage/bucket:Bucket"


def _protection(view: ResourceView, ctx: RuleContext) -> Iterator[Finding]:
    if view.name in ctx.config.protection_exemptions:
        return  # left unprotected on purpose, by name, in the platform settings (reviewable in stack config)
    where = f"{subject(view)} (environment {ctx.environment or 'unknown'}) holds data, models or keys"
    if view.options.protect is False:
        yield Finding(
            f"{where} but protect is off, so `pulumi destroy` or a replacement deletes it. Call init_platform() "
            "first (its stack transform protects stateful resources) or pass "
            "ResourceOptions(protect=True, retain_on_delete=True)."
        )
    elif view.options.retain_on_delete is False:
        yield Finding(
            f"{where} but retainOnDelete is off, so removing it from the program deletes the cloud resource. "
            "Pass ResourceOptions(retain_on_delete=True) (init_platform does)."
        )


def _gcs_versioning(view: ResourceView, ctx: RuleContext) -> Iterator[Finding]:
    if is_true(get(view.props, "versioning.enabled"), "versioning.enabled") or is_set(
        view.props.get("retentionPolicy")
    ):
        return
    yield Finding(
        f"{subject(view)}: objects are not versioned, so an overwrite or delete loses data. Set "
        "versioning.enabled: true (or a retentionPolicy)."
    )


def check(view: ResourceView, ctx: RuleContext) -> Iterator[Finding]:
    with ctx.unknowns():
        if view.type in STATEFUL_TYPES and ctx.protected:
            yield from _protection(view, ctx)
        if view.type == GCS_BUCKET:
            yield from _gcs_versioning(view, ctx)


def _by_cloud() -> dict[str, tuple[str, ...]]:
    grouped: dict[str, list[str]] = {}
    for token in sorted(STATEFUL_TYPES):
        grouped.setdefault(token.split(":")[0], []).append(token)
    grouped["kubernetes"].append("kubernetes:core/v1:Namespace (holding PersistentVolumeClaims)")
    return {cloud: tuple(tokens) for cloud, tokens in grouped.items()}


def _stack_check(stack: StackView, ctx: StackContext) -> Iterator[Finding]:
    yield from s3_bucket_versioning(stack, ctx)
    yield from namespace_protection(stack, ctx)


SPEC = PolicySpec(
    id=ID,
    title="Stateful resources protected and retained; buckets versioned",
    description=(
        "In protected environments every stateful resource (KMS keys, buckets, feature groups and stores, model "
        "registries, datasets, repositories, volumes) has protect and retainOnDelete, unless the platform settings "
        "exempt it by logical name (protectionExemptions); a Kubernetes Namespace holding PersistentVolumeClaims is "
        "protected and retained too, since deleting a namespace deletes the claims inside. In every environment S3 "
        "buckets have versioning Enabled (inline or through BucketVersioning) and GCS buckets versioning.enabled."
    ),
    remediation="Call init_platform() first: it protects stateful resources in protected environments.",
    resource_types=_by_cloud(),
    resource_check=check,
    stack_check=_stack_check,
)
