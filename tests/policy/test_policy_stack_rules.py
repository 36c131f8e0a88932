"""Stack-level rules and correlations on hand-built stack views."""

from __future__ import annotations

import json

from policy_factories import AWS_TAGS, KEY_ARN, check_stack, findings, urn, view

from mlops_infra.policy.model import Enforcement
from mlops_infra.policy.values import UNKNOWN_STRING

BUCKET = "aws:s3/bucket:Bucket"
SSE = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
PAB = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
FULL_BLOCK = {
    "blockPublicAcls": True,
    "blockPublicPolicy": True,
    "ignorePublicAcls": True,
    "restrictPublicBuckets": True,
}
TLS_POLICY = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "DenyInsecureTransport",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": ["arn:aws:s3:::data", "arn:aws:s3:::data/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            }
        ],
    }
)


def bucket(name: str = "data", **props: object) -> object:
    return view(BUCKET, {"bucket": name, "tags": AWS_TAGS, **props}, name=name)


def sse(target: str, algorithm: str = "aws:kms") -> object:
    rule = {"applyServerSideEncryptionByDefault": {"sseAlgorithm": algorithm, "kmsMasterKeyId": KEY_ARN}}
    return view(SSE, {"bucket": target, "rules": [rule]}, name=f"{target}-sse")


def test_bucket_is_encrypted_when_a_kms_configuration_targets_it() -> None:
    flagged = findings(check_stack("encryption-at-rest", bucket()))
    assert (
        len(flagged) == 1
        and flagged[0].urn == urn(BUCKET, "data")
        and "BucketServerSideEncryptionConfiguration" in flagged[0].message
    )
    assert check_stack("encryption-at-rest", bucket(), sse("data")) == []
    assert findings(check_stack("encryption-at-rest", bucket(), sse("other-bucket")))


def test_unknown_bucket_reference_is_matched_through_the_dependency() -> None:
    during_preview = view(SSE, {"bucket": UNKNOWN_STRING, "rules": []}, name="enc", dependencies=(urn(BUCKET, "data"),))
    assert check_stack("encryption-at-rest", bucket(), during_preview) == []


def test_inline_kms_encryption_on_the_bucket_counts() -> None:
    inline = {
        "serverSideEncryptionConfiguration": {
            "rule": {"applyServerSideEncryptionByDefault": {"sseAlgorithm": "aws:kms", "kmsMasterKeyId": KEY_ARN}}
        }
    }
    assert check_stack("encryption-at-rest", bucket(**inline)) == []


def test_bucket_is_private_only_with_a_full_public_access_block() -> None:
    assert "no BucketPublicAccessBlock" in findings(check_stack("no-public-access", bucket()))[0].message
    partial = view(PAB, {"bucket": "data", **FULL_BLOCK, "restrictPublicBuckets": False}, name="pab")
    assert "partial" in findings(check_stack("no-public-access", bucket(), partial))[0].message
    assert check_stack("no-public-access", bucket(), view(PAB, {"bucket": "data", **FULL_BLOCK}, name="pab")) == []
    account = view("aws:s3/accountPublicAccessBlock:AccountPublicAccessBlock", FULL_BLOCK, name="account")
    assert check_stack("no-public-access", bucket(), account) == []


def test_public_bucket_policy_and_acl_are_flagged_unless_marked() -> None:
    block = view(PAB, {"bucket": "data", **FULL_BLOCK}, name="pab")
    public = json.dumps(
        {"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "*"}]}
    )
    policy = view("aws:s3/bucketPolicy:BucketPolicy", {"bucket": "data", "policy": public}, name="pol")
    assert "Principal" in findings(check_stack("no-public-access", bucket(), block, policy))[0].message
    acl = view("aws:s3/bucketAcl:BucketAcl", {"bucket": "data", "acl": "public-read"}, name="acl")
    assert "ACL" in findings(check_stack("no-public-access", bucket(), block, acl))[0].message
    marked = bucket(tags={**AWS_TAGS, "mlops-infra/allow-public": "true"})
    assert check_stack("no-public-access", marked, policy, acl) == []


def test_bucket_is_tls_only_when_its_policy_denies_insecure_transport() -> None:
    assert "aws:SecureTransport" in findings(check_stack("encryption-in-transit", bucket()))[0].message
    policy = view("aws:s3/bucketPolicy:BucketPolicy", {"bucket": "data", "policy": TLS_POLICY}, name="pol")
    assert check_stack("encryption-in-transit", bucket(), policy) == []


def test_bucket_versioning_through_a_versioning_resource() -> None:
    versioning = "aws:s3/bucketVersioning:BucketVersioning"
    enabled = view(versioning, {"bucket": "data", "versioningConfiguration": {"status": "Enabled"}}, name="v")
    suspended = view(versioning, {"bucket": "data", "versioningConfiguration": {"status": "Suspended"}}, name="v")
    assert check_stack("deletion-protection", bucket(), enabled) == []
    assert findings(check_stack("deletion-protection", bucket(), suspended))
    assert {v.enforcement for v in findings(check_stack("deletion-protection", bucket(), environment="dev"))} == {
        Enforcement.ADVISORY
    }


NS = "kubernetes:core/v1:Namespace"


def namespaced(type_token: str, spec: dict[str, object], name: str, namespace: str = "team-a") -> object:
    return view(type_token, {"metadata": {"name": name, "namespace": namespace}, "spec": spec}, name=name)


QUOTA = {"hard": {"requests.cpu": "16", "requests.memory": "64Gi", "requests.nvidia.com/gpu": "2"}}
LIMITS = {"limits": [{"type": "Container", "default": {"cpu": "1", "memory": "1Gi"}}]}
DENY = {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}


def test_namespace_needs_quota_with_gpu_cap_limit_range_and_default_deny() -> None:
    namespace = view(NS, {"metadata": {"name": "team-a"}}, name="team-a")
    assert len(findings(check_stack("k8s-namespace-guardrails", namespace))) == 3
    no_gpu = namespaced(
        "kubernetes:core/v1:ResourceQuota", {"hard": {"requests.cpu": "1", "requests.memory": "1Gi"}}, "q"
    )
    complete = [
        namespaced("kubernetes:core/v1:LimitRange", LIMITS, "l"),
        namespaced("kubernetes:networking.k8s.io/v1:NetworkPolicy", DENY, "deny"),
    ]
    gaps = findings(check_stack("k8s-namespace-guardrails", namespace, no_gpu, *complete))
    assert len(gaps) == 1 and "GPUs" in gaps[0].message
    quota = namespaced("kubernetes:core/v1:ResourceQuota", QUOTA, "q")
    assert check_stack("k8s-namespace-guardrails", namespace, quota, *complete) == []
    elsewhere = [
        namespaced(t, s, n, namespace="team-b")
        for t, s, n in (
            ("kubernetes:core/v1:ResourceQuota", QUOTA, "q"),
            ("kubernetes:core/v1:LimitRange", LIMITS, "l"),
            ("kubernetes:networking.k8s.io/v1:NetworkPolicy", DENY, "deny"),
        )
    ]
    assert len(findings(check_stack("k8s-namespace-guardrails", namespace, *elsewhere))) == 3
    allow_all = namespaced("kubernetes:networking.k8s.io/v1:NetworkPolicy", {**DENY, "ingress": [{}]}, "deny")
    assert (
        "default-deny"
        in findings(check_stack("k8s-namespace-guardrails", namespace, quota, complete[0], allow_all))[0].message
    )


def test_production_sagemaker_endpoint_needs_monitoring_schedule_and_alarm() -> None:
    endpoint = view("aws:sagemaker/endpoint:Endpoint", {"name": "churn-prod-serving", "tags": AWS_TAGS}, name="serving")
    missing = findings(check_stack("monitoring-required", endpoint))
    assert len(missing) == 2 and {"MonitoringSchedule" in m.message for m in missing} == {True, False}
    definition = view(
        "aws:sagemaker/dataQualityJobDefinition:DataQualityJobDefinition",
        {"name": "drift", "dataQualityJobInput": {"endpointInput": {"endpointName": "churn-prod-serving"}}},
        name="dq",
    )
    schedule = view(
        "aws:sagemaker/monitoringSchedule:MonitoringSchedule",
        {"monitoringScheduleConfig": {"monitoringJobDefinitionName": "drift", "monitoringType": "DataQuality"}},
        name="s",
    )
    alarm = view(
        "aws:cloudwatch/metricAlarm:MetricAlarm",
        {"metricName": "Invocation5XXErrors", "dimensions": {"EndpointName": "churn-prod-serving"}},
        name="a",
    )
    assert check_stack("monitoring-required", endpoint, definition, schedule, alarm) == []
    assert check_stack("monitoring-required", endpoint, environment="dev") == []


def test_production_vertex_endpoint_and_kserve_service_need_alerts() -> None:
    endpoint = view("gcp:vertex/aiEndpoint:AiEndpoint", {"name": "8123", "displayName": "churn"}, name="ep")
    assert findings(check_stack("monitoring-required", endpoint))
    alert = view(
        "gcp:monitoring/alertPolicy:AlertPolicy",
        {
            "conditions": [
                {
                    "conditionThreshold": {
                        "filter": 'resource.type = "aiplatform.googleapis.com/Endpoint" AND '
                        'resource.label.endpoint_id = "8123"'
                    }
                }
            ]
        },
        name="al",
    )
    # an alert policy alone retrains nothing: the drift check is test_policy_operations_loop's subject
    remaining = findings(check_stack("monitoring-required", endpoint, alert))
    assert len(remaining) == 1 and "no drift check starts retraining" in remaining[0].message
    service = view(
        "kubernetes:serving.kserve.io/v1beta1:InferenceService",
        {"metadata": {"name": "churn", "namespace": "ml"}},
        name="isvc",
    )
    assert findings(check_stack("monitoring-required", service))
    rule = view(
        "kubernetes:monitoring.coreos.com/v1:PrometheusRule",
        {
            "metadata": {"namespace": "ml"},
            "spec": {
                "groups": [
                    {
                        "rules": [
                            {
                                "alert": "Errors",
                                "expr": 'rate(revision_request_count{service_name="churn-predictor"}[5m]) > 1',
                            }
                        ]
                    }
                ]
            },
        },
        name="pr",
    )
    remaining = findings(check_stack("monitoring-required", service, rule))
    assert len(remaining) == 1 and "feature drift" in remaining[0].message


def test_stack_needs_a_budget_with_alerts_per_cloud() -> None:
    aws_resource = view("aws:sqs/queue:Queue", {"kmsMasterKeyId": KEY_ARN}, name="q")
    missing = findings(check_stack("budget-required", aws_resource))
    assert (
        len(missing) == 1 and missing[0].urn.endswith("pulumi:pulumi:Stack::churn-prod") and "AWS" in missing[0].message
    )
    silent = view("aws:budgets/budget:Budget", {"limitAmount": "100", "budgetType": "COST"}, name="b")
    assert "notifications" in findings(check_stack("budget-required", aws_resource, silent))[0].message
    budget = view("aws:budgets/budget:Budget", {"limitAmount": "100", "notifications": [{"threshold": 80}]}, name="b")
    assert check_stack("budget-required", aws_resource, budget) == []
    gcp_resource = view("gcp:storage/bucket:Bucket", {}, name="gb")
    assert "GCP" in findings(check_stack("budget-required", aws_resource, budget, gcp_resource))[0].message
    gcp_budget = view("gcp:billing/budget:Budget", {"thresholdRules": [{"thresholdPercent": 0.8}]}, name="gbud")
    assert check_stack("budget-required", aws_resource, budget, gcp_resource, gcp_budget) == []
    assert check_stack("budget-required", view("kubernetes:core/v1:Namespace", {}, name="ns")) == []


def test_stack_rule_levels_follow_the_stack_environment_never_a_resource_tag() -> None:
    """As in the policy pack (one level per policy): a dev tag does not lower the level of an unknown stack."""
    dev_bucket = view(BUCKET, {"bucket": "d", "tags": {**AWS_TAGS, "environment": "dev"}}, name="d")
    prod_bucket = view(BUCKET, {"bucket": "p", "tags": AWS_TAGS}, name="p")
    for environment, expected in ((None, Enforcement.MANDATORY), ("dev", Enforcement.ADVISORY)):
        levels = {
            v.urn.rsplit("::", 1)[-1]: v.enforcement
            for v in findings(check_stack("encryption-in-transit", dev_bucket, prod_bucket, environment=environment))
        }
        assert levels == {"d": expected, "p": expected}
