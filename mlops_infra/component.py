"""The base every mlops-infra component derives from."""

from __future__ import annotations

from typing import Any, Generic

import pulumi

from mlops_infra.config.base import ArgsT, validate_args
from mlops_infra.conventions.context import PlatformContext, current_platform


class PlatformComponent(pulumi.ComponentResource, Generic[ArgsT]):
    """A ComponentResource that validates its args and the stack settings before registering anything.

    Subclasses set ``TYPE_TOKEN`` (``mlops-infra:<cloud>:<Name>``) and ``ARGS``, create children
    with :meth:`child_opts` (``parent=self``, so providers propagate), and finish with
    ``self.register_outputs({...})``.
    """

    TYPE_TOKEN: str
    ARGS: type[ArgsT]

    def __init__(
        self,
        name: str,
        args: ArgsT | dict[str, Any] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        # Both validations raise before the component itself is registered.
        self.args: ArgsT = validate_args(self.ARGS, args)
        self.platform: PlatformContext = current_platform()
        super().__init__(self.TYPE_TOKEN, name, None, opts)
        self.logical_name = name

    def child_opts(self, **options: Any) -> pulumi.ResourceOptions:
        """Options for a child resource: always parented to this component."""
        return pulumi.ResourceOptions(parent=self, **options)

    def child_name(self, suffix: str) -> str:
        """Logical (URN) name of a child: ``{component}-{suffix}``. Changing it replaces the child."""
        return f"{self.logical_name}-{suffix}"
