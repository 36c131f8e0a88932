"""The churn model's MLOps platform on AWS SageMaker.

Features land in the feature store; a SageMaker pipeline retrains weekly (and on drift),
registers the model for approval, and approved versions serve from endpoints that roll out
by canary with automatic rollback. Everything is encrypted with one rotating platform key,
tagged for cost allocation, and capped by a monthly budget.
"""

import pulumi
from spec import load_spec

from mlops_infra.aws import Budget, Endpoint, FeatureStore, ModelRegistry, PlatformKey, TrainingPipeline
from mlops_infra.aws.alert_routing import AlertRouting
from mlops_infra.aws.audit_trail import AuditTrail
from mlops_infra.aws.model_monitor import ModelMonitor
from mlops_infra.conventions import init_platform

platform = init_platform()
spec = load_spec()

# In protected environments CloudTrail encrypts the audit log files with the platform key (policy audit-logging).
key = PlatformKey("platform", {"extra_key_users": ["cloudtrail.amazonaws.com"]} if platform.protected else None)

# Every alarm reaches a person by severity: critical pages PagerDuty, warnings go to Slack, both are e-mailed.
alerts = AlertRouting(
    "alerts",
    {
        "kms_key_arn": key.arn,
        "alerts": {"emails": spec.alert_emails, "pagerduty": spec.pagerduty, "slack": spec.slack},
    },
)

features = FeatureStore(
    "churn-features",
    {
        "kms_key_arn": key.arn,
        "feature_groups": [
            {
                "name": "customer-profile",
                "description": "Latest profile per customer, served online to the churn endpoint",
                "features": [
                    {"name": "customer_id", "type": "String"},
                    {"name": "event_time", "type": "Fractional"},
                    {"name": "tenure_months", "type": "Integral"},
                    {"name": "monthly_charges", "type": "Fractional"},
                    {"name": "contract_type", "type": "String"},
                ],
                "entity_key": "customer_id",
                "event_time": "event_time",
                "online_ttl": {"unit": "Days", "value": 365},
                "table_format": "Iceberg",
            }
        ],
    },
)

registry = ModelRegistry(
    "churn-models",
    {"kms_key_arn": key.arn, "description": "Churn classifier versions", "notification_emails": spec.alert_emails},
)

endpoints = [
    Endpoint(
        endpoint.name,
        {
            "kms_key_arn": key.arn,
            "variants": [
                {
                    "name": "champion",
                    "model": {
                        "image": endpoint.image,
                        "model_data_url": endpoint.model_data_url,
                        # In prod only an approved registry version deploys (policy: model-approval).
                        "model_package_arn": endpoint.model_package_arn,
                    },
                    "instance_type": endpoint.instance_type,
                    "initial_instance_count": endpoint.min_replicas,
                    "autoscaling": {"min_replicas": endpoint.min_replicas, "max_replicas": endpoint.max_replicas},
                }
            ],
            "data_capture": {"sampling_percent": endpoint.sampling_percent},
            # The 5XX rate and model errors page (critical); latency is a warning. They also roll back a canary.
            "alarms": {
                "critical_actions": alerts.actions("critical"),
                "warning_actions": alerts.actions("warning"),
            },
        },
    )
    for endpoint in spec.endpoints
]

monitors = [
    ModelMonitor(
        f"{spec_endpoint.name}-monitor",
        {
            "kms_key_arn": key.arn,
            "endpoint_name": endpoint.endpoint_name,
            "capture_s3_uri": endpoint.capture_s3_uri,
            "baseline_statistics_s3_uri": spec.monitoring.baseline_statistics_s3_uri,
            "baseline_constraints_s3_uri": spec.monitoring.baseline_constraints_s3_uri,
            "drift_features": spec.monitoring.drift_features,
            "drift_threshold": spec.monitoring.drift_threshold,
            "analyzer_image_uri": spec.monitoring.analyzer_image_uri,
            "alarm_actions": alerts.actions("warning"),
        },
    )
    for spec_endpoint, endpoint in zip(spec.endpoints, endpoints, strict=True)
]

training = TrainingPipeline(
    "churn-training",
    {
        "kms_key_arn": key.arn,
        "model_package_group_name": registry.group_name,
        "model_approval_status": registry.initial_approval_status,
        "training_image_uri": spec.training.image,
        "processing_image_uri": spec.training.processing_image,
        "training_instance_type": spec.training.instance_type,
        "processing_instance_type": "ml.m5.large",
        "volume_size_gb": 50,
        "max_runtime_seconds": 2 * 3600,
        "gate": {"name": "auc", "threshold": spec.training.metric_threshold, "direction": "maximize"},
        "preprocess_code_s3_uri": "s3://churn-ml-code/v1.4.2/preprocess.py",
        "evaluate_code_s3_uri": "s3://churn-ml-code/v1.4.2/evaluate.py",
        "use_spot": spec.training.use_spot,
        "max_wait_seconds": 4 * 3600,
        "schedule": {
            "cron": spec.training.schedule,
            "time_zone": spec.training.time_zone,
            "flexible_time_window": "FLEXIBLE",
            "maximum_window_minutes": 30,
            "pipeline_parameters": {"InputDataUrl": "s3://churn-raw-data/weekly/"},
        },
        # Drift on any monitored endpoint retrains at once, not just on the weekly schedule.
        # One wildcard covers every monitor's drift alarms, however many endpoints the stack has.
        "retrain_on_alarm_name_patterns": [f"{platform.settings.project}-{platform.environment}-*-monitor-drift-*"],
    },
)

budget = Budget(
    "platform",
    {"kms_key_arn": key.arn, "monthly_limit_usd": spec.monthly_budget_usd, "subscriber_emails": spec.alert_emails},
)

# Who called which API on the platform's data, models and endpoints (policy audit-logging).
audit = (
    AuditTrail(
        "audit",
        {
            "kms_key_arn": key.arn,
            "data_bucket_arns": [features.bucket_arn, training.artifact_bucket_arn],
        },
    )
    if platform.protected
    else None
)

pulumi.export("environment", platform.environment)
pulumi.export("platformKeyArn", key.arn)
pulumi.export("featureStoreBucket", features.bucket_name)
pulumi.export("featureGroups", features.feature_group_names)
pulumi.export("modelPackageGroup", registry.group_name)
pulumi.export("pipelineName", training.pipeline_name)
pulumi.export("trainingScheduleArn", training.schedule_arn)
pulumi.export("retrainRuleArn", training.retrain_rule_arn)
pulumi.export("endpointNames", [e.endpoint_name for e in endpoints])
pulumi.export("driftAlarmNames", [name for m in monitors for name in m.drift_alarm_names])
pulumi.export("budgetName", budget.budget_name)
pulumi.export("alertTopicArns", alerts.topic_arns)
pulumi.export("auditTrailArn", audit.trail_arn if audit is not None else None)
