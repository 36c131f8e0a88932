"""Weekly GPU training of the churn model with Argo Workflows, retrainable on demand.

Plan it offline:  mlops-infra plan examples/k8s/training_pipeline.py --config environment=prod
Without Argo (plain CronJobs): add --config argoEnabled=false
"""

import pulumi

from mlops_infra.conventions import init_platform
from mlops_infra.k8s import TrainingPipeline
from mlops_infra.k8s.spend_budget import SpendBudget

init_platform(environment="dev", owner="ml-platform", costCenter="cc-1234")
config = pulumi.Config()
argo = config.get_bool("argoEnabled")

training = TrainingPipeline(
    "training",
    {
        "namespace": "churn-ml",
        "image": "ghcr.io/acme/churn-train:1.8.3",
        "command": ["python", "-m", "churn.train"],
        "env": {"MLFLOW_TRACKING_URI": "http://churn-dev-registry.churn-ml.svc.cluster.local:5000"},
        "schedule": {"cron": "0 3 * * 1", "time_zone": "Europe/Berlin"},
        "argo_enabled": True if argo is None else argo,
        "resources": {
            "cpu_request": "4",
            "cpu_limit": "8",
            "memory_request": "16Gi",
            "memory_limit": "32Gi",
            "gpus": 1,
        },
        "backoff_limit": 2,
        "active_deadline_seconds": 6 * 3600,
    },
)

# Every stack that runs workloads declares a spend budget (policy budget-required).
SpendBudget("spend", {"namespace": "churn-ml", "monthly_limit_usd": 1500, "alert_at_percent": [80, 90, 100]})

pulumi.export("trigger", f"{training.trigger_kind}/{training.trigger_name}")
