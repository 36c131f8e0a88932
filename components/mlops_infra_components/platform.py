"""``MlPlatform`` for other languages: the real component, with analyzer-friendly args."""

from typing import Any

import pulumi

from mlops_infra.platform import MlPlatform as _MlPlatform
from mlops_infra.spec import PlatformSpec
from mlops_infra_components.args import MlPlatformArgs
from mlops_infra_components.convert import plain


class MlPlatform(_MlPlatform):
    """The whole platform on every cloud in ``clouds``, from one cloud-neutral spec.

    The same class as ``mlops_infra.MlPlatform`` (type ``mlops-infra:index:MlPlatform``), so the token
    and URNs match a Python program's; only the args arrive as a plain object.
    """

    outputs: pulumi.Output[dict[str, Any]]
    """Per cloud, the realized parts' names (feature store, pipeline, registry, endpoints, budget)."""

    def __init__(self, name: str, args: MlPlatformArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(name, PlatformSpec.model_validate(plain(dict(args))), opts)
