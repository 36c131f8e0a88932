"""mlops-infra: Pulumi components for a secure MLOps platform on AWS SageMaker, GCP Vertex AI and Kubernetes.

``mlops_infra.MlPlatform`` realizes one cloud-neutral ``PlatformSpec`` (``mlops_infra.spec``) on
every target cloud. Attributes load lazily, so ``import mlops_infra`` (and ``mlops-infra --help``)
pulls in no Pulumi or provider SDK.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mlops_infra.platform import MlPlatform
    from mlops_infra.spec import PlatformSpec

__all__ = ["MlPlatform", "PlatformSpec"]


_LAZY = {"MlPlatform": "mlops_infra.platform", "PlatformSpec": "mlops_infra.spec"}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is not None:
        return getattr(importlib.import_module(module), name)
    raise AttributeError(f"module 'mlops_infra' has no attribute {name!r}")
