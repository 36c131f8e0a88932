"""``MlPlatform``: one cloud-neutral spec, realized on each target cloud by that cloud's components."""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Protocol, cast

import pulumi

from mlops_infra.conventions.context import PlatformContext, current_platform
from mlops_infra.realization import RealizeContext
from mlops_infra.spec.cloud import Cloud
from mlops_infra.spec.environment import environment_defaults
from mlops_infra.spec.load import load_spec
from mlops_infra.spec.platform import PlatformSpec

TYPE_TOKEN = "mlops-infra:index:MlPlatform"


class _CloudRealizer(Protocol):
    check: Callable[[PlatformSpec, RealizeContext], None]
    realize: Callable[[pulumi.ComponentResource, PlatformSpec, RealizeContext], Mapping[str, Any]]


def _realizer(cloud: Cloud) -> _CloudRealizer:
    """The cloud's realize module, imported only when the platform targets it (no unused SDK loads)."""
    return cast(_CloudRealizer, importlib.import_module(f"mlops_infra.{cloud.value}.realize"))


class MlPlatform(pulumi.ComponentResource):
    """The whole platform on every cloud in ``spec.clouds``.

    The spec is validated, and every target checks it can realize it, before anything is
    registered. The environment (and so protection, approval, rollout, capture and monitoring
    defaults) comes from the stack's platform settings. ``environment`` and ``protected`` are the
    component's own inputs, so policies see them on every descendant's ancestor.
    """

    outputs: pulumi.Output[dict[str, Any]]
    """Per cloud, the realized parts' names (feature store, pipeline, registry, endpoints, budget)."""

    def __init__(
        self,
        name: str,
        spec: PlatformSpec | Mapping[str, Any],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        self.spec: PlatformSpec = spec if isinstance(spec, PlatformSpec) else PlatformSpec.model_validate(dict(spec))
        self.platform: PlatformContext = current_platform()
        defaults = environment_defaults(self.platform.environment, self.platform.protected)
        contexts = [
            RealizeContext(cloud, name, defaults, self.platform, platform_opts=opts) for cloud in self.spec.clouds
        ]
        realizers = {context.cloud: _realizer(context.cloud) for context in contexts}
        for context in contexts:
            realizers[context.cloud].check(self.spec, context)
        super().__init__(
            TYPE_TOKEN,
            name,
            {
                "environment": self.platform.environment,
                "protected": self.platform.protected,
                "clouds": [c.value for c in self.spec.clouds],
            },
            opts,
        )
        per_cloud = {
            context.cloud.value: dict(realizers[context.cloud].realize(self, self.spec, context))
            for context in contexts
        }
        self.outputs = pulumi.Output.from_input(per_cloud)
        self.register_outputs({"outputs": self.outputs})


def _config_value(config: pulumi.Config, key: str) -> Any:
    """A config value as YAML wrote it: objects and lists decoded, plain strings as they are."""
    raw = config.get(key)
    if raw is None:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def platform_spec_from_config(spec_file: Path, config: pulumi.Config) -> PlatformSpec:
    """``spec_file`` with the stack's ``platform`` overrides deep-merged over it, on the stack's ``cloud``(s).

    Config keys (project namespace): ``cloud`` (``aws``, ``gcp``, ``k8s`` or a list of them) and
    ``platform`` (any part of the spec). Raises ValueError or a ValidationError naming the field.
    """
    clouds = _config_value(config, "cloud")
    if clouds is None:
        raise ValueError(
            f"config key {config.name}:cloud is not set: set it to aws, gcp, k8s or a list of them "
            "in Pulumi.<stack>.yaml"
        )
    overrides = _config_value(config, "platform") or {}
    if not isinstance(overrides, dict):
        raise ValueError(f"config key {config.name}:platform must be a mapping of spec overrides")
    return load_spec(spec_file, {**overrides, "clouds": clouds})
