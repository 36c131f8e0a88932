"""Which property of a provider resource carries its tags or labels (the resource's own metadata).

Answered from the provider SDKs themselves: each resource class's constructor is inspected, so new
provider resource types are covered without a hand-written list. A property only counts when it is
a map of strings: some types use the same name for something else (``gcp.monitoring.MetricDescriptor
.labels`` is a list of label descriptors, ``aws.autoscaling.Group.tags`` a list of tag blocks).
Where the map is not the resource's labels, or the labels have another name, the type is listed in
:data:`PROPERTY_OVERRIDES`.

Importing a provider SDK's subpackages costs seconds to tens of seconds each, which a policy pack
would pay on its first Analyze call. So the answers for the installed SDK versions are generated
into ``tag_properties.json`` (``scripts/generate_tag_properties.py``) and read from there while the
installed versions match the recorded ones; otherwise the SDK is inspected as above.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import json
from collections.abc import Callable, Mapping
from importlib import metadata, resources
from typing import Any

from pulumi.runtime import rpc

# (Python parameter, wire path) of the tag property, per provider package, in order of preference.
# GCP Cloud Monitoring resources (AlertPolicy, Slo, UptimeCheckConfig, NotificationChannel, ...) call
# their resource labels userLabels; GKE clusters call theirs resourceLabels.
_TAG_PROPERTIES: dict[str, tuple[tuple[str, str], ...]] = {
    "aws": (("tags", "tags"),),
    "gcp": (("user_labels", "userLabels"), ("labels", "labels"), ("resource_labels", "resourceLabels")),
    "kubernetes": (("metadata", "metadata.labels"),),
}

# Types whose constructor has a tag-like map that is not (or not only) the resource's own labels.
PROPERTY_OVERRIDES: dict[str, str | None] = {
    # `labels` are the channel's settings (email_address, channel_name, ...); its labels are userLabels.
    "gcp:monitoring/notificationChannel:NotificationChannel": "userLabels",
    # `labels` declares the metric's label keys (a list of {key, valueType, description}).
    "gcp:monitoring/metricDescriptor:MetricDescriptor": None,
    # `labels` is a list of {key, value} blocks, not a map.
    "gcp:deploymentmanager/deployment:Deployment": None,
    # `labels` says which kind of group it is ({"cloudidentity.googleapis.com/groups.discussion_forum": ""}).
    "gcp:cloudidentity/group:Group": None,
    # `labels` are Dialogflow's intent labels (sys-head, sys-contextual), read by the agent, not resource labels.
    "gcp:diagflow/cxIntent:CxIntent": None,
}

# Provider package of each type-token package; imported on demand so the answer never depends on
# whether the program happened to import the SDK first (a policy pack never does).
SDK_MODULES = {"aws": "pulumi_aws", "gcp": "pulumi_gcp", "kubernetes": "pulumi_kubernetes"}
TABLE_FILE = "tag_properties.json"


def _resource_class(type_token: str) -> type | None:
    package, module, _ = type_token.split(":", 2)
    if package in SDK_MODULES:
        importlib.import_module(SDK_MODULES[package])  # registers its resource modules
    for resource_module in rpc._RESOURCE_MODULES.get(f"{package}:{module}", []):
        info = getattr(resource_module, "mod_info", None)
        if not info or type_token not in info.get("classes", {}):
            continue
        return getattr(importlib.import_module(info["fqn"]), info["classes"][type_token], None)
    return None


def _is_string_map(parameter: inspect.Parameter) -> bool:
    """True when the constructor parameter is typed as a map of strings (what tags and labels are)."""
    annotation = parameter.annotation
    if annotation is inspect.Parameter.empty:
        return True  # untyped: trust the name
    return "Mapping[str" in str(annotation)


def fallback_tag_property(type_token: str) -> str | None:
    """The answer for a type the SDK has no class for: Kubernetes custom resources carry object metadata."""
    package, module = type_token.split(":")[:2]
    return "metadata.labels" if package == "kubernetes" and "/" in module else None


def introspected_tag_property(type_token: str) -> str | None:
    """:func:`tag_property` answered by inspecting the provider SDK (imports it)."""
    if type_token in PROPERTY_OVERRIDES:
        return PROPERTY_OVERRIDES[type_token]
    package = type_token.split(":", 1)[0]
    candidates = _TAG_PROPERTIES.get(package)
    if not candidates or type_token.count(":") != 2:
        return None
    cls = _resource_class(type_token)
    if cls is None:
        # Kubernetes CustomResources ("kubernetes:serving.kserve.io/v1beta1:InferenceService")
        # have no SDK class but always carry object metadata.
        return fallback_tag_property(type_token)
    init: Callable[..., Any] = getattr(cls, "_internal_init", None) or cls.__init__  # type: ignore[misc]
    parameters = inspect.signature(init).parameters
    for python_name, wire_path in candidates:
        parameter = parameters.get(python_name)
        if parameter is not None and (wire_path == "metadata.labels" or _is_string_map(parameter)):
            return wire_path
    return None


@functools.cache
def _table() -> Mapping[str, Any]:
    """The generated table (``{"sdks": {module: version}, "types": {token: path or null}}``)."""
    text = resources.files("mlops_infra.conventions").joinpath(TABLE_FILE).read_text(encoding="utf-8")
    return dict(json.loads(text))


@functools.cache
def _table_matches(package: str) -> bool:
    """True when the installed SDK of ``package`` is the version the table was generated from."""
    module = SDK_MODULES.get(package)
    if module is None:
        return False
    try:
        installed = metadata.version(module.replace("_", "-"))
    except metadata.PackageNotFoundError:
        return False
    return bool(_table()["sdks"].get(module) == installed)


@functools.cache
def tag_property(type_token: str) -> str | None:
    """The wire path of the type's tags or labels: ``tags``, ``labels``, ``userLabels``,
    ``resourceLabels`` or ``metadata.labels``; None when the type has none."""
    if type_token in PROPERTY_OVERRIDES:
        return PROPERTY_OVERRIDES[type_token]
    package = type_token.split(":", 1)[0]
    if package not in _TAG_PROPERTIES or type_token.count(":") != 2:
        return None
    if _table_matches(package):
        types: Mapping[str, str | None] = _table()["types"]
        return types[type_token] if type_token in types else fallback_tag_property(type_token)
    return introspected_tag_property(type_token)
