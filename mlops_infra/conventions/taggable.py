"""Which property of a provider resource carries tags or labels.

Answered from the provider SDKs themselves: each resource class's constructor is
inspected, so new provider resource types are covered without a hand-written list.
"""

from __future__ import annotations

import functools
import importlib
import inspect
from collections.abc import Callable
from typing import Any

from pulumi.runtime import rpc

# Wire name of the tag property, per provider package, in order of preference.
_TAG_PROPERTIES: dict[str, tuple[tuple[str, str], ...]] = {
    "aws": (("tags", "tags"),),
    "gcp": (("labels", "labels"),),
    "kubernetes": (("metadata", "metadata.labels"),),
}


# Provider package of each type-token package; imported on demand so the answer never depends on
# whether the program happened to import the SDK first (a policy pack never does).
_SDK_MODULES = {"aws": "pulumi_aws", "gcp": "pulumi_gcp", "kubernetes": "pulumi_kubernetes"}


def _resource_class(type_token: str) -> type | None:
    package, module, _ = type_token.split(":", 2)
    if package in _SDK_MODULES:
        importlib.import_module(_SDK_MODULES[package])  # registers its resource modules
    for resource_module in rpc._RESOURCE_MODULES.get(f"{package}:{module}", []):
        info = getattr(resource_module, "mod_info", None)
        if not info or type_token not in info.get("classes", {}):
            continue
        return getattr(importlib.import_module(info["fqn"]), info["classes"][type_token], None)
    return None


@functools.cache
def tag_property(type_token: str) -> str | None:
    """``"tags"``, ``"labels"`` or ``"metadata.labels"`` when the resource type takes them, else None."""
    package = type_token.split(":", 1)[0]
    candidates = _TAG_PROPERTIES.get(package)
    if not candidates or type_token.count(":") != 2:
        return None
    cls = _resource_class(type_token)
    if cls is None:
        # Kubernetes CustomResources ("kubernetes:serving.kserve.io/v1beta1:InferenceService")
        # have no SDK class but always carry object metadata.
        module = type_token.split(":")[1]
        return "metadata.labels" if package == "kubernetes" and "/" in module else None
    init: Callable[..., Any] = getattr(cls, "_internal_init", None) or cls.__init__  # type: ignore[misc]
    parameters = inspect.signature(init).parameters
    for python_name, wire_path in candidates:
        if python_name in parameters:
            return wire_path
    return None
