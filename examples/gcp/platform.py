"""Example: a whole MLOps platform from the cloud-neutral spec, realized on GCP Vertex AI.

The same document deploys on AWS or Kubernetes by changing ``clouds``; only the ``gcp`` section
is GCP's own (the billing account the budget watches). In prod the environment turns on manual
approval, a canary rollout, request logging and drift retraining.
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
            }
        ],
        "monitoring": {"drift": {"features": ["tenure_months", "contract_type"], "threshold": 0.2}},
        "alerts": {"emails": ["ml-platform@example.com"]},
        # Worst case ~$1,144/month in prod: the hourly drift check may start a priced pipeline run each hour.
        "budget": {"monthly_limit_usd": 1500, "alert_at_percent": [50, 80, 100]},
    },
)

pulumi.export("platform", platform.outputs)
