"""The churn model on Seldon Core v2 (instead of KServe), with a challenger on 10% of live traffic.

Seldon Core v2 is under the Business Source License 1.1 (since v2.7.0): production use needs a
commercial licence from Seldon unless you are a non-profit educational institution. Read
docs/components/k8s-seldon.md before choosing it.

Each model runs on its own Seldon ``Server`` (the hardened ``mlserver`` pod); the ``Experiment``
sends 10% of the requests for ``churn`` to the challenger (``mode: shadow`` mirrors them instead).
Seldon Core v2 records no Model payloads, so prod states it serves without capture.

Plan it offline:  mlops-infra plan examples/k8s/seldon_endpoint.py --config environment=prod
"""

import pulumi

from mlops_infra.conventions import current_platform, init_platform
from mlops_infra.k8s import AlertRouting, Monitoring, SeldonEndpoint, Tenancy
from mlops_infra.k8s.spend_budget import SpendBudget

init_platform(environment="dev", owner="ml-platform", costCenter="cc-1234")
protected = current_platform().protected
prometheus = {"release": "kube-prometheus-stack"}

team = Tenancy(
    "team",
    {
        "team": "churn-ml",
        "quota": {"requests_cpu": "24", "limits_cpu": "48"},
        "groups": {"data_scientists": ["churn-ml-data-scientists"], "ml_engineers": ["churn-ml-ml-engineers"]},
    },
)
namespace = team.namespace_name

churn = SeldonEndpoint(
    "churn",
    {
        "namespace": namespace,
        "model_format": "xgboost",  # served by Seldon's mlserver ServerConfig
        "storage_uri": "s3://acme-churn/models/churn/v7",
        "min_replicas": 2 if protected else 1,
        "max_replicas": 6,
        "resources": {"cpu_request": "1", "cpu_limit": "2", "memory_request": "2Gi", "memory_limit": "2Gi"},
        "challenger": {"storage_uri": "s3://acme-churn/models/churn/v8", "mode": "ab", "percent": 10},
        "allow_no_data_capture": protected,  # Seldon Models record no payloads: said out loud in prod
        "service_account_annotations": {"eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/churn-serving"},
    },
    opts=pulumi.ResourceOptions(depends_on=[team]),
)

# Latency and error-rate alerts per Server on Seldon's agent metrics (scraped by Seldon's agent PodMonitor).
for server in churn.servers:
    Monitoring(
        f"{server}-monitoring",
        {
            "namespace": namespace,
            "endpoint_name": server,
            "backend": "seldon",
            "error_rate_percent": 1,
            "p95_latency_ms": 300,
            "drift_enabled": False,  # no payloads, so no drift detector input
            "alert_namespace_label": True,
            "selector_labels": prometheus,
        },
    )

SpendBudget(
    "spend",
    {"namespace": namespace, "monthly_limit_usd": 1500, "alert_at_percent": [80, 100], "selector_labels": prometheus},
)
AlertRouting("alerts", {"namespace": namespace, "emails": ["ml-oncall@example.com"], "selector_labels": prometheus})

pulumi.export("url", churn.url)
pulumi.export("servers", churn.servers)
