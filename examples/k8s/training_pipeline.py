"""Weekly GPU training of the churn model with Argo Workflows, retrainable on demand, registered only when good.

Under Argo the template is train -> evaluate -> register: MLflow gets a new model version only
`when` the run's AUC is at least 0.8 (the same gate as SageMaker and Vertex pipelines).

Plan it offline:  mlops-infra plan examples/k8s/training_pipeline.py --config environment=prod
Without Argo (plain CronJobs): add --config argoEnabled=false
"""

import pulumi

from mlops_infra.conventions import init_platform
from mlops_infra.k8s import AlertRouting, TrainingPipeline
from mlops_infra.k8s.spend_budget import SpendBudget

init_platform(environment="dev", owner="ml-platform", costCenter="cc-1234")
config = pulumi.Config()
argo = config.get_bool("argoEnabled")
argo = True if argo is None else argo
tracking_uri = "http://churn-dev-registry.churn-ml.svc.cluster.local:5000"

training = TrainingPipeline(
    "training",
    {
        "namespace": "churn-ml",
        "image": "ghcr.io/acme/churn-train:1.8.3",
        "command": ["python", "-m", "churn.train"],
        "env": {"MLFLOW_TRACKING_URI": tracking_uri},
        "schedule": {"cron": "0 3 * * 1", "time_zone": "Europe/Berlin"},
        "argo_enabled": argo,
        "resources": {
            "cpu_request": "4",
            "cpu_limit": "8",
            "memory_request": "16Gi",
            "memory_limit": "32Gi",
            "gpus": 1,
        },
        "backoff_limit": 2,
        "active_deadline_seconds": 6 * 3600,
        # The training gate (Argo only: with CronJobs the training code must apply it itself).
        # A person moves the `champion` alias (manual approval); "automatic" suits dev.
        **(
            {
                "gate": {
                    "metric": "auc",
                    "threshold": 0.8,
                    "tracking_uri": tracking_uri,
                    "registered_model": "churn",
                    "approval_mode": "manual",
                }
            }
            if argo
            else {}
        ),
    },
)

# Every stack that runs workloads declares a spend budget (policy budget-required), and its alerts
# reach a person (policy alert-routing: every PrometheusRule alert is routed in its namespace).
SpendBudget("spend", {"namespace": "churn-ml", "monthly_limit_usd": 1500, "alert_at_percent": [80, 90, 100]})
AlertRouting("alerts", {"namespace": "churn-ml", "emails": ["ml-platform@example.com"]})

pulumi.export("trigger", f"{training.trigger_kind}/{training.trigger_name}")
