"""Every rule that applies to AWS flags a violating raw resource and passes a compliant one (views built directly)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from policy_factories import AWS_TAGS, KEY_ARN, check, findings, view

from mlops_infra.policy.config import PolicyConfig
from mlops_infra.policy.model import Enforcement


def doc(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def pipeline(**arguments: Any) -> dict[str, Any]:
    """A pipeline definition with one step of each job kind, extra arguments merged into each."""
    training = {
        "Name": "Train",
        "Type": "Training",
        "Arguments": {
            "ResourceConfig": {"InstanceType": "ml.m5.xlarge", "InstanceCount": 1, **arguments.get("resource", {})},
            "OutputDataConfig": {"S3OutputPath": "s3://b/out", **arguments.get("output", {})},
            **arguments.get("training", {}),
        },
    }
    processing = {
        "Name": "Prep",
        "Type": "Processing",
        "Arguments": {
            "ProcessingResources": {
                "ClusterConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1, **arguments.get("cluster", {})}
            },
            "ProcessingOutputConfig": {"Outputs": [], **arguments.get("output", {})},
            **arguments.get("processing", {}),
        },
    }
    register = {
        "Name": "Register",
        "Type": "RegisterModel",
        "Arguments": {"ModelPackageGroupName": "g", "ModelApprovalStatus": {"Get": "Parameters.Approval"}},
    }
    condition = {"Name": "Gate", "Type": "Condition", "Arguments": {"IfSteps": [register], "ElseSteps": []}}
    return {
        "pipelineDefinition": json.dumps(
            {
                "Version": "2020-12-01",
                "Parameters": [
                    {
                        "Name": "Approval",
                        "Type": "String",
                        "DefaultValue": arguments.get("approval", "PendingManualApproval"),
                    }
                ],
                "Steps": [training, processing, condition],
            }
        )
    }


VARIANT = {"variantName": "main", "modelName": "m", "instanceType": "ml.m5.large", "initialInstanceCount": 2}
CAPTURE = {
    "enableCapture": True,
    "initialSamplingPercentage": 100,
    "destinationS3Uri": "s3://b/capture",
    "kmsKeyId": KEY_ARN,
    "captureOptions": [{"captureMode": "Input"}, {"captureMode": "Output"}],
}
SECURE_PIPELINE = pipeline(
    resource={"VolumeKmsKeyId": KEY_ARN},
    output={"KmsKeyId": KEY_ARN},
    cluster={"VolumeKmsKeyId": KEY_ARN},
    training={"EnableNetworkIsolation": True, "EnableInterContainerTrafficEncryption": True},
    processing={"NetworkConfig": {"EnableNetworkIsolation": True, "EnableInterContainerTrafficEncryption": True}},
)
JOB_DEFINITION = {
    "dataQualityJobOutputConfig": {"monitoringOutputs": [{"s3Output": {"s3Uri": "s3://b/m", "localPath": "/out"}}]},
    "jobResources": {"clusterConfig": {"instanceCount": 1, "instanceType": "ml.m5.large", "volumeSizeInGb": 20}},
}
SECURE_JOB_DEFINITION = {
    "dataQualityJobOutputConfig": {**JOB_DEFINITION["dataQualityJobOutputConfig"], "kmsKeyId": KEY_ARN},
    "jobResources": {"clusterConfig": {**JOB_DEFINITION["jobResources"]["clusterConfig"], "volumeKmsKeyId": KEY_ARN}},
    "networkConfig": {"enableNetworkIsolation": True, "enableInterContainerTrafficEncryption": True},
}

# (policy id, type token, violating props, compliant props, property the message must name)
CASES: list[tuple[str, str, dict[str, Any], dict[str, Any], str]] = [
    (
        "encryption-at-rest",
        "aws:sagemaker/endpointConfiguration:EndpointConfiguration",
        {"productionVariants": [VARIANT]},
        {"productionVariants": [VARIANT], "kmsKeyArn": KEY_ARN},
        "kmsKeyArn",
    ),
    (
        "encryption-at-rest",
        "aws:sagemaker/endpointConfiguration:EndpointConfiguration",
        {"productionVariants": [VARIANT], "kmsKeyArn": KEY_ARN, "dataCaptureConfig": {**CAPTURE, "kmsKeyId": None}},
        {"productionVariants": [VARIANT], "kmsKeyArn": KEY_ARN, "dataCaptureConfig": CAPTURE},
        "dataCaptureConfig.kmsKeyId",
    ),
    (
        "encryption-at-rest",
        "aws:sagemaker/notebookInstance:NotebookInstance",
        {"instanceType": "ml.t3.medium"},
        {"instanceType": "ml.t3.medium", "kmsKeyId": KEY_ARN},
        "kmsKeyId",
    ),
    (
        "encryption-at-rest",
        "aws:sagemaker/domain:Domain",
        {"domainName": "d"},
        {"domainName": "d", "kmsKeyId": KEY_ARN},
        "kmsKeyId",
    ),
    (
        "encryption-at-rest",
        "aws:sagemaker/featureGroup:FeatureGroup",
        {
            "offlineStoreConfig": {"s3StorageConfig": {"s3Uri": "s3://b/f"}},
            "onlineStoreConfig": {"enableOnlineStore": True},
        },
        {
            "offlineStoreConfig": {"s3StorageConfig": {"s3Uri": "s3://b/f", "kmsKeyId": KEY_ARN}},
            "onlineStoreConfig": {"enableOnlineStore": True, "securityConfig": {"kmsKeyId": KEY_ARN}},
        },
        "offlineStoreConfig.s3StorageConfig.kmsKeyId",
    ),
    (
        "encryption-at-rest",
        "aws:sagemaker/dataQualityJobDefinition:DataQualityJobDefinition",
        JOB_DEFINITION,
        SECURE_JOB_DEFINITION,
        "jobResources.clusterConfig.volumeKmsKeyId",
    ),
    (
        "encryption-at-rest",
        "aws:sagemaker/modelQualityJobDefinition:ModelQualityJobDefinition",
        {"modelQualityJobOutputConfig": {}, "jobResources": {"clusterConfig": {}}},
        {
            "modelQualityJobOutputConfig": {"kmsKeyId": KEY_ARN},
            "jobResources": {"clusterConfig": {"volumeKmsKeyId": KEY_ARN}},
        },
        "modelQualityJobOutputConfig.kmsKeyId",
    ),
    (
        "encryption-at-rest",
        "aws:sagemaker/flowDefinition:FlowDefinition",
        {"outputConfig": {"s3OutputPath": "s3://b/h"}},
        {"outputConfig": {"s3OutputPath": "s3://b/h", "kmsKeyId": KEY_ARN}},
        "outputConfig.kmsKeyId",
    ),
    (
        "encryption-at-rest",
        "aws:sagemaker/trainingJob:TrainingJob",
        {"outputDataConfig": {"s3OutputPath": "s3://b"}},
        {"outputDataConfig": {"kmsKeyId": KEY_ARN}, "resourceConfig": {"volumeKmsKeyId": KEY_ARN}},
        "outputDataConfig.kmsKeyId",
    ),
    ("encryption-at-rest", "aws:sagemaker/pipeline:Pipeline", pipeline(), SECURE_PIPELINE, "VolumeKmsKeyId"),
    (
        "encryption-at-rest",
        "aws:sqs/queue:Queue",
        {"kmsMasterKeyId": "alias/aws/sqs"},
        {"kmsMasterKeyId": KEY_ARN},
        "kmsMasterKeyId",
    ),
    ("encryption-at-rest", "aws:sns/topic:Topic", {}, {"kmsMasterKeyId": KEY_ARN}, "kmsMasterKeyId"),
    (
        "encryption-at-rest",
        "aws:cloudwatch/logGroup:LogGroup",
        {"retentionInDays": 30},
        {"retentionInDays": 30, "kmsKeyId": KEY_ARN},
        "kmsKeyId",
    ),
    (
        "encryption-at-rest",
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        {"bucket": "b", "rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"}}]},
        {
            "bucket": "b",
            "rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "aws:kms", "kmsMasterKeyId": KEY_ARN}}],
        },
        "sseAlgorithm",
    ),
    (
        "encryption-at-rest",
        "aws:dynamodb/table:Table",
        {"name": "t"},
        {"serverSideEncryption": {"enabled": True, "kmsKeyArn": KEY_ARN}},
        "serverSideEncryption.enabled",
    ),
    ("key-rotation", "aws:kms/key:Key", {"enableKeyRotation": False}, {"enableKeyRotation": True}, "enableKeyRotation"),
    (
        "key-rotation",
        "aws:kms/key:Key",
        {"enableKeyRotation": True, "rotationPeriodInDays": 730},
        {"enableKeyRotation": True, "rotationPeriodInDays": 365},
        "rotationPeriodInDays",
    ),
    (
        "encryption-in-transit",
        "aws:sagemaker/dataQualityJobDefinition:DataQualityJobDefinition",
        JOB_DEFINITION,
        SECURE_JOB_DEFINITION,
        "networkConfig.enableInterContainerTrafficEncryption",
    ),
    (
        "encryption-in-transit",
        "aws:sagemaker/trainingJob:TrainingJob",
        {},
        {"enableInterContainerTrafficEncryption": True},
        "enableInterContainerTrafficEncryption",
    ),
    (
        "encryption-in-transit",
        "aws:sagemaker/pipeline:Pipeline",
        pipeline(),
        SECURE_PIPELINE,
        "EnableInterContainerTrafficEncryption",
    ),
    (
        "encryption-in-transit",
        "aws:lb/listener:Listener",
        {"protocol": "HTTP", "defaultActions": [{"type": "forward"}]},
        {"protocol": "HTTPS", "certificateArn": "arn:aws:acm:us-east-1:1:certificate/x"},
        "HTTPS",
    ),
    ("required-tags", "aws:s3/bucket:Bucket", {"tags": {"owner": "x"}}, {"tags": AWS_TAGS}, "cost-center"),
    (
        "no-public-access",
        "aws:sagemaker/notebookInstance:NotebookInstance",
        {},
        {
            "directInternetAccess": "Disabled",
            "instanceMetadataServiceConfiguration": {"minimumInstanceMetadataServiceVersion": "2"},
        },
        "directInternetAccess",
    ),
    (
        "no-public-access",
        "aws:sagemaker/domain:Domain",
        {"appNetworkAccessType": "PublicInternetOnly"},
        {"appNetworkAccessType": "VpcOnly"},
        "appNetworkAccessType",
    ),
    ("no-public-access", "aws:lb/loadBalancer:LoadBalancer", {"internal": False}, {"internal": True}, "internal"),
    (
        "no-public-access",
        "aws:ec2/securityGroup:SecurityGroup",
        {"ingress": [{"fromPort": 22, "toPort": 22, "protocol": "tcp", "cidrBlocks": ["0.0.0.0/0"]}]},
        {"ingress": [{"fromPort": 443, "toPort": 443, "protocol": "tcp", "cidrBlocks": ["10.0.0.0/16"]}]},
        "cidrBlocks",
    ),
    (
        "network-isolation",
        "aws:sagemaker/model:Model",
        {"primaryContainer": {"image": "i"}},
        {"primaryContainer": {"image": "i"}, "enableNetworkIsolation": True},
        "enableNetworkIsolation",
    ),
    ("network-isolation", "aws:sagemaker/notebookInstance:NotebookInstance", {}, {"subnetId": "subnet-1"}, "subnetId"),
    (
        "network-isolation",
        "aws:sagemaker/trainingJob:TrainingJob",
        {},
        {"vpcConfig": {"subnets": ["subnet-1"], "securityGroupIds": ["sg-1"]}},
        "vpcConfig",
    ),
    (
        "network-isolation",
        "aws:sagemaker/dataQualityJobDefinition:DataQualityJobDefinition",
        JOB_DEFINITION,
        SECURE_JOB_DEFINITION,
        "networkConfig.enableNetworkIsolation",
    ),
    ("network-isolation", "aws:sagemaker/pipeline:Pipeline", pipeline(), SECURE_PIPELINE, "EnableNetworkIsolation"),
    (
        "least-privilege-iam",
        "aws:iam/policy:Policy",
        {"policy": doc({"Effect": "Allow", "Action": "*", "Resource": "*"})},
        {"policy": doc({"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": ["arn:aws:s3:::b/*"]})},
        "wildcard",
    ),
    (
        "least-privilege-iam",
        "aws:iam/rolePolicy:RolePolicy",
        {"policy": doc({"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": "*"})},
        {
            "policy": doc(
                {
                    "Effect": "Allow",
                    "Action": ["ecr:GetAuthorizationToken", "cloudwatch:PutMetricData"],
                    "Resource": "*",
                }
            )
        },
        'Resource "*"',
    ),
    (
        "least-privilege-iam",
        "aws:iam/role:Role",
        {
            "managedPolicyArns": ["arn:aws:iam::aws:policy/AdministratorAccess"],
            "assumeRolePolicy": doc(
                {"Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"}, "Action": "sts:AssumeRole"}
            ),
        },
        {
            "assumeRolePolicy": doc(
                {"Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"}, "Action": "sts:AssumeRole"}
            ),
            "inlinePolicies": [
                {
                    "name": "p",
                    "policy": doc({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}),
                }
            ],
        },
        "AdministratorAccess",
    ),
    (
        "least-privilege-iam",
        "aws:iam/role:Role",
        {"inlinePolicies": [{"name": "p", "policy": doc({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"})}]},
        {"inlinePolicies": [{"name": "p", "policy": doc({"Effect": "Deny", "Action": "s3:*", "Resource": "*"})}]},
        "NotAction",
    ),
    (
        "least-privilege-iam",
        "aws:iam/role:Role",
        {"assumeRolePolicy": doc({"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"})},
        {
            "assumeRolePolicy": doc(
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": "*"},
                    "Action": "sts:AssumeRole",
                    "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-1"}},
                }
            )
        },
        "assumeRolePolicy",
    ),
    (
        "least-privilege-iam",
        "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
        {"role": "r", "policyArn": "arn:aws:iam::aws:policy/AmazonSageMakerFullAccess"},
        {"role": "r", "policyArn": "arn:aws:iam::123456789012:policy/scoped"},
        "policyArn",
    ),
    (
        "least-privilege-iam",
        "aws:kms/key:Key",
        {
            "policy": doc(
                {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::1:root"}, "Action": "kms:*", "Resource": "*"}
            )
        },
        {
            "policy": doc(
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": "arn:aws:iam::1:root"},
                    "Action": ["kms:Decrypt"],
                    "Resource": "*",
                }
            )
        },
        "kms:*",
    ),
    (
        "least-privilege-iam",
        "aws:sagemaker/notebookInstance:NotebookInstance",
        {"rootAccess": "Enabled"},
        {"rootAccess": "Disabled"},
        "rootAccess",
    ),
    (
        "data-capture",
        "aws:sagemaker/endpointConfiguration:EndpointConfiguration",
        {"productionVariants": [VARIANT]},
        {"productionVariants": [VARIANT], "dataCaptureConfig": CAPTURE},
        "dataCaptureConfig",
    ),
    (
        "model-approval",
        "aws:sagemaker/model:Model",
        {"primaryContainer": {"image": "i", "modelDataUrl": "s3://b/model.tar.gz"}},
        {"primaryContainer": {"modelPackageName": "arn:aws:sagemaker:us-east-1:1:model-package/churn/3"}},
        "modelPackageName",
    ),
    (
        "model-approval",
        "aws:sagemaker/pipeline:Pipeline",
        pipeline(approval="Approved"),
        pipeline(),
        "ModelApprovalStatus",
    ),
    ("deletion-protection", "aws:kms/key:Key", {"enableKeyRotation": True}, {"enableKeyRotation": True}, "protect"),
    (
        "deployment-safety",
        "aws:sagemaker/endpoint:Endpoint",
        {"endpointConfigName": "c"},
        {
            "endpointConfigName": "c",
            "deploymentConfig": {
                "blueGreenUpdatePolicy": {
                    "trafficRoutingConfiguration": {
                        "type": "CANARY",
                        "waitIntervalInSeconds": 600,
                        "canarySize": {"type": "CAPACITY_PERCENT", "value": 10},
                    }
                },
                "autoRollbackConfiguration": {"alarms": [{"alarmName": "errors"}]},
            },
        },
        "autoRollbackConfiguration.alarms",
    ),
    (
        "allowed-instance-types",
        "aws:sagemaker/endpointConfiguration:EndpointConfiguration",
        {"productionVariants": [{**VARIANT, "instanceType": "ml.p5.48xlarge"}]},
        {"productionVariants": [VARIANT]},
        "productionVariants[0].instanceType",
    ),
    (
        "allowed-instance-types",
        "aws:sagemaker/pipeline:Pipeline",
        pipeline(resource={"InstanceType": "ml.p4d.24xlarge"}),
        pipeline(),
        "ResourceConfig.InstanceType",
    ),
    (
        "allowed-instance-types",
        "aws:eks/nodeGroup:NodeGroup",
        {"instanceTypes": ["m5.large", "p5.48xlarge"]},
        {"instanceTypes": ["m5.large"]},
        "instanceTypes[1]",
    ),
    (
        "log-retention",
        "aws:cloudwatch/logGroup:LogGroup",
        {"retentionInDays": 0},
        {"retentionInDays": 30},
        "retentionInDays",
    ),
]


def _id(case: tuple[str, str, dict[str, Any], dict[str, Any], str]) -> str:
    return f"{case[0]}:{case[1].rsplit(':', 1)[-1]}:{case[4]}"


@pytest.mark.parametrize("case", CASES, ids=[_id(c) for c in CASES])
def test_aws_rule_flags_violation_and_passes_compliant(
    case: tuple[str, str, dict[str, Any], dict[str, Any], str],
) -> None:
    policy_id, type_token, bad, good, needle = case
    protected = {"protect": True, "retain": True} if policy_id != "deletion-protection" else {}
    flagged = findings(check(policy_id, view(type_token, bad)))
    assert flagged, f"{policy_id} did not flag {bad}"
    assert all(v.policy_id == policy_id and v.enforcement is Enforcement.MANDATORY for v in flagged)
    assert any(needle in v.message for v in flagged), [v.message for v in flagged]
    assert all(v.urn.endswith("::res") and v.resource_type == type_token for v in flagged)
    good_view = (
        view(type_token, good, protect=True, retain=True)
        if policy_id == "deletion-protection"
        else view(type_token, good, **protected)
    )
    assert check(policy_id, good_view) == []


def test_serverless_endpoint_config_needs_no_volume_key_or_capture() -> None:
    serverless = {
        "productionVariants": [
            {"variantName": "v", "modelName": "m", "serverlessConfig": {"memorySizeInMb": 2048, "maxConcurrency": 5}}
        ]
    }
    ec = view("aws:sagemaker/endpointConfiguration:EndpointConfiguration", serverless)
    assert check("encryption-at-rest", ec) == []
    assert check("data-capture", ec) == []


def test_unscopable_actions_may_use_star_resource_but_not_mixed_with_scopable() -> None:
    mixed = doc({"Effect": "Allow", "Action": ["ecr:GetAuthorizationToken", "s3:PutObject"], "Resource": "*"})
    flagged = findings(check("least-privilege-iam", view("aws:iam/policy:Policy", {"policy": mixed})))
    assert (
        len(flagged) == 1
        and "s3:PutObject" in flagged[0].message
        and "ecr:GetAuthorizationToken" not in flagged[0].message.split("grants")[1].split("on Resource")[0]
    )


def test_production_only_rules_do_not_apply_in_dev_and_others_are_advisory_there() -> None:
    ec = view("aws:sagemaker/endpointConfiguration:EndpointConfiguration", {"productionVariants": [VARIANT]})
    assert check("data-capture", ec, environment="dev") == []
    rotation = findings(check("key-rotation", view("aws:kms/key:Key", {}), environment="dev"))
    assert rotation and all(v.enforcement is Enforcement.ADVISORY for v in rotation)
    encryption = findings(check("encryption-at-rest", ec, environment="dev"))
    assert encryption and all(v.enforcement is Enforcement.MANDATORY for v in encryption)


def test_extra_allowed_instance_type_from_config_passes() -> None:
    config = PolicyConfig.model_validate({"allowedInstanceTypes": ["ml.p5.*"]})
    ec = view(
        "aws:sagemaker/endpointConfiguration:EndpointConfiguration",
        {"productionVariants": [{**VARIANT, "instanceType": "ml.p5.48xlarge"}]},
    )
    assert check("allowed-instance-types", ec, config=config) == []
    assert findings(check("allowed-instance-types", ec))


def test_provider_default_tags_count_as_tags() -> None:
    bucket = view(
        "aws:s3/bucket:Bucket",
        {"tags": {"project": "churn"}},
        provider_props={"defaultTags": json.dumps({"tags": {k: v for k, v in AWS_TAGS.items() if k != "project"}})},
    )
    assert check("required-tags", bucket) == []
