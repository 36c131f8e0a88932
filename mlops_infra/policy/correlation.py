"""Which resource another resource targets: a bucket policy its bucket, a quota its namespace.

A reference is matched by value when it is known (the ``bucket`` prop equals the bucket's name,
id or ARN), and by dependency when it is not (during preview a new bucket's name is unknown,
but the engine still records that the policy depends on the bucket).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from mlops_infra.policy.model import ResourceView, StackView
from mlops_infra.policy.values import is_unknown

S3_BUCKET_TYPES = ("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2")
# A bucket ARN names the bucket in whichever partition it lives (commercial, China, GovCloud, ISO).
AWS_PARTITIONS = ("aws", "aws-cn", "aws-us-gov", "aws-iso", "aws-iso-b", "aws-iso-e", "aws-iso-f", "aws-eusc")
S3_ARN_PREFIXES = tuple(f"arn:{partition}:s3:::" for partition in AWS_PARTITIONS)


def identifiers(view: ResourceView, *props: str) -> set[str]:
    """Known values that name ``view``: the given props, plus the logical name when no name prop is set.

    The logical name stands in for the auto-generated physical name the offline engine derives from it.
    """
    found = {str(view.props[p]) for p in props if isinstance(view.props.get(p), str) and not is_unknown(view.props[p])}
    if not found:
        found.add(view.name)
    return found


def bucket_identifiers(bucket: ResourceView) -> set[str]:
    names = identifiers(bucket, "bucket", "id")
    return (
        names
        | {f"{prefix}{n}" for prefix in S3_ARN_PREFIXES for n in names}
        | ({str(bucket.props["arn"])} if isinstance(bucket.props.get("arn"), str) else set())
    )


def refers_to(ref: ResourceView, prop_value: Any, target: ResourceView, target_ids: set[str]) -> bool:
    """True when ``ref`` points at ``target``: by known value, else by dependency on its URN."""
    if isinstance(prop_value, str) and not is_unknown(prop_value):
        return prop_value in target_ids
    return target.urn in ref.dependencies


def referrers(
    stack: StackView, target: ResourceView, types: Iterable[str], prop: str, target_ids: set[str]
) -> list[ResourceView]:
    """Resources of ``types`` whose ``prop`` points at ``target``, in stack order (``refers_to`` for each,
    answered from the stack's index: by known value, else by dependency)."""
    return stack.index.referring(tuple(types), prop, target_ids, target.urn)


def in_namespace(obj: ResourceView, namespace: ResourceView) -> bool:
    """A namespaced Kubernetes object inside the Namespace resource ``namespace``."""
    metadata = obj.props.get("metadata")
    value = metadata.get("namespace") if isinstance(metadata, Mapping) else None
    return refers_to(obj, value, namespace, {namespace.k8s_name()})


def mentions(document: Any, needles: set[str]) -> bool:
    """True when any string inside ``document`` contains one of ``needles`` (names in filters, queries)."""
    if isinstance(document, str):
        return any(n and n in document for n in needles)
    if isinstance(document, Mapping):
        return any(mentions(v, needles) for v in document.values())
    if isinstance(document, (list, tuple)):
        return any(mentions(v, needles) for v in document)
    return False
