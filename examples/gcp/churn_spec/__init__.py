"""The churn platform spec the GCP spec examples share (platform.py, ab_challenger.py, batch_inference.py).

``churn_spec(**overrides)`` returns the document with ``overrides`` merged over it the way a stack's
settings merge over ``platform.yaml`` (:func:`mlops_infra.spec.load.deep_merge`: mappings merge key by key,
lists replace), so each example states only what it adds.
"""

from typing import Any

from mlops_infra.spec.load import deep_merge

SERVE = "us-central1-docker.pkg.dev/acme-ml/images/churn-serve@sha256:" + "b" * 64
TRAIN = "us-central1-docker.pkg.dev/acme-ml/images/churn-train@sha256:" + "c" * 64
SCORING = {
    "name": "scoring",
    "model": {"artifact": "churn/v1/", "serving": {"image": SERVE}},
    "alerts": {"error_rate_percent": 1, "p95_latency_ms": 300},
}
"""The one endpoint: the approved churn model, behind an error-rate and a latency alert."""

CHURN: dict[str, Any] = {
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
    "endpoints": [SCORING],
    "monitoring": {"drift": {"features": ["tenure_months", "contract_type"], "threshold": 0.2}},
    "alerts": {"emails": ["ml-platform@example.com"]},
    # Worst case ~$1,144/month in prod: the hourly drift check may start a priced pipeline run each hour.
    "budget": {"monthly_limit_usd": 1500, "alert_at_percent": [50, 80, 100]},
}


def churn_spec(**overrides: Any) -> dict[str, Any]:
    """The churn platform with ``overrides`` merged over it (a ``None`` value removes a section)."""
    return deep_merge(CHURN, overrides)
