"""required-tags: every taggable resource carries the required tags (AWS), labels (GCP) or
metadata.labels (Kubernetes), with non-empty values.

Which types are taggable is answered from the provider SDKs (``conventions.taggable``), so new
resource types are covered without a list. Tags an AWS provider adds through ``defaultTags`` and
labels a GCP provider adds through ``defaultLabels`` count.

Only a type's own resource labels are judged: Cloud Monitoring types keep theirs in ``userLabels``
(a NotificationChannel's ``labels`` are its settings, such as ``email_address``), GKE clusters in
``resourceLabels``, and types whose ``labels`` are something else are listed in
``conventions.taggable.PROPERTY_OVERRIDES``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

from mlops_infra.conventions.labels import gcp_label
from mlops_infra.conventions.taggable import tag_property
from mlops_infra.policy.context import RuleContext
from mlops_infra.policy.model import Finding, ResourceView
from mlops_infra.policy.rules.common import subject
from mlops_infra.policy.spec import PolicySpec
from mlops_infra.policy.values import is_unknown

ID = "required-tags"
PROVIDER_DEFAULTS = {"aws": ("defaultTags", "tags"), "gcp": ("defaultLabels", None)}


def _provider_defaults(view: ResourceView) -> Mapping[str, Any]:
    key, inner = PROVIDER_DEFAULTS.get(view.package, (None, None))
    value = (view.options.provider_props or {}).get(key) if key else None
    if isinstance(value, str) and not is_unknown(value):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            return {}
    if isinstance(value, Mapping) and inner is not None:
        value = value.get(inner)
    return value if isinstance(value, Mapping) else {}


def check(view: ResourceView, ctx: RuleContext) -> Iterator[Finding]:
    if not view.custom or view.type.count(":") != 2:
        return
    prop = tag_property(view.type)
    if prop is None:
        return
    with ctx.unknowns():
        tags = {**_provider_defaults(view), **view.label_map()}
        keys = [gcp_label(k) if view.package == "gcp" else k for k in ctx.config.required_tag_keys]
        missing = [k for k in keys if k not in tags or (not is_unknown(tags[k]) and not str(tags[k]).strip())]
        if missing:
            noun = {"tags": "tags", "labels": "labels"}.get(prop, "labels")
            yield Finding(
                f"{subject(view)}: missing required {noun} {', '.join(missing)}. Set {prop} "
                f"({', '.join(f'{k}: ...' for k in missing)}), or call init_platform() first so the stack "
                "transform adds them to every resource."
            )


SPEC = PolicySpec(
    id=ID,
    title="Required tags and labels on every resource",
    description=(
        "Every taggable resource has the required keys (default project, environment, owner, cost-center) with "
        "non-empty values: AWS tags (provider defaultTags count), GCP labels (provider defaultLabels count, keys "
        "in label-safe form) and Kubernetes metadata.labels. Cost reports and ownership depend on them."
    ),
    remediation="Call mlops_infra.conventions.init_platform() first, or set tags/labels on raw resources.",
    resource_types={
        "aws": ("every aws:* resource with a tags input",),
        "gcp": ("every gcp:* resource with a labels input",),
        "kubernetes": ("every kubernetes:* object (metadata.labels), custom resources included",),
    },
    resource_check=check,
    config_properties=("requiredTagKeys",),
)
