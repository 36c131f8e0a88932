"""The execution role of the training pipeline: the role its jobs run as, and the policy statements it holds.

The statements grant exactly what the steps need on this pipeline's own artifact prefix, key,
images, jobs and model package group. Kept apart from the component so the least-privilege
policy can be read (and reviewed) on its own.
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_aws as aws

from mlops_infra.aws import pipeline_template as template
from mlops_infra.aws.account import arn
from mlops_infra.aws.ecr import ecr_repository_arn
from mlops_infra.aws.global_names import global_name
from mlops_infra.aws.iam import assume_role_policy, kms_use_actions, policy_document, statement
from mlops_infra.aws.pipeline_definition import container_images
from mlops_infra.aws.s3 import split_s3_uri
from mlops_infra.aws.tracking_server import tracking_statement
from mlops_infra.aws.training_pipeline_args import PLACEHOLDERS, TrainingPipelineArgs
from mlops_infra.component import PlatformComponent
from mlops_infra.conventions import naming
from mlops_infra.outputs import combined, concat

SAGEMAKER_PRINCIPAL = "sagemaker.amazonaws.com"
_JOB_ACTIONS = [
    "sagemaker:AddTags",
    "sagemaker:CreateProcessingJob",
    "sagemaker:CreateTrainingJob",
    "sagemaker:DescribeProcessingJob",
    "sagemaker:DescribeTrainingJob",
    "sagemaker:StopProcessingJob",
    "sagemaker:StopTrainingJob",
]
_VPC_INTERFACE_ACTIONS = [
    "ec2:CreateNetworkInterface",
    "ec2:CreateNetworkInterfacePermission",
    "ec2:DeleteNetworkInterface",
    "ec2:DeleteNetworkInterfacePermission",
]
# EC2 Describe* calls accept no resource ARN; SageMaker makes them to place jobs in the VPC.
_VPC_DESCRIBE_ACTIONS = [
    "ec2:DescribeDhcpOptions",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeSecurityGroups",
    "ec2:DescribeSubnets",
    "ec2:DescribeVpcs",
]


def _s3_read_grants(uris: list[str]) -> dict[str, list[str]]:
    """Bucket -> key prefixes the role must read (inputs and code outside the artifact prefix)."""
    grants: dict[str, list[str]] = {}
    for uri in uris:
        try:
            bucket, _ = split_s3_uri(uri)
        except ValueError:
            continue
        grants.setdefault(bucket, []).append(uri.removeprefix(f"s3://{bucket}").removeprefix("/"))
    return grants


def _image_uris(settings: TrainingPipelineArgs) -> list[str]:
    images = {settings.training_image_uri, settings.processing_image_uri}
    if settings.inference_image_uri:
        images.add(settings.inference_image_uri)
    if settings.pipeline_definition is not None:
        images.update(i for i in container_images(settings.pipeline_definition) if i not in PLACEHOLDERS)
    return sorted(images)


def _execution_statements(
    settings: TrainingPipelineArgs,
    role_arn: pulumi.Output[str],
    bucket_arn: pulumi.Input[str],
    *,
    prefix: str,
    key_arn: pulumi.Input[str],
    analyzer_image: pulumi.Input[str] | None,
    invoke: pulumi.InvokeOutputOptions,
) -> list[dict[str, Any]]:
    """Exactly what the steps need, on this pipeline's own prefix, key, images, jobs and group."""
    group = settings.model_package_group_name
    log_groups = arn("logs", "log-group:/aws/sagemaker/*", invoke)
    statements = [
        statement(
            ["s3:AbortMultipartUpload", "s3:DeleteObject", "s3:GetObject", "s3:PutObject"],
            [concat(bucket_arn, "/", prefix, "/*")],
            sid="ArtifactObjects",
        ),
        statement(
            ["s3:ListBucket"],
            [bucket_arn],
            sid="ListArtifactPrefix",
            conditions={"StringLike": {"s3:prefix": [prefix, f"{prefix}/*"]}},
        ),
        statement(kms_use_actions(), [key_arn], sid="UsePlatformKey"),
        statement(
            ["kms:CreateGrant"],
            [key_arn],
            sid="GrantKeyToSageMakerVolumes",
            conditions={"Bool": {"kms:GrantIsForAWSResource": "true"}},
        ),
        statement(
            ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
            [*sorted({ecr_repository_arn(image) for image in _image_uris(settings)})],
            sid="PullPipelineImages",
        ),
        statement(["ecr:GetAuthorizationToken"], ["*"], sid="EcrLogin"),
        statement(
            ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
            [log_groups, concat(log_groups, ":log-stream:*")],
            sid="JobLogs",
        ),
        statement(
            _JOB_ACTIONS,
            [
                arn("sagemaker", "processing-job/pipelines-*", invoke),
                arn("sagemaker", "training-job/pipelines-*", invoke),
            ],
            sid="RunPipelineJobs",
        ),
        statement(
            ["sagemaker:CreateModelPackage", "sagemaker:DescribeModelPackage"],
            [
                arn("sagemaker", concat("model-package-group/", group), invoke),
                arn("sagemaker", concat("model-package/", group, "/*"), invoke),
            ],
            sid="RegisterModelVersions",
        ),
    ]
    if analyzer_image is not None:
        # The RefreshBaseline step runs the Model Monitor analyzer image (AWS's in this region, or a copy).
        statements.append(
            statement(
                ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
                [combined(ecr_repository_arn, analyzer_image)],
                sid="PullModelMonitorAnalyzer",
            )
        )
    # Scheduled and alarm-started runs may read their InputDataUrl override too.
    scheduled_input = settings.schedule.pipeline_parameters.get(template.INPUT_DATA_URL) if settings.schedule else None
    sources = (
        settings.input_data_s3_uri,
        settings.preprocess_code_s3_uri,
        settings.evaluate_code_s3_uri,
        scheduled_input,
    )
    reads = [uri for uri in sources if uri]
    for index, (bucket, keys) in enumerate(sorted(_s3_read_grants(reads).items())):
        statements.append(
            statement(
                ["s3:GetObject"],
                [arn("s3", f"{bucket}/{key}*", invoke, region="", account="") for key in keys],
                sid=f"ReadInputs{index}",
            )
        )
        statements.append(
            statement(
                ["s3:ListBucket"],
                [arn("s3", bucket, invoke, region="", account="")],
                sid=f"ListInputs{index}",
                conditions={"StringLike": {"s3:prefix": [f"{key}*" for key in keys]}},
            )
        )
    if settings.vpc_subnet_ids:
        interfaces: list[pulumi.Input[str]] = [arn("ec2", "network-interface/*", invoke)]
        interfaces += [arn("ec2", f"subnet/{s}", invoke) for s in settings.vpc_subnet_ids]
        interfaces += [arn("ec2", f"security-group/{g}", invoke) for g in settings.vpc_security_group_ids]
        statements.append(statement(_VPC_INTERFACE_ACTIONS, interfaces, sid="VpcNetworkInterfaces"))
        statements.append(statement(_VPC_DESCRIBE_ACTIONS, ["*"], sid="VpcDescribe"))
    if settings.tracking_server_arn is not None:  # the jobs log their runs to the platform's tracker
        statements.append(tracking_statement(settings.tracking_server_arn))
    # Jobs run as this role: it may pass itself to SageMaker and nothing else.
    statements.append(
        statement(
            ["iam:PassRole"],
            [role_arn],
            sid="PassOwnRoleToSageMaker",
            conditions={"StringEquals": {"iam:PassedToService": SAGEMAKER_PRINCIPAL}},
        )
    )
    return statements


def create_execution_role(
    component: PlatformComponent[TrainingPipelineArgs],
    key_arn: pulumi.Input[str],
    bucket_arn: pulumi.Input[str],
    *,
    prefix: str,
    account: pulumi.Output[str],
    analyzer_image: pulumi.Input[str] | None,
) -> tuple[aws.iam.Role, aws.iam.RolePolicy]:
    """The role SageMaker runs the pipeline's jobs as, and its inline policy (the role's own ARN is in it)."""
    name = component.logical_name
    role = aws.iam.Role(
        component.child_name("execution-role"),
        name=global_name(component, f"{name}-exec", naming.IAM_ROLE),
        description=f"Runs the jobs of the {name} training pipeline",
        assume_role_policy=assume_role_policy(SAGEMAKER_PRINCIPAL, account),
        opts=component.child_opts(),
    )
    role_policy = aws.iam.RolePolicy(
        component.child_name("execution-policy"),
        role=role.id,
        policy=policy_document(
            _execution_statements(
                component.args,
                role.arn,
                bucket_arn,
                prefix=prefix,
                key_arn=key_arn,
                analyzer_image=analyzer_image,
                invoke=pulumi.InvokeOutputOptions(parent=component),
            )
        ),
        opts=component.child_opts(),
    )
    return role, role_policy
