"""What a cloud's ``realize`` module receives: the target cloud, the environment's defaults and naming.

Each cloud has ``mlops_infra/<cloud>/realize.py`` with two functions:

- ``check(spec, context)``: raise :func:`mlops_infra.spec.field_error` (path from the spec's root) for
  anything this cloud cannot realize. Registers nothing. ``MlPlatform`` checks every target first.
- ``realize(parent, spec, context)``: create this cloud's components with ``context.opts(parent)``
  and ``context.child_name(...)`` names, and return the cloud's outputs (camelCase keys).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import pulumi

from mlops_infra.conventions.context import PlatformContext
from mlops_infra.spec.cloud import Cloud
from mlops_infra.spec.environment import EnvironmentDefaults


@dataclass(frozen=True)
class RealizeContext:
    """One target cloud of one platform."""

    cloud: Cloud
    platform_name: str
    defaults: EnvironmentDefaults
    platform: PlatformContext
    requires: tuple[pulumi.Resource, ...] = ()
    """What every resource created under :meth:`opts` waits for (e.g. the cluster's prerequisites)."""
    platform_opts: pulumi.ResourceOptions | None = None
    """The platform component's own options (its providers reach every component on this cloud)."""

    def child_name(self, name: str) -> str:
        """Logical name of a component on this cloud: ``{cloud}-{name}``, unique across targets."""
        return f"{self.cloud.value}-{name}"

    @functools.cached_property
    def _waits_for_requires(self) -> pulumi.ResourceTransform:
        return waits_for(self.requires)

    def opts(self, parent: pulumi.Resource, **options: object) -> pulumi.ResourceOptions:
        """Options of a component on this cloud: parented to the platform (providers propagate), after ``requires``.

        ``depends_on`` of a component does not reach the resources inside it, so ``requires`` is also a
        transform: the engine runs a component's transforms on each of its descendants. The component's own
        ``depends_on`` stays: the SDK then registers it only once ``requires`` is registered.
        """
        if self.requires:
            after = options.get("depends_on") or []
            options["depends_on"] = [*self.requires, *after]  # type: ignore[misc]
            options["transforms"] = [*(options.get("transforms") or []), self._waits_for_requires]  # type: ignore[misc]
        return pulumi.ResourceOptions(parent=parent, **options)  # type: ignore[arg-type]


def waits_for(resources: tuple[pulumi.Resource, ...]) -> pulumi.ResourceTransform:
    """A transform adding ``resources`` to ``depends_on`` of every resource it runs on."""

    def add_dependencies(args: pulumi.ResourceTransformArgs) -> pulumi.ResourceTransformResult:
        extra = pulumi.ResourceOptions(depends_on=list(resources))
        return pulumi.ResourceTransformResult(props=args.props, opts=pulumi.ResourceOptions.merge(args.opts, extra))

    return add_dependencies
