"""The stack transform: required tags/labels on every taggable resource, protection on stateful ones.

It runs on every resource of the stack, the components' children and the user's own raw
resources alike, as Pulumi's engine calls resource transforms for all registrations. mlops-infra
component resources get the stack's ``environment`` and ``protected`` as inputs (no tags: components
have no cloud properties).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pulumi

from mlops_infra.config.platform import PlatformSettings
from mlops_infra.conventions.labels import gcp_labels, k8s_labels
from mlops_infra.conventions.protection import is_stateful
from mlops_infra.conventions.taggable import tag_property


def _merge(defaults: dict[str, str], existing: Any) -> Any:
    """Defaults under the resource's own tags; an unknown (computed) value is left alone."""
    if existing is None:
        return dict(defaults)
    if isinstance(existing, dict):
        return {**defaults, **existing}
    return existing


def tagged_props(type_token: str, props: Mapping[str, Any], tags: dict[str, str]) -> Mapping[str, Any]:
    """``props`` with ``tags`` merged into the type's tag property (if it has one).

    The property is the type's own (``tag_property``): ``tags`` on AWS, ``labels``/``userLabels``/
    ``resourceLabels`` on GCP (values made label-safe), ``metadata.labels`` on Kubernetes.
    """
    prop = tag_property(type_token)
    if prop is None:
        return props
    if prop != "metadata.labels":
        values = gcp_labels(tags) if type_token.startswith("gcp:") else tags
        return {**props, prop: _merge(values, props.get(prop))}
    metadata = props.get("metadata")
    if metadata is not None and not isinstance(metadata, dict):
        return props
    metadata = dict(metadata or {})
    metadata["labels"] = _merge(k8s_labels(tags), metadata.get("labels"))
    return {**props, "metadata": metadata}


# Component resources of this library carry the stack's environment and its protection as their own
# inputs, so the decision travels in the resource graph: the offline engine and policy packs read it
# there (from a resource's ancestors) instead of from this library's in-process state.
COMPONENT_PACKAGE = "mlops-infra"
ENVIRONMENT_INPUT = "environment"
PROTECTED_INPUT = "protected"


def platform_inputs(settings: PlatformSettings) -> dict[str, Any]:
    """The inputs every mlops-infra component resource carries: ``environment`` and ``protected``."""
    return {ENVIRONMENT_INPUT: settings.environment.value, PROTECTED_INPUT: settings.is_protected}


def make_stack_transform(settings: PlatformSettings) -> Callable[[pulumi.ResourceTransformArgs], Any]:
    """Build the transform for ``settings``; register it with ``register_resource_transform``."""
    tags = settings.required_tags()
    stamp = platform_inputs(settings)

    def apply_conventions(args: pulumi.ResourceTransformArgs) -> pulumi.ResourceTransformResult | None:
        if not args.custom:
            if args.type_.split(":", 1)[0] != COMPONENT_PACKAGE:
                return None
            return pulumi.ResourceTransformResult(props={**stamp, **dict(args.props or {})}, opts=args.opts)
        # The same object back where nothing is tagged: the engine then has nothing to serialize again.
        props = tagged_props(args.type_, args.props, tags)
        opts = args.opts
        if settings.is_protected and is_stateful(args.type_) and args.name not in settings.protection_exemptions:
            opts = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(protect=True, retain_on_delete=True))
        return pulumi.ResourceTransformResult(props=props, opts=opts)

    return apply_conventions
