"""Weekly GPU training of the churn model on Kubeflow Pipelines, registered only when good.

The kfp SDK compiles train -> evaluate -> register (register inside a dsl.If on the run's AUC >= 0.8,
the same gate as the Argo, SageMaker and Vertex pipelines) to KFP v2 IR; the program declares it as a
Pipeline + PipelineVersion and a ScheduledWorkflow (KFP's recurring run, cron "0 0 3 * * 1": KFP's
cron has seconds first). Needs KFP >= 2.5 in Kubernetes-native API mode (see
docs/components/k8s-training-pipeline.md#kubeflow-pipelines).

Plan it offline:  mlops-infra plan examples/k8s/kubeflow_training.py --config environment=prod
"""

import pulumi

from mlops_infra.conventions import init_platform
from mlops_infra.k8s import AlertRouting, KubeflowTrainingPipeline
from mlops_infra.k8s.spend_budget import SpendBudget

init_platform(environment="dev", owner="ml-platform", costCenter="cc-1234")
tracking_uri = "http://churn-dev-registry.churn-ml.svc.cluster.local:5000"

training = KubeflowTrainingPipeline(
    "training",
    {
        "namespace": "churn-ml",  # a KFP profile namespace
        "image": "ghcr.io/acme/churn-train:1.8.3",
        # KFP's launcher replaces the image's entrypoint: the command is explicit.
        "command": ["python", "-m", "churn.train"],
        "env": {"MLFLOW_TRACKING_URI": tracking_uri, "MLFLOW_EXPERIMENT_NAME": "churn"},
        # KFP reads every cron in the installation's zone (cronScheduleTimezone): Mondays 03:00 UTC.
        "schedule": {"cron": "0 3 * * 1", "time_zone": "UTC"},
        "controller_time_zone": "UTC",
        "resources": {
            "cpu_request": "4",
            "cpu_limit": "8",
            "memory_request": "16Gi",
            "memory_limit": "32Gi",
            "gpus": 1,
        },
        "backoff_limit": 2,
        "active_deadline_seconds": 6 * 3600,
        "gate": {
            "metric": "auc",
            "threshold": 0.8,
            "tracking_uri": tracking_uri,
            "registered_model": "churn",
            "approval_mode": "manual",  # a person moves the `champion` alias
        },
    },
)

# Every stack that runs workloads declares a spend budget (policy budget-required), and its alerts
# reach a person (policy alert-routing).
SpendBudget("spend", {"namespace": "churn-ml", "monthly_limit_usd": 1500, "alert_at_percent": [80, 90, 100]})
AlertRouting("alerts", {"namespace": "churn-ml", "emails": ["ml-platform@example.com"]})

pulumi.export("pipelineVersion", training.version_name)
pulumi.export("cron", training.cron)
