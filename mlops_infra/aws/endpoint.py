"""A SageMaker real-time endpoint that updates safely: versioned models and configs, canary rollout, rollback.

Why it is built this way (SageMaker endpoint updates are fragile in the bridged provider):

* Models and endpoint configurations cannot be edited in place. Their physical names carry a hash
  of everything sent to SageMaker, so any change creates a *new* model/config; Pulumi creates it
  before it deletes the old one, after the endpoint has moved (terraform-provider-aws #21811, #40048).
* The endpoint's name is stable (``{project}-{env}-{name}``) and nothing in its inputs forces a
  replacement, so an update is always ``UpdateEndpoint`` and never a second ``CreateEndpoint`` of
  the same name (#40080).
* Replaced models and configs are kept in AWS in protected environments (``retain_on_delete``):
  if SageMaker rolls a deployment back without the provider noticing (#48997), the endpoint still
  points at a configuration that exists.
"""

from __future__ import annotations

import json
from typing import Any, cast

import pulumi
import pulumi_aws as aws

from mlops_infra.aws.account import account_id, arn
from mlops_infra.aws.ecr import ecr_repository_arn
from mlops_infra.aws.endpoint_alarms import create_variant_alarms
from mlops_infra.aws.endpoint_args import EndpointArgs, VariantArgs, check_environment
from mlops_infra.aws.endpoint_autoscaling import create_scale_from_zero, create_variant_autoscaling
from mlops_infra.aws.global_names import global_name
from mlops_infra.aws.iam import assume_role_policy, kms_use_actions, policy_document, statement
from mlops_infra.aws.platform_key import key_arn_or_shared
from mlops_infra.aws.s3 import split_s3_uri
from mlops_infra.aws.secure_bucket import SecureBucket, SecureBucketArgs
from mlops_infra.aws.sns_policy import topic_policy
from mlops_infra.component import PlatformComponent
from mlops_infra.config.base import validate_args
from mlops_infra.conventions import naming
from mlops_infra.conventions.context import current_platform
from mlops_infra.outputs import combined, concat, resolved

SAGEMAKER_PRINCIPAL = "sagemaker.amazonaws.com"
CAPTURE_PREFIX = "data-capture"
METRICS_NAMESPACE = "/aws/sagemaker/Endpoints"
ECR_PULL_ACTIONS = ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]
# The log group is created here (finite retention, KMS), so the role only writes to it.
LOG_WRITE_ACTIONS = ["logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"]
# A VPC-attached model: SageMaker manages the containers' network interfaces through this role.
ENI_ACTIONS = [
    "ec2:CreateNetworkInterfacePermission",
    "ec2:DeleteNetworkInterface",
    "ec2:DeleteNetworkInterfacePermission",
]
# EC2 does not allow these reads to be scoped to a resource ("*" is the only legal Resource).
VPC_DESCRIBE_ACTIONS = [
    "ec2:DescribeDhcpOptions",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeSecurityGroups",
    "ec2:DescribeSubnets",
    "ec2:DescribeVpcs",
]
TRAFFIC_ROUTING = {"canary": "CANARY", "linear": "LINEAR", "all_at_once": "ALL_AT_ONCE"}


def canonical_json(value: Any) -> str:
    """The same JSON for the same content, whatever the order of keys."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def _grant(url: pulumi.Input[str], suffix: str) -> pulumi.Output[str]:
    """``bucket/key`` of an artifact known at deploy time, plus ``suffix`` (``/*`` for a prefix)."""
    return combined(lambda known: "/".join(split_s3_uri(known)) + suffix, url)


class Endpoint(PlatformComponent[EndpointArgs]):
    """Models, an endpoint configuration, the endpoint, its alarms, autoscaling and data capture.

    Outputs: ``endpoint_name``, ``endpoint_arn``, ``endpoint_config_name``, ``model_names``
    (variant -> model), ``alarm_names``/``alarm_arns``, ``capture_s3_uri`` (None without
    capture), ``role_arn``, ``log_group_name`` and, for an asynchronous endpoint,
    ``async_output_s3_uri``, ``async_success_topic_arn`` and ``async_error_topic_arn``.
    """

    TYPE_TOKEN = "mlops-infra:aws:Endpoint"
    ARGS = EndpointArgs

    def __init__(
        self,
        name: str,
        args: EndpointArgs | dict[str, Any] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        # Environment rules are checked before anything is registered: a refused opt-out leaves nothing behind.
        validated = validate_args(EndpointArgs, args)
        context = current_platform()
        strategy = check_environment(validated, context.protected, context.environment)
        super().__init__(name, validated, opts)
        self.rollout_strategy: str | None = strategy
        settings = self.args
        self._invoke_opts = pulumi.InvokeOutputOptions(parent=self)
        self._account = account_id(self._invoke_opts)
        self.physical_name: str = self.platform.name(name, naming.SAGEMAKER)
        self.kms_key_arn: pulumi.Output[str] = pulumi.Output.from_input(
            key_arn_or_shared(settings.kms_key_arn, requester=self)
        )
        retain = settings.retain_replaced_versions
        self.retains_replaced_versions: bool = self.platform.protected if retain is None else retain

        self.capture_bucket: SecureBucket | None = None
        self.capture_s3_uri: pulumi.Output[str] | None = self._capture_destination()
        self.async_success_topic_arn: pulumi.Output[str] | None = None
        self.async_error_topic_arn: pulumi.Output[str] | None = None
        self._async_topics()
        self.log_group = aws.cloudwatch.LogGroup(
            self.child_name("logs"),
            name=f"{METRICS_NAMESPACE}/{self.physical_name}",
            retention_in_days=settings.log_retention_days,
            kms_key_id=self.kms_key_arn,
            opts=self.child_opts(),
        )
        self.role = aws.iam.Role(
            self.child_name("role"),
            name=global_name(self, f"{name}-endpoint", naming.IAM_ROLE),
            description=f"SageMaker runs the models of endpoint {self.physical_name}",
            assume_role_policy=assume_role_policy(SAGEMAKER_PRINCIPAL, self._account),
            opts=self.child_opts(),
        )
        self.role_policy = aws.iam.RolePolicy(
            self.child_name("role-policy"),
            name=self.platform.name(f"{name}-endpoint", naming.IAM_POLICY),
            role=self.role.id,
            policy=policy_document(self._role_statements()),
            opts=self.child_opts(),
        )
        self.models: dict[str, aws.sagemaker.Model] = {v.name: self._model(v) for v in settings.all_variants}
        self.endpoint_config = self._endpoint_config()
        # Every variant's alarms (a shadow's included) page people and roll a deployment back.
        self.alarms: list[aws.cloudwatch.MetricAlarm] = [
            alarm
            for variant in settings.all_variants
            for alarm in create_variant_alarms(self, self.physical_name, variant.name, settings.alarms)
        ]
        self.endpoint = aws.sagemaker.Endpoint(
            self.child_name("endpoint"),
            name=self.physical_name,
            endpoint_config_name=self.endpoint_config.name,
            deployment_config=self._deployment_config(),
            # SageMaker would create the log group itself (no retention, no KMS) and start capturing at once.
            opts=self.child_opts(depends_on=[self.log_group, *([self.capture_bucket] if self.capture_bucket else [])]),
        )
        self.scaling: dict[str, tuple[aws.appautoscaling.Target, aws.appautoscaling.Policy]] = {
            v.name: create_variant_autoscaling(self, self.endpoint, v.name, v.autoscaling, v.instance_type)
            for v in settings.all_variants
            if v.autoscaling is not None
        }
        # An asynchronous variant at zero instances has no backlog per instance to track: a step policy on
        # HasBacklogWithoutCapacity adds the first instance (AWS's documented scale-from-zero pattern).
        self.scale_from_zero: dict[str, tuple[aws.appautoscaling.Policy, aws.cloudwatch.MetricAlarm]] = {
            v.name: create_scale_from_zero(
                self,
                self.endpoint,
                self.scaling[v.name][0],
                v.name,
                settings=v.autoscaling,
                notify=settings.alarms.actions("warning"),
            )
            for v in settings.variants
            if v.autoscaling is not None and v.autoscaling.scales_to_zero
        }

        self.endpoint_name: pulumi.Output[str] = self.endpoint.name
        self.endpoint_arn: pulumi.Output[str] = self.endpoint.arn
        self.endpoint_config_name: pulumi.Output[str] = self.endpoint_config.name
        self.model_names: dict[str, pulumi.Output[str]] = {k: m.name for k, m in self.models.items()}
        self.alarm_names: list[pulumi.Output[str]] = [a.name for a in self.alarms]
        self.alarm_arns: list[pulumi.Output[str]] = [a.arn for a in self.alarms]
        self.role_arn: pulumi.Output[str] = self.role.arn
        self.log_group_name: pulumi.Output[str] = self.log_group.name
        async_settings = settings.async_inference
        self.async_output_s3_uri: pulumi.Output[str] | None = (
            pulumi.Output.from_input(async_settings.output_s3_uri) if async_settings is not None else None
        )
        self.register_outputs(
            {
                "asyncOutputS3Uri": self.async_output_s3_uri,
                "asyncSuccessTopicArn": self.async_success_topic_arn,
                "asyncErrorTopicArn": self.async_error_topic_arn,
                "endpointName": self.endpoint_name,
                "endpointArn": self.endpoint_arn,
                "endpointConfigName": self.endpoint_config_name,
                "modelNames": self.model_names,
                "alarmNames": self.alarm_names,
                "alarmArns": self.alarm_arns,
                "captureS3Uri": self.capture_s3_uri,
                "roleArn": self.role_arn,
                "logGroupName": self.log_group_name,
            }
        )

    def _versioned_name(self, name: str, props: dict[str, Any]) -> pulumi.Output[str]:
        """``{project}-{env}-{name}-{hash of props}``: new content, new (immutable) resource."""
        return resolved(props).apply(
            lambda known: self.platform.versioned_name(name, canonical_json(known), naming.SAGEMAKER)
        )

    def _version_opts(self) -> pulumi.ResourceOptions:
        # Never delete_before_replace: the old version goes only after the endpoint has moved off it.
        return self.child_opts(retain_on_delete=self.retains_replaced_versions)

    def _capture_destination(self) -> pulumi.Output[str] | None:
        capture = self.args.data_capture
        if capture is None:
            return None
        if capture.destination_uri is not None:
            return pulumi.Output.from_input(capture.destination_uri)
        self.capture_bucket = SecureBucket(
            self.child_name("capture"),
            SecureBucketArgs(
                purpose="data-capture",
                kms_key_arn=self.kms_key_arn,
                transition_to_glacier_ir_days=capture.archive_after_days,
            ),
            opts=self.child_opts(),
        )
        return concat("s3://", self.capture_bucket.bucket_name, "/", CAPTURE_PREFIX)

    def _async_topics(self) -> None:
        """The success and error topics of an asynchronous endpoint: given, or KMS-encrypted topics of its own."""
        settings = self.args.async_inference
        if settings is None:
            return

        def topic(kind: str, given: pulumi.Input[str] | None) -> pulumi.Output[str]:
            if given is not None:
                return pulumi.Output.from_input(given)
            created = aws.sns.Topic(
                self.child_name(f"async-{kind}"),
                name=self.platform.name(f"{self.logical_name}-async-{kind}", naming.SNS_TOPIC),
                kms_master_key_id=self.kms_key_arn,
                signature_version=2,
                opts=self.child_opts(),
            )
            # Only this account's principals granted sns:Publish (the endpoint's role) publish, over TLS only.
            aws.sns.TopicPolicy(
                self.child_name(f"async-{kind}-policy"),
                arn=created.arn,
                policy=topic_policy(created.arn, []),
                opts=self.child_opts(),
            )
            return created.arn

        self.async_success_topic_arn = topic("success", settings.success_topic_arn)
        self.async_error_topic_arn = topic("errors", settings.error_topic_arn)

    def _async_prefixes(self) -> list[pulumi.Input[str]]:
        settings = self.args.async_inference
        if settings is None:
            return []
        return [uri for uri in (settings.output_s3_uri, settings.failure_s3_uri) if uri is not None]

    def _arn(self, service: str, resource: pulumi.Input[str], *, regional: bool = True) -> pulumi.Output[str]:
        if not regional:
            return arn(service, resource, self._invoke_opts, region="", account="")
        return arn(service, resource, self._invoke_opts)

    def _prefix_objects_arn(self, uri: pulumi.Input[str]) -> pulumi.Output[str]:
        """The objects under an ``s3://bucket/prefix`` URI, as an S3 ARN."""
        objects = combined(lambda known: "/".join(filter(None, split_s3_uri(known))) + "/*", uri)
        return self._arn("s3", objects, regional=False)

    def _role_statements(self) -> list[dict[str, Any]]:
        """Least privilege: this endpoint's artifacts, images, key, capture prefix and log group only."""
        settings = self.args
        # A multi-model container reads every archive under its prefix: the grant is the prefix's objects.
        urls = [(v.model.model_data_url, "/*" if v.model.mode == "MultiModel" else "") for v in settings.all_variants]
        artifacts: list[pulumi.Input[str]] = [
            *sorted({"/".join(split_s3_uri(u)) + suffix for u, suffix in urls if isinstance(u, str)})
        ]
        # An artifact known only at deploy time (a bucket of this stack) is granted as it resolves.
        artifacts += [_grant(u, suffix) for u, suffix in urls if not isinstance(u, str)]
        repositories = sorted({ecr_repository_arn(v.model.image) for v in settings.all_variants})
        log_group = f"log-group:{METRICS_NAMESPACE}/{self.physical_name}"
        statements = [
            statement(
                ["s3:GetObject"], [self._arn("s3", a, regional=False) for a in artifacts], sid="ReadModelArtifacts"
            ),
            statement(kms_use_actions(), [self.kms_key_arn], sid="UseEndpointKey"),
            statement(ECR_PULL_ACTIONS, [*repositories, *settings.ecr_repository_arns], sid="PullModelImages"),
            statement(["ecr:GetAuthorizationToken"], ["*"], sid="LogInToEcr"),
            statement(
                LOG_WRITE_ACTIONS,
                [self._arn("logs", log_group), self._arn("logs", f"{log_group}:log-stream:*")],
                sid="WriteEndpointLogs",
            ),
            statement(
                ["cloudwatch:PutMetricData"],
                ["*"],
                sid="PublishEndpointMetrics",
                conditions={"StringEquals": {"cloudwatch:namespace": METRICS_NAMESPACE}},
            ),
        ]
        if self.capture_s3_uri is not None:
            capture_objects = self._prefix_objects_arn(self.capture_s3_uri)
            statements.append(statement(["s3:PutObject"], [capture_objects], sid="WriteCapturedData"))
        prefixes = self._async_prefixes()
        if prefixes:
            objects: list[pulumi.Input[str]] = [self._prefix_objects_arn(uri) for uri in prefixes]
            topics: list[pulumi.Input[str]] = [
                t for t in (self.async_success_topic_arn, self.async_error_topic_arn) if t is not None
            ]
            statements += [
                statement(["s3:PutObject"], objects, sid="WriteAsyncResults"),
                statement(["sns:Publish"], topics, sid="NotifyAsyncOutcomes"),
            ]
        if settings.vpc is not None:
            interfaces = self._arn("ec2", "network-interface/*")
            subnets = [self._arn("ec2", concat("subnet/", s)) for s in settings.vpc.subnet_ids]
            groups = [self._arn("ec2", concat("security-group/", g)) for g in settings.vpc.security_group_ids]
            statements += [
                statement(["ec2:CreateNetworkInterface"], [interfaces, *subnets, *groups], sid="AttachToVpc"),
                statement(ENI_ACTIONS, [interfaces], sid="ManageNetworkInterfaces"),
                statement(VPC_DESCRIBE_ACTIONS, ["*"], sid="DescribeVpc"),
            ]
        return statements

    def _model(self, variant: VariantArgs) -> aws.sagemaker.Model:
        settings = self.args
        model = variant.model
        # A registry version brings its own image and artifact; SageMaker takes one or the other.
        source = (
            {"model_package_name": model.model_package_arn}
            if model.model_package_arn is not None
            else {"image": model.image, "model_data_url": model.model_data_url}
        )
        # Mode is sent only for a multi-model container, so single-model versions keep their content hash.
        mode = {"mode": model.mode} if model.mode == "MultiModel" else {}
        props: dict[str, Any] = {
            "execution_role_arn": self.role.arn,
            "enable_network_isolation": settings.enable_network_isolation,
            "primary_container": {**source, **mode, "environment": dict(model.environment)},
        }
        if settings.vpc is not None:
            props["vpc_config"] = {
                "subnets": settings.vpc.subnet_ids,
                "security_group_ids": settings.vpc.security_group_ids,
            }
        return aws.sagemaker.Model(
            self.child_name(f"model-{variant.name}"),
            name=self._versioned_name(f"{self.logical_name}-{variant.name}", props),
            **props,
            # IAM is eventually consistent: SageMaker checks the role's access when it creates the model.
            opts=pulumi.ResourceOptions.merge(
                self._version_opts(), pulumi.ResourceOptions(depends_on=[self.role_policy])
            ),
        )

    def _variant(self, variant: VariantArgs) -> dict[str, Any]:
        props: dict[str, Any] = {
            "variant_name": variant.name,
            "model_name": self.models[variant.name].name,
            "initial_variant_weight": variant.weight,
        }
        if variant.serverless is not None:
            serverless = variant.serverless
            props["serverless_config"] = {
                "memory_size_in_mb": serverless.memory_size_mb,
                "max_concurrency": serverless.max_concurrency,
                **(
                    {"provisioned_concurrency": serverless.provisioned_concurrency}
                    if serverless.provisioned_concurrency
                    else {}
                ),
            }
        else:
            props["instance_type"] = variant.instance_type
            props["initial_instance_count"] = variant.initial_instance_count
        return props

    def _data_capture(self) -> dict[str, Any] | None:
        capture = self.args.data_capture
        if capture is None or self.capture_s3_uri is None:
            return None
        modes = [mode for mode, on in (("Input", capture.capture_request), ("Output", capture.capture_response)) if on]
        headers = {
            key: types
            for key, types in (
                ("json_content_types", capture.json_content_types),
                ("csv_content_types", capture.csv_content_types),
            )
            if types
        }
        return {
            "enable_capture": True,
            "initial_sampling_percentage": capture.sampling_percent,
            "destination_s3_uri": self.capture_s3_uri,
            "kms_key_id": self.kms_key_arn,
            "capture_options": [{"capture_mode": mode} for mode in modes],
            "capture_content_type_header": headers,
        }

    def _endpoint_config(self) -> aws.sagemaker.EndpointConfiguration:
        settings = self.args
        props: dict[str, Any] = {
            "kms_key_arn": self.kms_key_arn,
            "production_variants": [self._variant(v) for v in settings.variants],
        }
        if settings.shadow_variant is not None:
            props["shadow_production_variants"] = [self._variant(settings.shadow_variant)]
        capture = self._data_capture()
        if capture is not None:
            props["data_capture_config"] = capture
        asynchronous = self.args.async_inference
        if asynchronous is not None:
            output: dict[str, Any] = {
                "s3_output_path": asynchronous.output_s3_uri,
                "kms_key_id": self.kms_key_arn,
                "notification_config": {
                    "success_topic": self.async_success_topic_arn,
                    "error_topic": self.async_error_topic_arn,
                },
            }
            if asynchronous.failure_s3_uri is not None:
                output["s3_failure_path"] = asynchronous.failure_s3_uri
            props["async_inference_config"] = {
                "output_config": output,
                "client_config": {"max_concurrent_invocations_per_instance": asynchronous.max_concurrent_per_replica},
            }
        return aws.sagemaker.EndpointConfiguration(
            self.child_name("config"),
            name=self._versioned_name(self.logical_name, props),
            **props,
            opts=self._version_opts(),
        )

    def _deployment_config(self) -> aws.sagemaker.EndpointDeploymentConfigArgsDict | None:
        deployment = self.args.deployment
        if deployment is None or self.rollout_strategy is None:
            return None
        routing: dict[str, Any] = {
            "type": TRAFFIC_ROUTING[self.rollout_strategy],
            "wait_interval_in_seconds": deployment.wait_interval_seconds,
        }
        if self.rollout_strategy == "canary":
            routing["canary_size"] = deployment.canary_size.model_dump()
        if self.rollout_strategy == "linear":
            routing["linear_step_size"] = deployment.linear_step_size.model_dump()
        policy: dict[str, Any] = {
            "traffic_routing_configuration": routing,
            "termination_wait_in_seconds": deployment.termination_wait_seconds,
        }
        if deployment.maximum_execution_timeout_seconds is not None:
            policy["maximum_execution_timeout_in_seconds"] = deployment.maximum_execution_timeout_seconds
        config = {
            "blue_green_update_policy": policy,
            "auto_rollback_configuration": {"alarms": [{"alarm_name": alarm.name} for alarm in self.alarms]},
        }
        return cast(aws.sagemaker.EndpointDeploymentConfigArgsDict, config)
