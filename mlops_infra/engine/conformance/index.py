"""Type token -> the installed provider SDK's Args class, found offline through the SDK's own registry.

Each provider SDK registers its resource modules with the Pulumi runtime when imported
(``_utilities.register``: module ``fqn`` and ``classes`` by type token); the Args class of
``Endpoint`` is ``EndpointArgs`` in the module that defines ``Endpoint``. Looked up once per token
and cached.
"""

from __future__ import annotations

import functools
import importlib
import sys
from dataclasses import dataclass
from importlib import metadata

from pulumi._types import is_input_type
from pulumi.runtime import rpc

# The packages validated here: package of the type token -> the SDK distribution and module.
SDKS: dict[str, tuple[str, str]] = {
    "aws": ("pulumi-aws", "pulumi_aws"),
    "gcp": ("pulumi-gcp", "pulumi_gcp"),
    "kubernetes": ("pulumi-kubernetes", "pulumi_kubernetes"),
}


@dataclass(frozen=True)
class Lookup:
    """What the index knows of one type token: an Args class, a reason to skip it, or an unknown type."""

    args_class: type | None = None
    skip_reason: str | None = None  # not validated here, and why
    unknown: str | None = None  # the SDK has no such resource: a preview refuses it


def sdk_label(package: str) -> str:
    """``pulumi-aws 7.51.1``: the distribution whose types the inputs are checked against."""
    distribution = SDKS[package][0]
    try:
        return f"{distribution} {metadata.version(distribution)}"
    except metadata.PackageNotFoundError:
        return distribution


# Groups under .k8s.io that Kubernetes SIGs ship as CRDs, not built into the API server.
K8S_IO_CRD_GROUPS = frozenset({"gateway.networking.k8s.io"})


def _kubernetes_group_is_builtin(module: str) -> bool:
    """Built-in API groups have no dot (``apps``, ``core``) or end in ``.k8s.io``; CRD groups are other domains.

    Gateway API (``gateway.networking.k8s.io``) is the exception: installed as CRDs, so skipped like them.
    """
    group = module.split("/", maxsplit=1)[0]
    return group not in K8S_IO_CRD_GROUPS and ("." not in group or group.endswith(".k8s.io"))


def _not_in_sdk(package: str, token: str, module: str) -> Lookup:
    if package == "kubernetes" and not _kubernetes_group_is_builtin(module):
        return Lookup(
            skip_reason="Kubernetes custom resource: its schema is its CRD's, not in pulumi-kubernetes "
            "(the shipped kinds are checked against vendored CRD schemas by the k8s manifest tests)"
        )
    return Lookup(unknown=f"{sdk_label(package)} has no resource type {token}")


@functools.cache
def lookup(token: str) -> Lookup:
    """The Args class of the custom resource type ``token`` (``aws:sagemaker/endpoint:Endpoint``)."""
    parts = token.split(":")
    package = parts[0]
    if package == "pulumi" and parts[1:2] == ["providers"]:
        return Lookup(skip_reason="provider configuration is not validated")
    if package == "pulumi-python" and parts[1:2] and parts[1].startswith("dynamic"):
        return Lookup(skip_reason="dynamic provider: its inputs are its own Python code's, with no provider schema")
    if package not in SDKS:
        return Lookup(skip_reason=f"no installed SDK index for package {package!r} (validated: aws, gcp, kubernetes)")
    if len(parts) != 3:
        return Lookup(unknown=f"{token!r} is not a type token (package:module:Type)")
    try:
        importlib.import_module(SDKS[package][1])  # registers its resource modules
    except ImportError:
        return Lookup(skip_reason=f"{SDKS[package][0]} is not installed")
    registered = rpc.get_resource_module(package, parts[1], "")
    mod_info = getattr(registered, "mod_info", None) or {}
    class_name = mod_info.get("classes", {}).get(token)
    if class_name is None:
        return _not_in_sdk(package, token, parts[1])
    resource_class = getattr(importlib.import_module(mod_info["fqn"]), class_name)
    args_class = _args_class(resource_class, class_name)
    if args_class is None:
        return Lookup(skip_reason=f"{sdk_label(package)} has no Args class for {token}")
    return Lookup(args_class=args_class)


def _args_class(resource_class: type, class_name: str) -> type | None:
    """``<Name>Args`` defined in the resource's own module, or ``<Name>InitArgs`` where that name is taken.

    The package namespace may export a nested input type of the resource's Args name
    (``pulumi_aws.s3.BucketVersioningArgs`` is the legacy Bucket's block; the resource's is
    ``BucketVersioningInitArgs``), so only a class defined next to the resource counts.
    """
    module = sys.modules[resource_class.__module__]
    for name in (f"{class_name}InitArgs", f"{class_name}Args"):
        candidate = getattr(module, name, None)
        if isinstance(candidate, type) and candidate.__module__ == module.__name__ and is_input_type(candidate):
            return candidate
    return None
