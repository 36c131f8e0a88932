"""mlops-infra's components as a Pulumi package: ``MlPlatform`` and every public cloud component.

Each class takes analyzer-friendly args (TypedDicts in :mod:`mlops_infra_components.args`, generated
from the pydantic models by scripts/generate_components.py) and builds the real component.
"""

import pulumi

from mlops_infra_components.platform import MlPlatform
from mlops_infra_components.wrappers import WRAPPERS

COMPONENTS: tuple[type[pulumi.ComponentResource], ...] = (MlPlatform, *WRAPPERS)

__all__ = ["COMPONENTS", "MlPlatform"]
