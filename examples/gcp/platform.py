"""Example: a whole MLOps platform from the cloud-neutral spec, realized on GCP Vertex AI.

The same document deploys on AWS or Kubernetes by changing ``clouds``; only the ``gcp`` section
is GCP's own (the billing account the budget watches). In prod the environment turns on manual
approval, a canary rollout, request logging and drift retraining.
"""

import pulumi
from churn_spec import churn_spec

from mlops_infra.conventions import init_platform
from mlops_infra.platform import MlPlatform

init_platform(environment="dev", owner="ml-platform", costCenter="cc-1234")

# The whole document is in churn_spec/ (shared with ab_challenger.py and batch_inference.py).
platform = MlPlatform("churn", churn_spec())

pulumi.export("platform", platform.outputs)
