"""Hourly drift monitoring on the churn endpoint, with an alarm per key feature.

Plan it offline:  mlops-infra plan examples/aws/model_monitor.py --config environment=prod
The region (aws:region, else the provider's) picks SageMaker's Model Monitor analyzer image.
Pass the drift alarm ARNs to a TrainingPipeline (retrain_on_alarm_arns) to retrain on drift.
"""

import pulumi

from mlops_infra.aws import PlatformKey
from mlops_infra.aws.alert_routing import AlertRouting
from mlops_infra.aws.audit_trail import AuditTrail
from mlops_infra.aws.budget import Budget
from mlops_infra.aws.model_monitor import ModelMonitor
from mlops_infra.conventions import init_platform

platform = init_platform(environment="dev", owner="ml-platform", costCenter="cc-1234")

# Drift alarms are warnings; they must reach a person (policy alert-routing): the warning topic
# e-mails the team (add alerts.slack or alerts.pagerduty as in examples/aws/endpoint.py).
alerts = AlertRouting("alerts", {"alerts": {"emails": ["ml-oncall@example.com"]}})

monitor = ModelMonitor(
    "churn-scoring-monitor",
    {
        # Usually Endpoint(...).endpoint_name and Endpoint(...).capture_s3_uri.
        "endpoint_name": "churn-dev-churn-scoring",
        "capture_s3_uri": "s3://churn-dev-capture/data-capture",
        # Produced once by a baselining job over the training set.
        "baseline_statistics_s3_uri": "s3://churn-baselines/v7/statistics.json",
        "baseline_constraints_s3_uri": "s3://churn-baselines/v7/constraints.json",
        "drift_features": ["tenure_months", "monthly_charges", "contract_type"],
        "drift_threshold": 0.2,
        # Told when a feature drifts (ALARM) and when it is back (OK).
        "alarm_actions": alerts.actions("warning"),
    },
)

pulumi.export("scheduleName", monitor.schedule_name)
pulumi.export("driftAlarmArns", monitor.drift_alarm_arns)

# Every stack declares its budget (policy: budget-required).
Budget("example", {"monthly_limit_usd": 500})

# Prod records who called which API on the stack's data and models (policy audit-logging).
if platform.protected:
    audit_key = PlatformKey("audit", {"extra_key_users": ["cloudtrail.amazonaws.com"]})
    AuditTrail("audit", {"kms_key_arn": audit_key.arn})
