"""Example: scheduled batch inference on Vertex AI from the platform spec.

Each ``batch`` entry becomes a Cloud Scheduler job that executes a CMEK Cloud Workflow, which creates a
CMEK Vertex batch prediction job on the version holding the approved alias, waits for it, and cancels
it after ``max_runtime_seconds``. Relative ``input``/``output`` paths live in the platform's CMEK batch
data bucket (``{project}-{env}-gcp-batch-data``); results default to ``predictions/<name>/``, one
timestamped directory per run. Inputs and results are JSON Lines.
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
        "batch": [
            {
                "name": "nightly",
                "model": {"artifact": "churn/v1/", "serving": {"image": SERVE}},
                "input": "scoring/daily/",
                "schedule": {"cron": "0 2 * * *", "time_zone": "Europe/Berlin"},
                "compute": {"size": "medium"},
                "max_replicas": 4,
                "max_runtime_seconds": 7200,
            }
        ],
        "monitoring": {"drift": {"features": ["tenure_months", "contract_type"], "threshold": 0.2}},
        "alerts": {"emails": ["ml-platform@example.com"]},
        # Nightly batch: at most 30.4 runs x 4 x n1-standard-4 x 2 h a month, on top of the platform's worst case.
        "budget": {"monthly_limit_usd": 1500, "alert_at_percent": [50, 80, 100]},
    },
)

pulumi.export("platform", platform.outputs)
