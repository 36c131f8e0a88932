"""Raw programs whose policy-relevant values are unknown during ``pulumi preview``.

Each value comes from another resource's output that a new stack does not know yet (a key's ARN,
a ConfigMap's id), so ``plan(..., preview=True)`` captures the engine's unknown placeholder
there, exactly where ``pulumi preview`` sends it to a policy pack. Were the values known, every
resource here would pass its rule; the rules must skip (with a note), not report a violation.
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

TAGS = {"project": "churn", "environment": "prod", "owner": "ml-platform", "cost-center": "cc-1234"}
KEEP = pulumi.ResourceOptions(protect=True, retain_on_delete=True)
ROLE_ARN = "arn:aws:iam::123456789012:role/serving"


def later(source: pulumi.Output[Any], value: Any) -> pulumi.Output[Any]:
    """``value``, once ``source`` is known: unknown during preview, ``value`` on deploy."""
    return source.apply(lambda _: value)


def aws_unknowns() -> None:
    """S3 SSE rules[0] and SageMaker captureOptions[i] built from a key created in the same update."""
    key = aws.kms.Key("key", enable_key_rotation=True, tags=TAGS, opts=KEEP)
    bucket = aws.s3.Bucket("data", tags=TAGS, opts=KEEP)
    aws.s3.BucketServerSideEncryptionConfiguration(
        "data-sse",
        bucket=bucket.id,
        rules=[
            later(
                key.arn,
                {"apply_server_side_encryption_by_default": {"sse_algorithm": "aws:kms", "kms_master_key_id": "k"}},
            )
        ],
    )
    aws.sagemaker.EndpointConfiguration(
        "serving-config",
        kms_key_arn=key.arn,
        production_variants=[
            {"variant_name": "main", "model_name": "m", "instance_type": "ml.m5.large", "initial_instance_count": 1}
        ],
        data_capture_config={
            "enable_capture": True,
            "initial_sampling_percentage": 100,
            "destination_s3_uri": "s3://capture/churn",
            "kms_key_id": key.arn,
            "capture_options": [
                later(key.arn, {"capture_mode": "Input"}),
                later(key.arn, {"capture_mode": "Output"}),
            ],
        },
        tags=TAGS,
    )


def k8s_unknowns() -> None:
    """Container limits, capabilities and seccomp type, and the KServe visibility label, from a ConfigMap's id."""
    labels = {**TAGS}
    meta = {"namespace": "team-a", "labels": labels}
    settings = k8s.core.v1.ConfigMap("settings", metadata=meta, data={"tier": "gold"})
    k8s.apps.v1.Deployment(
        "api",
        metadata=meta,
        spec={
            "replicas": 2,
            "selector": {"match_labels": {"app": "api"}},
            "template": {
                "metadata": {"labels": {"app": "api"}},
                "spec": {
                    "automount_service_account_token": False,
                    "containers": [
                        {
                            "name": "api",
                            "image": "registry.example.com/api:1.0.0",
                            "security_context": {
                                "run_as_non_root": True,
                                "run_as_user": 10001,
                                "allow_privilege_escalation": False,
                                "read_only_root_filesystem": True,
                                "capabilities": later(settings.id, {"drop": ["ALL"]}),
                                "seccomp_profile": {"type": later(settings.id, "RuntimeDefault")},
                            },
                            "resources": {
                                "requests": {"cpu": "500m", "memory": "1Gi"},
                                "limits": later(settings.id, {"cpu": "1", "memory": "1Gi"}),
                            },
                        }
                    ],
                },
            },
        },
    )
    k8s.apiextensions.CustomResource(
        "churn",
        api_version="serving.kserve.io/v1beta1",
        kind="InferenceService",
        metadata={
            "name": "churn",
            "namespace": "team-a",
            "labels": {**labels, "networking.kserve.io/visibility": later(settings.id, "cluster-local")},
        },
        spec={"predictor": {"model": {"modelFormat": {"name": "sklearn"}, "storageUri": "s3://models/churn/v7"}}},
    )
