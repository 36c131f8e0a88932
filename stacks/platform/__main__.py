"""The generic platform program: platform.yaml plus this stack's config, realized on its cloud(s).

Nothing here is specific to churn: copy this directory, edit platform.yaml, add a
Pulumi.<stack>.yaml with `environment`, `cloud` and the tag settings, and plan it. Any part of
the spec can be overridden per stack under the config key `platform` (deep-merged).
"""

from pathlib import Path

import pulumi

from mlops_infra.conventions import init_platform
from mlops_infra.platform import MlPlatform, platform_spec_from_config

platform = init_platform()
spec = platform_spec_from_config(Path(__file__).resolve().parent / "platform.yaml", pulumi.Config())
churn = MlPlatform(pulumi.get_project(), spec)

pulumi.export("environment", platform.environment)
pulumi.export("clouds", [cloud.value for cloud in spec.clouds])
pulumi.export("platform", churn.outputs)
