"""Example: an A/B test on Vertex AI from the platform spec: a challenger model beside the champion.

``endpoints[].challenger`` (mode ``ab``) registers the challenger as its own Vertex model and deploys it on
the champion's endpoint; ``percent`` of live requests reach it (here 10), the rest the champion. The split
stays until the spec changes, and a champion rollout (canary in prod) moves only the champion's share. In
prod both models deploy only versions holding the approved alias. Remove ``challenger`` to end the test:
traffic leaves the challenger first, then its replicas are undeployed.
"""

import pulumi
from churn_spec import SCORING, SERVE, churn_spec

from mlops_infra.conventions import init_platform
from mlops_infra.platform import MlPlatform

init_platform(environment="dev", owner="ml-platform", costCenter="cc-1234")

platform = MlPlatform(
    "churn",
    churn_spec(
        endpoints=[
            {
                **SCORING,
                "challenger": {
                    "model": {"artifact": "churn/v2/", "serving": {"image": SERVE}},
                    "mode": "ab",
                    "percent": 10,
                    "compute": {"size": "small"},  # None: the endpoint's compute
                },
            }
        ],
        # The challenger adds up to 4 x n1-standard-2 (prod) to the hourly drift-retraining worst case.
        budget={"monthly_limit_usd": 2000},
    ),
)

pulumi.export("platform", platform.outputs)
