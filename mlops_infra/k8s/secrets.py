"""Kubernetes Secrets whose values are Pulumi secrets.

Values are always wrapped in ``pulumi.Output.secret``, so they are encrypted in the Pulumi
state and masked in previews and plans. Workloads read them through ``secretKeyRef`` env
vars or Secret volumes: a value never appears in a ConfigMap, a container arg or an env literal.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from mlops_infra.component import PlatformComponent
from mlops_infra.k8s.objects import metadata

SecretInput = str | pulumi.Output[str]


def as_secret(value: pulumi.Input[str]) -> pulumi.Output[str]:
    """``value`` as a secret Output, whatever it was given as (plain str, Output, secret Output)."""
    return pulumi.Output.secret(value)


def opaque_secret(  # noqa: PLR0917 - (owner, suffix, name, namespace, labels, ...) like every helper here
    owner: PlatformComponent[Any],
    suffix: str,
    name: str,
    namespace: pulumi.Input[str],
    labels: Mapping[str, str],
    values: Mapping[str, pulumi.Input[str]],
) -> k8s.core.v1.Secret:
    """An Opaque Secret holding ``values`` (each one a Pulumi secret)."""
    if not values:
        raise ValueError("a Secret needs at least one value")
    return k8s.core.v1.Secret(
        owner.child_name(suffix),
        metadata=metadata(name, namespace, labels),
        type="Opaque",
        string_data={key: as_secret(value) for key, value in values.items()},
        opts=owner.child_opts(additional_secret_outputs=["data", "stringData"]),
    )
