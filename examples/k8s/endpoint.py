"""The churn model on KServe: sklearn from S3, 10% canary, autoscaling on concurrency, request logging.

Plan it offline:  mlops-infra plan examples/k8s/endpoint.py --config environment=prod
In dev the endpoint scales to zero when idle and rolls out at once.
"""

import pulumi

from mlops_infra.conventions import current_platform, init_platform
from mlops_infra.k8s import Endpoint, Monitoring
from mlops_infra.k8s.spend_budget import SpendBudget

init_platform(environment="dev", owner="ml-platform", costCenter="cc-1234")
protected = current_platform().protected

endpoint = Endpoint(
    "churn",
    {
        "namespace": "churn-ml",
        "model_format": "sklearn",
        "storage_uri": "s3://acme-churn/models/churn/v7",
        "canary_percent": 10 if protected else None,
        "min_replicas": 2 if protected else 0,
        "max_replicas": 8,
        "scale_metric": "concurrency",
        "scale_target": 20,
        "logger": {"url": "http://broker-ingress.knative-eventing.svc.cluster.local/churn-ml/capture", "mode": "all"},
    },
)

# Latency, error-rate and drift alerts on the endpoint (policy: monitoring-required in prod).
Monitoring("churn-monitoring", {"namespace": "churn-ml", "endpoint_name": endpoint.isvc_name})

# Every stack that runs workloads declares a spend budget (policy budget-required).
SpendBudget("spend", {"namespace": "churn-ml", "monthly_limit_usd": 1500, "alert_at_percent": [80, 90, 100]})

pulumi.export("url", endpoint.url)
pulumi.export("name", endpoint.isvc_name)
