"""Example: an A/B test on Vertex AI from the platform spec: a challenger model beside the champion.

``endpoints[].challenger`` (mode ``ab``) registers the challenger as its own Vertex model and deploys it on
the champion's endpoint; ``percent`` of live requests reach it (here 10), the rest the champion. The split
stays until the spec changes, and a champion rollout (canary in prod) moves only the champion's share. In
prod both models deploy only versions holding the approved alias. Remove ``challenger`` to end the test:
traffic leaves the challenger first, then its replicas are undeployed.
"""

import pulumi

from mlops_infra.conventions import init_platform
from mlops_infra.platform import MlPlatform

init_platform(environment="dev", owner="ml-platform", costCenter="cc-1234")

SERVE = "us-central1-docker.pkg.dev/acme-ml/images/churn-serve@sha256:" + "b" * 64
TRAIN = "us-central1-docker.pkg.dev/acme-ml/images/churn-train@sha256:" + "c" * 64

platform = MlPlatform(
    "churn",
    {
        "clouds": ["gcp"],
        "gcp": {"region": "us-central1", "billing_account": "01A2B3-C4D5E6-F7A8B9"},
        "feature_store": {
            "feature_groups": [
                {
                    "name": "customer_profile",
                    "entity_key": "customer_id",
                    "event_time": "event_time",
                    "features": [
                        {"name": "customer_id", "type": "string"},
                        {"name": "event_time", "type": "timestamp"},
                        {"name": "tenure_months", "type": "int64"},
                        {"name": "contract_type", "type": "string"},
                    ],
                }
            ]
        },
        "training": {
            "image": {"image": TRAIN},
            "schedule": {"cron": "0 3 * * 1", "time_zone": "Europe/Berlin"},
            "gate": {"name": "auc", "threshold": 0.8},
        },
        "registry": {"model_name": "churn"},
        "endpoints": [
            {
                "name": "scoring",
                "model": {"artifact": "churn/v1/", "serving": {"image": SERVE}},
                "alerts": {"error_rate_percent": 1, "p95_latency_ms": 300},
                "challenger": {
                    "model": {"artifact": "churn/v2/", "serving": {"image": SERVE}},
                    "mode": "ab",
                    "percent": 10,
                    "compute": {"size": "small"},  # None: the endpoint's compute
                },
            }
        ],
        "monitoring": {"drift": {"features": ["tenure_months", "contract_type"], "threshold": 0.2}},
        "alerts": {"emails": ["ml-platform@example.com"]},
        # The challenger adds up to 4 x n1-standard-2 (prod) to the hourly drift-retraining worst case.
        "budget": {"monthly_limit_usd": 2000, "alert_at_percent": [50, 80, 100]},
    },
)

pulumi.export("platform", platform.outputs)
