"""Example: the spec's serving modes realized on SageMaker, one endpoint per mode.

- ``scoring``: an A/B test, 20 % of live traffic to a challenger model (a second production variant);
- ``triage``: a shadow challenger receiving a copy of 25 % of requests (its answers are discarded);
- ``documents``: asynchronous inference (results KMS-encrypted under the model store, deleted after
  7 days, failures to the warning alerts, autoscaling on the queue backlog; in dev it scales to zero);
- ``regional`` (dev only): a multi-model endpoint loading any archive under ``churn/per-region/``.
  Protected environments refuse it by field: the registry cannot approve a prefix of models.

Plan it offline:  mlops-infra plan examples/aws/serving_modes.py --config environment=prod
In protected environments every model, challengers included, is an approved registry version
(``aws.approved_model_packages`` / ``aws.approved_challenger_packages``; policy model-approval).
"""

from typing import Any

import pulumi

from mlops_infra.conventions import init_platform
from mlops_infra.conventions.context import current_platform
from mlops_infra.platform import MlPlatform

init_platform(environment="dev", owner="ml-platform", costCenter="cc-1234")

SERVE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/churn/xgboost-serve@sha256:" + "d" * 64
CANDIDATE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/churn/xgboost-serve@sha256:" + "e" * 64
ALERTS = {"error_rate_percent": 1, "p95_latency_ms": 300}


def endpoint(name: str, artifact: str, **mode: Any) -> dict[str, Any]:
    return {"name": name, "model": {"artifact": artifact, "serving": {"image": SERVE}}, "alerts": ALERTS, **mode}


def challenger(mode: str, percent: float) -> dict[str, Any]:
    model = {"artifact": "churn/candidate/model.tar.gz", "serving": {"image": CANDIDATE}}
    return {"challenger": {"model": model, "mode": mode, "percent": percent}}


endpoints = [
    endpoint("scoring", "churn/champion/model.tar.gz", **challenger("ab", 20)),
    endpoint("triage", "churn/champion/model.tar.gz", **challenger("shadow", 25)),
    endpoint(
        "documents",
        "churn/champion/model.tar.gz",
        invocation={"kind": "async", "backlog_per_replica": 5, "result_retention_days": 7},
    ),
]
if not current_platform().protected:
    endpoints.append(endpoint("regional", "churn/per-region/", multi_model=True))

platform = MlPlatform(
    "churn",
    {
        "clouds": ["aws"],
        "aws": {
            # Version numbers in the platform's registry group (approved by a person in prod).
            "approved_model_packages": {"scoring": 7, "triage": 7, "documents": 7},
            "approved_challenger_packages": {"scoring": 8, "triage": 8},
        },
        "registry": {"model_name": "churn"},
        "endpoints": endpoints,
        "monitoring": {"drift": {"features": ["tenure_months", "contract_type"], "threshold": 0.2}},
        "alerts": {"emails": ["ml-platform@example.com"]},
        # Worst case in prod ~$1,800/month (mlops-infra cost): 5 fleets of at most 4 ml.m5.large, hourly drift monitors.
        "budget": {"monthly_limit_usd": 4000, "alert_at_percent": [50, 80, 100]},
    },
)

pulumi.export("platform", platform.outputs)
