"""mlops-infra's components as a Pulumi package: ``MlPlatform`` and every public cloud component.

Each class takes analyzer-friendly args (TypedDicts in :mod:`mlops_infra_components.args`, generated
from the pydantic models by scripts/generate_components.py) and builds the real component.
"""

from mlops_infra.protobuf_status import share_google_rpc_status

# Before pulumi.provider loads: the GCP components import kfp, whose protos need googleapis' Status.
share_google_rpc_status()

import pulumi  # noqa: E402

from mlops_infra_components.platform import MlPlatform  # noqa: E402
from mlops_infra_components.wrappers import WRAPPERS  # noqa: E402

COMPONENTS: tuple[type[pulumi.ComponentResource], ...] = (MlPlatform, *WRAPPERS)

__all__ = ["COMPONENTS", "MlPlatform"]
