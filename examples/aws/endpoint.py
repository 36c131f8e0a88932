"""A churn-scoring endpoint: champion/challenger A/B test of two approved registry versions, canary rollout.

Plan it offline:  mlops-infra plan examples/aws/endpoint.py --config environment=prod
Point a variant at a newer approved version (with its image and artifact) and plan again: the model
and the endpoint configuration get new names (new versions); the endpoint keeps its name and
switches to the new configuration with a canary, rolled back if an alarm fires.
Requests and responses are captured to a KMS-encrypted bucket; in prod the bucket is protected and
replaced model versions are retained, so a SageMaker-side rollback always finds its configuration.
"""

import pulumi

from mlops_infra.aws import PlatformKey
from mlops_infra.aws.alert_routing import AlertRouting
from mlops_infra.aws.audit_trail import AuditTrail
from mlops_infra.aws.budget import Budget
from mlops_infra.aws.endpoint import Endpoint, EndpointArgs
from mlops_infra.aws.model_monitor import ModelMonitor
from mlops_infra.conventions import init_platform

platform = init_platform(environment="dev", owner="ml-platform", costCenter="cc-1234")

IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/churn/xgboost-serve:1.7.6-2"
# Approved versions in the model registry (see examples/aws/model_registry.py); prod deploys only those.
PACKAGES = "arn:aws:sagemaker:us-east-1:123456789012:model-package/churn-models"
# A canary moves at most half of a fleet per step, so each variant keeps at least 2 instances.
FLEET = {"initial_instance_count": 2, "autoscaling": {"min_replicas": 2, "max_replicas": 6}}

# Who hears the alarms (policy alert-routing): a KMS-encrypted SNS topic per severity. Both are
# e-mailed; warnings also post to Slack through AWS Chatbot (authorize the workspace once in the
# Chatbot console). Add "pagerduty": {"integration_key_secret": "pagerdutyIntegrationKey"} and
# `pulumi config set --secret pagerdutyIntegrationKey <key>` to page the on-call on critical alarms.
alerts = AlertRouting(
    "alerts",
    {
        "alerts": {
            "emails": ["ml-oncall@example.com"],
            "slack": {"channel": "#churn-alerts", "channel_id": "C0ACMEML01", "workspace_id": "T0ACMEML01"},
        }
    },
)

endpoint = Endpoint(
    "scoring",
    EndpointArgs.model_validate(
        {
            "variants": [
                {
                    "name": "champion",
                    "model": {
                        "image": IMAGE,
                        "model_data_url": "s3://churn-models/champion/2024-06-01/model.tar.gz",
                        "environment": {"SAGEMAKER_PROGRAM": "inference.py"},
                        # The approved registry version holding this image and artifact.
                        "model_package_arn": f"{PACKAGES}/12",
                    },
                    "instance_type": "ml.m5.large",
                    "weight": 90,
                    **FLEET,
                },
                {
                    "name": "challenger",
                    "model": {
                        "image": IMAGE,
                        "model_data_url": "s3://churn-models/challenger/2024-06-15/model.tar.gz",
                        "environment": {"SAGEMAKER_PROGRAM": "inference.py"},
                        "model_package_arn": f"{PACKAGES}/13",
                    },
                    "instance_type": "ml.m5.large",
                    "weight": 10,
                    **FLEET,
                },
            ],
            # Capture a quarter of the traffic: enough for drift monitoring at this request rate.
            "data_capture": {"sampling_percent": 25},
            # Roll back when p95 latency passes 300 ms or more than 2 % of requests fail.
            # The 5XX-rate and model-error alarms are critical, the latency alarm a warning.
            "alarms": {
                "p95_latency_ms": 300,
                "error_rate_percent": 2,
                "critical_actions": alerts.actions("critical"),
                "warning_actions": alerts.actions("warning"),
            },
            "deployment": {"strategy": "canary", "canary_size": {"type": "CAPACITY_PERCENT", "value": 50}},
        }
    ),
)

# Hourly drift monitoring of the captured traffic (policy: monitoring-required in prod).
monitor = ModelMonitor(
    "scoring-monitor",
    {
        "endpoint_name": endpoint.endpoint_name,
        "capture_s3_uri": endpoint.capture_s3_uri,
        "baseline_statistics_s3_uri": "s3://churn-baselines/v7/statistics.json",
        "baseline_constraints_s3_uri": "s3://churn-baselines/v7/constraints.json",
        "drift_features": ["tenure_months", "monthly_charges"],
        # Drift is a warning: told when a feature drifts and when it is back.
        "alarm_actions": alerts.actions("warning"),
    },
)
Budget("example", {"monthly_limit_usd": 2000})

# Prod records who called which API on the stack's data and models (policy audit-logging).
if platform.protected:
    audit_key = PlatformKey("audit", {"extra_key_users": ["cloudtrail.amazonaws.com"]})
    AuditTrail("audit", {"kms_key_arn": audit_key.arn, "data_bucket_arns": [endpoint.capture_bucket.arn]})

pulumi.export("endpointName", endpoint.endpoint_name)
pulumi.export("driftAlarmArns", monitor.drift_alarm_arns)
pulumi.export("endpointConfigName", endpoint.endpoint_config_name)
pulumi.export("modelNames", endpoint.model_names)
pulumi.export("alarmNames", endpoint.alarm_names)
pulumi.export("captureS3Uri", endpoint.capture_s3_uri)
pulumi.export("roleArn", endpoint.role_arn)
