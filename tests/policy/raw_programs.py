"""Raw Pulumi programs (no mlops-infra components) that break or follow every applicable rule, per cloud."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_gcp as gcp
import pulumi_kubernetes as k8s

from mlops_infra.engine.captured import CapturedStack
from mlops_infra.testing import plan

TAGS = {"project": "churn", "environment": "prod", "owner": "ml-platform", "cost-center": "cc-1234"}
KEEP = pulumi.ResourceOptions(protect=True, retain_on_delete=True)
ENDPOINT_NAME = "churn-prod-serving"


def _doc(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


# --- AWS --------------------------------------------------------------------------------------------


def aws_violations() -> None:
    """Unencrypted endpoint config, untagged public bucket, '*' policy, and a gap for every other AWS rule."""
    aws.sagemaker.EndpointConfiguration(
        "serving-config",
        production_variants=[
            {"variant_name": "main", "model_name": "m", "instance_type": "ml.p5.48xlarge", "initial_instance_count": 1}
        ],
        tags=TAGS,
    )
    aws.s3.Bucket("raw-data")
    aws.iam.Policy("admin", policy=_doc({"Effect": "Allow", "Action": "*", "Resource": "*"}), tags=TAGS)
    aws.kms.Key("key", enable_key_rotation=False, tags=TAGS)
    aws.sagemaker.Model(
        "model",
        primary_container={"image": "img:1", "model_data_url": "s3://b/model.tar.gz"},
        execution_role_arn="arn:aws:iam::1:role/r",
        tags=TAGS,
    )
    aws.sagemaker.Endpoint("serving", name=ENDPOINT_NAME, endpoint_config_name="c", tags=TAGS)
    aws.sagemaker.NotebookInstance(
        "notebook", instance_type="ml.t3.medium", role_arn="arn:aws:iam::1:role/r", tags=TAGS
    )
    aws.sagemaker.DataQualityJobDefinition(
        "quality",
        role_arn="arn:aws:iam::1:role/r",
        data_quality_app_specification={"image_uri": "img:1"},
        data_quality_job_input={"endpoint_input": {"endpoint_name": "other", "local_path": "/in"}},
        data_quality_job_output_config={
            "monitoring_outputs": {"s3_output": {"s3_uri": "s3://b/m", "local_path": "/o"}}
        },
        job_resources={
            "cluster_config": {"instance_count": 1, "instance_type": "ml.m5.large", "volume_size_in_gb": 20}
        },
        tags=TAGS,
    )
    aws.cloudwatch.LogGroup("logs", tags=TAGS)
    # audit-logging: a single-region trail without log file validation or KMS (and so no complete trail)
    aws.cloudtrail.Trail("unvalidated", s3_bucket_name="churn-prod-trail", tags=TAGS)
    # alert-routing: an alarm that notifies nobody, and one whose topic nobody subscribed to
    aws.cloudwatch.MetricAlarm(
        "silent",
        comparison_operator="GreaterThanThreshold",
        evaluation_periods=1,
        metric_name="Invocation5XXErrors",
        namespace="AWS/SageMaker",
        period=60,
        statistic="Sum",
        threshold=1,
        dimensions={"EndpointName": ENDPOINT_NAME},
        tags=TAGS,
    )
    unheard = aws.sns.Topic("unheard", tags=TAGS)
    aws.cloudwatch.MetricAlarm(
        "unheard",
        comparison_operator="GreaterThanThreshold",
        evaluation_periods=1,
        metric_name="ModelLatency",
        namespace="AWS/SageMaker",
        period=60,
        statistic="Average",
        threshold=1000,
        alarm_actions=[unheard.arn],
        ok_actions=["arn:aws:autoscaling:us-east-1:123456789012:scalingPolicy:x:autoScalingGroupName/g:policyName/p"],
        tags=TAGS,
    )


def aws_compliant() -> None:
    """Every AWS rule satisfied with raw resources, in a protected environment."""
    key = aws.kms.Key(
        "key",
        enable_key_rotation=True,
        rotation_period_in_days=365,
        policy=_doc(
            {
                "Sid": "Admin",
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
                "Action": ["kms:DescribeKey", "kms:PutKeyPolicy", "kms:Decrypt", "kms:Encrypt"],
                "Resource": "*",
            }
        ),
        tags=TAGS,
        opts=KEEP,
    )
    bucket = aws.s3.Bucket("data", bucket="churn-prod-data", tags=TAGS, opts=KEEP)
    aws.s3.BucketServerSideEncryptionConfiguration(
        "data-sse",
        bucket=bucket.id,
        rules=[
            {
                "apply_server_side_encryption_by_default": {"sse_algorithm": "aws:kms", "kms_master_key_id": key.arn},
                "bucket_key_enabled": True,
            }
        ],
    )
    aws.s3.BucketPublicAccessBlock(
        "data-pab",
        bucket=bucket.id,
        block_public_acls=True,
        block_public_policy=True,
        ignore_public_acls=True,
        restrict_public_buckets=True,
    )
    aws.s3.BucketVersioning("data-versioning", bucket=bucket.id, versioning_configuration={"status": "Enabled"})
    tls = bucket.arn.apply(
        lambda arn: _doc(
            {
                "Sid": "TlsOnly",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [arn, f"{arn}/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            }
        )
    )
    aws.s3.BucketPolicy("data-policy", bucket=bucket.id, policy=tls)
    role = aws.iam.Role(
        "sagemaker",
        assume_role_policy=_doc(
            {"Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ),
        inline_policies=[
            {
                "name": "data",
                "policy": bucket.arn.apply(
                    lambda arn: _doc(
                        {"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"], "Resource": [f"{arn}/*"]},
                        {"Effect": "Allow", "Action": ["cloudwatch:PutMetricData"], "Resource": "*"},
                    )
                ),
            }
        ],
        tags=TAGS,
    )
    model = aws.sagemaker.Model(
        "model",
        execution_role_arn=role.arn,
        enable_network_isolation=True,
        primary_container={"model_package_name": "arn:aws:sagemaker:us-east-1:123456789012:model-package/churn/7"},
        tags=TAGS,
    )
    config = aws.sagemaker.EndpointConfiguration(
        "serving-config",
        kms_key_arn=key.arn,
        production_variants=[
            {
                "variant_name": "main",
                "model_name": model.name,
                "instance_type": "ml.m5.large",
                "initial_instance_count": 2,
            }
        ],
        data_capture_config={
            "enable_capture": True,
            "initial_sampling_percentage": 100,
            "kms_key_id": key.arn,
            "destination_s3_uri": "s3://churn-prod-data/capture",
            "capture_options": [{"capture_mode": "Input"}, {"capture_mode": "Output"}],
        },
        tags=TAGS,
    )
    alerts = aws.sns.Topic("alerts", kms_master_key_id=key.arn, tags=TAGS)
    aws.sns.TopicSubscription("alerts-email", topic=alerts.arn, protocol="email", endpoint="ml-oncall@example.com")
    alarm = aws.cloudwatch.MetricAlarm(
        "errors",
        alarm_actions=[alerts.arn],
        ok_actions=[alerts.arn],
        comparison_operator="GreaterThanThreshold",
        evaluation_periods=3,
        metric_name="Invocation5XXErrors",
        namespace="AWS/SageMaker",
        period=60,
        statistic="Sum",
        threshold=5,
        dimensions={"EndpointName": ENDPOINT_NAME, "VariantName": "main"},
        tags=TAGS,
    )
    aws.sagemaker.Endpoint(
        "serving",
        name=ENDPOINT_NAME,
        endpoint_config_name=config.name,
        deployment_config={
            "blue_green_update_policy": {
                "traffic_routing_configuration": {
                    "type": "CANARY",
                    "wait_interval_in_seconds": 600,
                    "canary_size": {"type": "CAPACITY_PERCENT", "value": 10},
                }
            },
            "auto_rollback_configuration": {"alarms": [{"alarm_name": alarm.name}]},
        },
        tags=TAGS,
    )
    quality = aws.sagemaker.DataQualityJobDefinition(
        "drift",
        name="churn-prod-drift",
        role_arn=role.arn,
        data_quality_app_specification={"image_uri": "156813124566.dkr.ecr.us-east-1.amazonaws.com/monitor:1"},
        data_quality_job_input={"endpoint_input": {"endpoint_name": ENDPOINT_NAME, "local_path": "/in"}},
        data_quality_job_output_config={
            "kms_key_id": key.arn,
            "monitoring_outputs": {"s3_output": {"s3_uri": "s3://churn-prod-data/monitoring", "local_path": "/out"}},
        },
        job_resources={
            "cluster_config": {
                "instance_count": 1,
                "instance_type": "ml.m5.large",
                "volume_size_in_gb": 20,
                "volume_kms_key_id": key.arn,
            }
        },
        network_config={"enable_network_isolation": True, "enable_inter_container_traffic_encryption": True},
        tags=TAGS,
    )
    aws.sagemaker.MonitoringSchedule(
        "drift-schedule",
        monitoring_schedule_config={
            "monitoring_job_definition_name": quality.name,
            "monitoring_type": "DataQuality",
            "schedule_config": {"schedule_expression": "cron(0 * ? * * *)"},
        },
        tags=TAGS,
    )
    aws.cloudwatch.LogGroup("logs", retention_in_days=90, kms_key_id=key.arn, tags=TAGS)
    aws.budgets.Budget(
        "budget",
        budget_type="COST",
        limit_amount="500",
        limit_unit="USD",
        time_unit="MONTHLY",
        notifications=[
            {
                "comparison_operator": "GREATER_THAN",
                "threshold": 80,
                "threshold_type": "PERCENTAGE",
                "notification_type": "FORECASTED",
                "subscriber_email_addresses": ["ml@example.com"],
            }
        ],
        tags=TAGS,
    )

    # audit-logging: a multi-region, validated, KMS-encrypted trail with the stack's data events
    aws.cloudtrail.Trail(
        "audit",
        s3_bucket_name=bucket.id,
        kms_key_id=key.arn,
        is_multi_region_trail=True,
        enable_log_file_validation=True,
        advanced_event_selectors=[
            {"name": "management", "field_selectors": [{"field": "eventCategory", "equals": ["Management"]}]},
            *(
                {
                    "name": data_type,
                    "field_selectors": [
                        {"field": "eventCategory", "equals": ["Data"]},
                        {"field": "resources.type", "equals": [data_type]},
                    ],
                }
                for data_type in ("AWS::S3::Object", "AWS::SageMaker::Endpoint")
            ),
        ],
        tags=TAGS,
    )


# --- GCP --------------------------------------------------------------------------------------------

LABELS = dict(TAGS)
GCP_KEY = "projects/p/locations/us-central1/keyRings/ring/cryptoKeys/key"


def gcp_violations() -> None:
    """Vertex endpoint without CMEK, bucket without public access prevention, roles/owner, and more."""
    gcp.vertex.AiEndpoint("endpoint", name="8123", display_name="churn", location="us-central1", labels=LABELS)
    gcp.storage.Bucket("raw-data", location="US")
    gcp.projects.IAMMember("owner", project="p", role="roles/owner", member="user:someone@example.com")
    # least-privilege-iam: a whole service's admin role, project-wide, for people
    gcp.projects.IAMMember("vertex-admin", project="p", role="roles/aiplatform.admin", member="group:ml@example.com")
    gcp.vertex.AiFeatureStore("features", region="us-central1", labels=LABELS)
    gcp.kms.CryptoKey("key", key_ring="projects/p/locations/us-central1/keyRings/ring", labels=LABELS)
    gcp.workbench.Instance(
        "notebook",
        location="us-central1-a",
        gce_setup={"machine_type": "a3-highgpu-8g", "shielded_instance_config": {"enable_integrity_monitoring": False}},
        labels=LABELS,
    )
    gcp.compute.SSLPolicy("tls", min_tls_version="TLS_1_0")
    gcp.vertex.AiEndpointWithModelGardenDeployment("garden", location="us-central1", hugging_face_model_id="org/model")
    # alert-routing: an alert policy that notifies nobody
    gcp.monitoring.AlertPolicy(
        "silent",
        display_name="churn errors",
        combiner="OR",
        conditions=[
            {
                "display_name": "errors",
                "condition_threshold": {
                    "filter": 'resource.type = "aiplatform.googleapis.com/Endpoint"',
                    "comparison": "COMPARISON_GT",
                    "duration": "300s",
                    "threshold_value": 5,
                },
            }
        ],
        user_labels=LABELS,
    )


def gcp_compliant() -> None:
    """Every GCP rule satisfied with raw resources, in a protected environment."""
    ring = gcp.kms.KeyRing("ring", location="us-central1", opts=KEEP)
    key = gcp.kms.CryptoKey("key", key_ring=ring.id, rotation_period="7776000s", labels=LABELS, opts=KEEP)
    gcp.storage.Bucket(
        "data",
        location="US",
        labels=LABELS,
        encryption={"default_kms_key_name": key.id},
        public_access_prevention="enforced",
        uniform_bucket_level_access=True,
        versioning={"enabled": True},
        opts=KEEP,
    )
    endpoint = gcp.vertex.AiEndpoint(
        "endpoint",
        name="8123",
        display_name="churn",
        location="us-central1",
        region="us-central1",
        labels=LABELS,
        encryption_spec={"kms_key_name": key.id},
        private_service_connect_config={"enable_private_service_connect": True, "project_allowlists": ["p"]},
        predict_request_response_logging_config={
            "enabled": True,
            "sampling_rate": 0.5,
            "bigquery_destination": {"output_uri": "bq://p.capture.requests"},
        },
    )
    oncall = gcp.monitoring.NotificationChannel(
        "oncall",
        display_name="on-call",
        type="email",
        labels={"email_address": "ml-oncall@example.com"},
        user_labels=LABELS,
    )
    gcp.monitoring.AlertPolicy(
        "endpoint-errors",
        display_name="churn endpoint errors",
        combiner="OR",
        notification_channels=[oncall.id],
        conditions=[
            {
                "display_name": "errors",
                "condition_threshold": {
                    "filter": endpoint.name.apply(
                        lambda n: (
                            f'resource.type = "aiplatform.googleapis.com/Endpoint" AND '
                            f'resource.labels.endpoint_id = "{n}"'
                        )
                    ),
                    "comparison": "COMPARISON_GT",
                    "duration": "300s",
                    "threshold_value": 5,
                },
            }
        ],
        user_labels=LABELS,
    )
    gcp.vertex.AiFeatureOnlineStore(
        "online",
        name="churn_online",
        region="us-central1",
        labels=LABELS,
        bigtable={"auto_scaling": {"min_node_count": 1, "max_node_count": 2}},
        encryption_spec={"kms_key_name": key.id},
        opts=KEEP,
    )
    gcp.projects.IAMMember("user", project="p", role="roles/aiplatform.user", member="group:ml@example.com")
    # audit-logging: Data Access audit logs of every service the stack keeps data or models in
    for service in ("aiplatform", "bigquery", "storage"):
        gcp.projects.IAMAuditConfig(
            f"audit-{service}",
            project="p",
            service=f"{service}.googleapis.com",
            audit_log_configs=[{"log_type": t} for t in ("ADMIN_READ", "DATA_READ", "DATA_WRITE")],
        )
    gcp.workbench.Instance(
        "notebook",
        location="us-central1-a",
        gce_setup={
            "machine_type": "n1-standard-8",
            "disable_public_ip": True,
            "boot_disk": {"disk_encryption": "CMEK", "kms_key": key.id},
        },
        labels=LABELS,
    )
    # monitoring-required: a scheduled drift check over the endpoint's request logs that submits a pipeline job
    drift = gcp.workflows.Workflow(
        "drift",
        name="churn-drift",
        region="us-central1",
        crypto_key_name=key.id,
        labels=LABELS,
        source_contents=json.dumps(
            {
                "main": {
                    "steps": [
                        {
                            "measure": {
                                "call": "googleapis.bigquery.v2.jobs.query",
                                "args": {"projectId": "p", "body": {"query": "SELECT 1 FROM `p.capture.requests`"}},
                                "result": "drift",
                            }
                        },
                        {
                            "retrain": {
                                "call": "http.post",
                                "args": {
                                    "url": "https://us-central1-aiplatform.googleapis.com/v1/projects/p/locations/"
                                    "us-central1/pipelineJobs",
                                    "auth": {"type": "OAuth2"},
                                },
                            }
                        },
                    ]
                }
            }
        ),
    )
    gcp.cloudscheduler.Job(
        "drift-check",
        region="us-central1",
        schedule="0 * * * *",
        http_target={
            "uri": drift.id.apply(lambda i: f"https://workflowexecutions.googleapis.com/v1/{i}/executions"),
            "http_method": "POST",
        },
    )
    gcp.billing.Budget(
        "budget",
        billing_account="000000-000000-000000",
        amount={"specified_amount": {"currency_code": "USD", "units": "500"}},
        threshold_rules=[{"threshold_percent": 0.8}],
    )


# --- Kubernetes ---------------------------------------------------------------------------------------

SECURE = {
    "run_as_non_root": True,
    "run_as_user": 10001,
    "allow_privilege_escalation": False,
    "read_only_root_filesystem": True,
    "capabilities": {"drop": ["ALL"]},
    "seccomp_profile": {"type": "RuntimeDefault"},
}
RESOURCES = {"requests": {"cpu": "500m", "memory": "1Gi"}, "limits": {"cpu": "1", "memory": "1Gi"}}
K8S_LABELS = dict(TAGS)


def _ingress_chart(version: str) -> None:
    """An ingress-nginx Helm release at ``version`` (helm-chart-pinned)."""
    k8s.helm.v3.Release(
        "ingress",
        chart="ingress-nginx",
        version=version,
        namespace="ingress",
        repository_opts={"repo": "https://kubernetes.github.io/ingress-nginx"},
    )


def k8s_violations() -> None:
    """Privileged container with a latest image, namespace without quota, public LoadBalancer, and more."""
    k8s.core.v1.Namespace("team-a", metadata={"name": "team-a", "labels": K8S_LABELS})
    # helm-chart-pinned: a chart at a version range, so each deploy takes the repository's newest match
    _ingress_chart("^4.13.0")
    k8s.apps.v1.Deployment(
        "trainer",
        metadata={"namespace": "team-a", "labels": K8S_LABELS},
        spec={
            "selector": {"match_labels": {"app": "t"}},
            "strategy": {"type": "Recreate"},
            "template": {
                "metadata": {"labels": {"app": "t"}},
                "spec": {
                    "node_selector": {"node.kubernetes.io/instance-type": "p5.48xlarge"},
                    "containers": [
                        {"name": "trainer", "image": "pytorch/pytorch:latest", "security_context": {"privileged": True}}
                    ],
                },
            },
        },
    )
    k8s.core.v1.Service(
        "public",
        metadata={"namespace": "team-a", "labels": K8S_LABELS},
        spec={"type": "LoadBalancer", "selector": {"app": "t"}, "ports": [{"port": 80}]},
    )
    k8s.rbac.v1.ClusterRoleBinding(
        "admin",
        metadata={"labels": K8S_LABELS},
        role_ref={"api_group": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"},
        subjects=[{"kind": "ServiceAccount", "name": "trainer", "namespace": "team-a"}],
    )
    k8s.networking.v1.Ingress("web", metadata={"namespace": "team-a"}, spec={"rules": [{"host": "ml.example.com"}]})
    k8s.storage.v1.StorageClass("fast", provisioner="ebs.csi.aws.com", metadata={"labels": K8S_LABELS})
    k8s.core.v1.PersistentVolumeClaim(
        "data",
        metadata={"namespace": "team-a", "labels": K8S_LABELS},
        spec={"access_modes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "10Gi"}}},
    )
    k8s.apiextensions.CustomResource(
        "churn",
        api_version="serving.kserve.io/v1beta1",
        kind="InferenceService",
        metadata={"name": "churn", "namespace": "team-a", "labels": K8S_LABELS},
        spec={"predictor": {"model": {"modelFormat": {"name": "sklearn"}, "storageUri": "s3://models/churn/latest"}}},
    )
    # encryption-in-transit: a plaintext Redis, and a PostgreSQL without ssl whose pg_hba.conf accepts non-TLS
    k8s.apps.v1.Deployment(
        "cache",
        metadata={"namespace": "team-a", "labels": K8S_LABELS},
        spec={
            "selector": {"match_labels": {"app": "cache"}},
            "template": {
                "metadata": {"labels": {"app": "cache"}},
                "spec": {"containers": [{"name": "redis", "image": "redis:7.2.5", "args": ["--appendonly", "yes"]}]},
            },
        },
    )
    k8s.core.v1.ConfigMap(
        "db-hba",
        metadata={"name": "db-hba", "namespace": "team-a", "labels": K8S_LABELS},
        data={"pg_hba.conf": "local all all trust\nhost all all 0.0.0.0/0 md5\n"},
    )
    k8s.apps.v1.StatefulSet(
        "db",
        metadata={"namespace": "team-a", "labels": K8S_LABELS},
        spec={
            "service_name": "db",
            "selector": {"match_labels": {"app": "db"}},
            "template": {
                "metadata": {"labels": {"app": "db"}},
                "spec": {
                    "containers": [
                        {
                            "name": "postgres",
                            "image": "postgres:16.4",
                            "args": ["-c", "hba_file=/etc/pg/pg_hba.conf"],
                            "volume_mounts": [{"name": "hba", "mount_path": "/etc/pg"}],
                        }
                    ],
                    "volumes": [{"name": "hba", "config_map": {"name": "db-hba"}}],
                },
            },
        },
    )
    # alert-routing and monitoring-required: an alert without severity that no AlertmanagerConfig routes,
    # on a drift metric nothing in the stack exports
    k8s.apiextensions.CustomResource(
        "churn-alerts",
        api_version="monitoring.coreos.com/v1",
        kind="PrometheusRule",
        metadata={"namespace": "team-a", "labels": K8S_LABELS},
        spec={
            "groups": [
                {
                    "name": "churn",
                    "rules": [{"alert": "ChurnDrift", "expr": 'max(churn_feature_psi{model="churn"}) > 0.2'}],
                }
            ]
        },
    )


def k8s_compliant() -> None:
    """Every Kubernetes rule satisfied with raw objects, in a protected environment."""
    meta = {"namespace": "team-a", "labels": K8S_LABELS}
    # deletion-protection: the namespace holds a claim, so it is protected and retained
    k8s.core.v1.Namespace("team-a", metadata={"name": "team-a", "labels": K8S_LABELS}, opts=KEEP)
    # helm-chart-pinned: one exact chart version
    _ingress_chart("4.13.3")
    k8s.core.v1.ResourceQuota(
        "quota",
        metadata=meta,
        spec={
            "hard": {
                "requests.cpu": "16",
                "requests.memory": "64Gi",
                "limits.cpu": "32",
                "limits.memory": "64Gi",
                "requests.nvidia.com/gpu": "2",
            }
        },
    )
    k8s.core.v1.LimitRange(
        "limits",
        metadata=meta,
        spec={
            "limits": [
                {
                    "type": "Container",
                    "default": {"cpu": "1", "memory": "1Gi"},
                    "default_request": {"cpu": "250m", "memory": "256Mi"},
                }
            ]
        },
    )
    k8s.networking.v1.NetworkPolicy(
        "default-deny", metadata=meta, spec={"pod_selector": {}, "policy_types": ["Ingress", "Egress"]}
    )
    k8s.apps.v1.Deployment(
        "api",
        metadata=meta,
        spec={
            "selector": {"match_labels": {"app": "api"}},
            "template": {
                "metadata": {"labels": {"app": "api"}},
                "spec": {
                    "automount_service_account_token": False,
                    "node_selector": {"node.kubernetes.io/instance-type": "m5.xlarge"},
                    "containers": [
                        {
                            "name": "api",
                            "image": "registry.example.com/api:2.1.0",
                            "security_context": SECURE,
                            "resources": RESOURCES,
                            "readiness_probe": {"http_get": {"path": "/ready", "port": 8080}},
                        }
                    ],
                },
            },
        },
    )
    k8s.core.v1.Service(
        "api", metadata=meta, spec={"type": "ClusterIP", "selector": {"app": "api"}, "ports": [{"port": 80}]}
    )
    k8s.rbac.v1.Role(
        "reader", metadata=meta, rules=[{"api_groups": [""], "resources": ["configmaps"], "verbs": ["get"]}]
    )
    k8s.apiextensions.CustomResource(
        "churn",
        api_version="serving.kserve.io/v1beta1",
        kind="InferenceService",
        metadata={
            "name": "churn",
            "namespace": "team-a",
            "labels": {**K8S_LABELS, "networking.kserve.io/visibility": "cluster-local"},
        },
        spec={
            "predictor": {
                "automountServiceAccountToken": False,
                "canaryTrafficPercent": 10,
                "logger": {"mode": "all", "url": "http://capture.team-a.svc:8080"},
                "model": {
                    "modelFormat": {"name": "sklearn"},
                    "storageUri": "s3://models/churn/v7",
                    "resources": {"requests": {"cpu": "1", "memory": "2Gi"}, "limits": {"cpu": "1", "memory": "2Gi"}},
                    "securityContext": {
                        "runAsNonRoot": True,
                        "runAsUser": 10001,
                        "allowPrivilegeEscalation": False,
                        "readOnlyRootFilesystem": True,
                        "capabilities": {"drop": ["ALL"]},
                        "seccompProfile": {"type": "RuntimeDefault"},
                    },
                },
            }
        },
    )
    k8s.apiextensions.CustomResource(
        "churn-alerts",
        api_version="monitoring.coreos.com/v1",
        kind="PrometheusRule",
        metadata={"namespace": "team-a", "labels": K8S_LABELS},
        spec={
            "groups": [
                {
                    "name": "churn",
                    "rules": [
                        {
                            "alert": "ChurnErrors",
                            "expr": 'sum(rate(revision_request_count{service_name="churn-predictor",'
                            'response_code_class="5xx"}[5m])) > 1',
                            "labels": {"severity": "critical"},
                        },
                        {
                            "alert": "ChurnDrift",
                            "expr": 'max(model_feature_drift_score{model="churn"}) > 0.3',
                            "labels": {"severity": "warning"},
                        },
                    ],
                }
            ]
        },
    )
    # budget-required: the namespace's spend, priced by OpenCost, against a monthly budget.
    k8s.apiextensions.CustomResource(
        "spend-budget",
        api_version="monitoring.coreos.com/v1",
        kind="PrometheusRule",
        metadata={"namespace": "team-a", "labels": K8S_LABELS},
        spec={
            "groups": [
                {
                    "name": "spend",
                    "rules": [
                        {
                            "alert": "NamespaceSpendBudget",
                            "expr": 'sum(container_cpu_allocation{namespace="team-a"} * on(node) group_left() '
                            "node_cpu_hourly_cost) * 730 > 800",
                            "labels": {"severity": "warning"},
                        }
                    ],
                }
            ]
        },
    )
    # monitoring-required: the drift detector exports the metric the drift alert reads
    k8s.apps.v1.Deployment(
        "drift-detector",
        metadata={**meta, "labels": {**K8S_LABELS, "app.kubernetes.io/component": "drift-detector"}},
        spec={
            "selector": {"match_labels": {"app": "drift"}},
            "template": {
                "metadata": {"labels": {"app": "drift"}},
                "spec": {
                    "automount_service_account_token": False,
                    "node_selector": {"node.kubernetes.io/instance-type": "m5.xlarge"},
                    "containers": [
                        {
                            "name": "detector",
                            "image": "registry.example.com/drift:1.0.0",
                            "env": [{"name": "DRIFT_METRIC", "value": "model_feature_drift_score"}],
                            "security_context": SECURE,
                            "resources": RESOURCES,
                            "readiness_probe": {"http_get": {"path": "/healthz", "port": 9090}},
                        }
                    ],
                },
            },
        },
    )
    # alert-routing: critical pages, warnings go to Slack, both by e-mail
    k8s.apiextensions.CustomResource(
        "alert-routing",
        api_version="monitoring.coreos.com/v1alpha1",
        kind="AlertmanagerConfig",
        metadata=meta,
        spec={
            "route": {
                "receiver": "email",
                "routes": [
                    {
                        "receiver": "pagerduty",
                        "matchers": [{"name": "severity", "value": "critical", "matchType": "="}],
                        "continue": True,
                    },
                    {"receiver": "slack", "matchers": [{"name": "severity", "value": "warning", "matchType": "="}]},
                ],
            },
            "receivers": [
                {"name": "pagerduty", "pagerdutyConfigs": [{"routingKey": {"name": "alerting", "key": "pd"}}]},
                {"name": "slack", "slackConfigs": [{"apiURL": {"name": "alerting", "key": "slack"}}]},
                {"name": "email", "emailConfigs": [{"to": "ml-oncall@example.com"}]},
            ],
        },
    )
    # deployment-safety: the canary is promoted or rolled back on its Prometheus error rate
    k8s.apiextensions.CustomResource(
        "canary-analysis",
        api_version="argoproj.io/v1alpha1",
        kind="AnalysisTemplate",
        metadata=meta,
        spec={
            "metrics": [
                {
                    "name": "error-rate",
                    "successCondition": "result[0] < 0.01",
                    "provider": {
                        "prometheus": {
                            "address": "http://prometheus.monitoring:9090",
                            "query": 'sum(rate(revision_request_count{service_name=~"churn-predictor.*",'
                            'response_code_class="5xx"}[5m]))',
                        }
                    },
                }
            ]
        },
    )
    # encryption-at-rest: the claim names a StorageClass of the stack encrypting with a customer-managed key
    k8s.storage.v1.StorageClass(
        "encrypted",
        metadata={"name": "encrypted", "labels": K8S_LABELS},
        provisioner="ebs.csi.aws.com",
        parameters={"type": "gp3", "encrypted": "true", "kmsKeyId": EKS_KEY},
    )
    k8s.core.v1.PersistentVolumeClaim(
        "data",
        metadata=meta,
        opts=KEEP,
        spec={
            "access_modes": ["ReadWriteOnce"],
            "storage_class_name": "encrypted",
            "resources": {"requests": {"storage": "10Gi"}},
        },
    )


# --- Cluster guardrails (issue 11 section 5): EKS, GKE, service-account tokens, RBAC, channel labels -------

OPEN = ["0.0.0.0/0"]
EKS_KEY = "arn:aws:kms:us-east-1:123456789012:key/0f1e2d3c-aaaa-bbbb-cccc-0123456789ab"


def cluster_guardrail_violations() -> None:
    """A public EKS/GKE API without Secrets encryption or audit logs, default tokens and a default-SA binding."""
    aws.eks.Cluster(
        "eks",
        role_arn="arn:aws:iam::123456789012:role/eks",
        vpc_config={"subnet_ids": ["subnet-1", "subnet-2"], "public_access_cidrs": OPEN},
        tags=TAGS,
    )
    gcp.container.Cluster(
        "gke",
        location="europe-west4",
        initial_node_count=1,
        master_authorized_networks_config={"cidr_blocks": [{"cidr_block": "0.0.0.0/0", "display_name": "all"}]},
        database_encryption={"state": "DECRYPTED"},
        resource_labels=LABELS,
    )
    meta = {"namespace": "team-a", "labels": K8S_LABELS}
    k8s.core.v1.ServiceAccount("worker", metadata={**meta, "name": "worker"})
    k8s.batch.v1.Job(
        "batch",
        metadata=meta,
        spec={
            "template": {
                "spec": {
                    "service_account_name": "worker",
                    "restart_policy": "Never",
                    "containers": [
                        {
                            "name": "batch",
                            "image": "registry.example.com/batch:1.0.0",
                            "security_context": SECURE,
                            "resources": RESOURCES,
                        }
                    ],
                }
            }
        },
    )
    k8s.rbac.v1.Role(
        "everything", metadata=meta, rules=[{"api_groups": [""], "resources": ["pods/*"], "verbs": ["get"]}]
    )
    k8s.rbac.v1.RoleBinding(
        "default-reader",
        metadata=meta,
        role_ref={"api_group": "rbac.authorization.k8s.io", "kind": "Role", "name": "reader"},
        subjects=[{"kind": "ServiceAccount", "name": "default", "namespace": "team-a"}],
    )
    # required-tags: the channel's `labels` are its settings; its resource labels (userLabels) are missing
    gcp.monitoring.NotificationChannel(
        "oncall", display_name="on-call", type="email", labels={"email_address": "ml-oncall@example.com"}
    )


def cluster_guardrail_compliant() -> None:
    """The same resources done right: private or fenced APIs, CMK-encrypted Secrets, audit logs, explicit tokens."""
    aws.eks.Cluster(
        "eks",
        role_arn="arn:aws:iam::123456789012:role/eks",
        vpc_config={
            "subnet_ids": ["subnet-1", "subnet-2"],
            "endpoint_private_access": True,
            "endpoint_public_access": False,
        },
        encryption_config={"resources": ["secrets"], "provider": {"key_arn": EKS_KEY}},
        enabled_cluster_log_types=["api", "audit", "authenticator", "controllerManager", "scheduler"],
        tags=TAGS,
    )
    gcp.container.Cluster(
        "gke",
        location="europe-west4",
        initial_node_count=1,
        private_cluster_config={"enable_private_nodes": True, "enable_private_endpoint": True},
        master_authorized_networks_config={"cidr_blocks": [{"cidr_block": "10.0.0.0/8", "display_name": "vpc"}]},
        database_encryption={"state": "ENCRYPTED", "key_name": GCP_KEY},
        resource_labels=LABELS,
    )
    meta = {"namespace": "team-a", "labels": K8S_LABELS}
    k8s.core.v1.ServiceAccount("worker", metadata={**meta, "name": "worker"}, automount_service_account_token=False)
    k8s.batch.v1.Job(
        "batch",
        metadata=meta,
        spec={
            "template": {
                "spec": {
                    "service_account_name": "worker",
                    "automount_service_account_token": False,
                    "restart_policy": "Never",
                    "containers": [
                        {
                            "name": "batch",
                            "image": "registry.example.com/batch:1.0.0",
                            "security_context": SECURE,
                            "resources": RESOURCES,
                        }
                    ],
                }
            }
        },
    )
    # An in-cluster controller: it calls the API and says so; its token is projected and expires.
    api_client = {**meta, "annotations": {"mlops-infra/uses-kubernetes-api": "true"}}
    k8s.core.v1.ServiceAccount("controller", metadata={**api_client, "name": "controller"})
    k8s.batch.v1.Job(
        "controller",
        metadata=api_client,
        spec={
            "template": {
                "spec": {
                    "service_account_name": "controller",
                    "automount_service_account_token": False,
                    "restart_policy": "Never",
                    "volumes": [
                        {
                            "name": "api-token",
                            "projected": {"sources": [{"service_account_token": {"path": "token"}}]},
                        }
                    ],
                    "containers": [
                        {
                            "name": "controller",
                            "image": "registry.example.com/controller:1.0.0",
                            "security_context": SECURE,
                            "resources": RESOURCES,
                            "volume_mounts": [{"name": "api-token", "mount_path": "/var/run/secrets/api"}],
                        }
                    ],
                }
            }
        },
    )
    k8s.rbac.v1.Role(
        "reader", metadata=meta, rules=[{"api_groups": [""], "resources": ["configmaps"], "verbs": ["get"]}]
    )
    k8s.rbac.v1.RoleBinding(
        "controller-reader",
        metadata=meta,
        role_ref={"api_group": "rbac.authorization.k8s.io", "kind": "Role", "name": "reader"},
        subjects=[{"kind": "ServiceAccount", "name": "controller", "namespace": "team-a"}],
    )
    gcp.monitoring.NotificationChannel(
        "oncall",
        display_name="on-call",
        type="email",
        labels={"email_address": "ml-oncall@example.com"},
        user_labels=LABELS,
    )


# --- Planned once per session -------------------------------------------------------------------------

_PLANNED: dict[tuple[str, str], CapturedStack] = {}


def planned(program: Callable[[], None], environment: str = "prod") -> CapturedStack:
    """``plan(program, environment=...)``, run once per session; a deep copy, so a test may edit it."""
    key = (program.__name__, environment)
    if key not in _PLANNED:
        _PLANNED[key] = plan(program, environment=environment)
    return copy.deepcopy(_PLANNED[key])
