"""Deterministic fake cloud state for resources registered under mocks.

Every value is derived from the resource's type token and name, so wiring such as
``bucket.arn`` or ``service_account.email`` resolves and two runs of the same program give
byte-identical plans.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

FAKE_AWS_ACCOUNT = "123456789012"
FAKE_AWS_REGION = "us-east-1"
FAKE_GCP_PROJECT = "mlops-offline-project"
FAKE_GCP_REGION = "us-central1"

_CAMEL_BOUNDARY = re.compile(r"(?<!^)(?=[A-Z])")


def stable_digest(*parts: str, length: int = 12) -> str:
    """A short hex digest of ``parts``; the same input always gives the same output."""
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:length]


def _kebab(text: str) -> str:
    return _CAMEL_BOUNDARY.sub("-", text).lower()


# (service, resource path prefix) for types whose ARN is not "{service}:{region}:{account}:{kind}/{name}".
_AWS_ARN_SHAPES: dict[str, tuple[str, str]] = {
    "aws:cloudwatch/eventRule:EventRule": ("events", "rule/"),
    "aws:cloudwatch/eventBus:EventBus": ("events", "event-bus/"),
    "aws:cloudwatch/metricAlarm:MetricAlarm": ("cloudwatch", "alarm:"),
    "aws:cloudwatch/logGroup:LogGroup": ("logs", "log-group:"),
    "aws:scheduler/schedule:Schedule": ("scheduler", "schedule/default/"),
    "aws:scheduler/scheduleGroup:ScheduleGroup": ("scheduler", "schedule-group/"),
    "aws:lambda/function:Function": ("lambda", "function:"),
    "aws:sfn/stateMachine:StateMachine": ("states", "stateMachine:"),
    "aws:glue/catalogDatabase:CatalogDatabase": ("glue", "database/"),
    "aws:budgets/budget:Budget": ("budgets", "budget/"),
}


def aws_partition(region: str) -> str:
    """The partition AWS serves ``region`` in: ``aws-us-gov`` (GovCloud), ``aws-cn`` (China), else ``aws``."""
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    if region.startswith("cn-"):
        return "aws-cn"
    return "aws"


def _aws_dns_suffix(partition: str) -> str:
    return "amazonaws.com.cn" if partition == "aws-cn" else "amazonaws.com"


# Services whose principals take the partition's DNS suffix instead of ``amazonaws.com`` (the AWS
# provider's getServicePrincipal data source, after the AWS CDK's region facts); every other
# service is ``SERVICE.amazonaws.com`` in every partition.
_PARTITION_SUFFIXED_PRINCIPALS: dict[str, frozenset[str]] = {
    "aws-cn": frozenset({"codedeploy", "elasticmapreduce", "logs"}),
}


def _aws_service_principal(service: str, region: str) -> dict[str, str]:
    """What the provider's getServicePrincipal answers for ``service`` in ``region``."""
    partition = aws_partition(region)
    suffixed = service in _PARTITION_SUFFIXED_PRINCIPALS.get(partition, frozenset())
    suffix = _aws_dns_suffix(partition) if suffixed else "amazonaws.com"
    return {
        "id": f"{service}.{region}.{suffix}",
        "name": f"{service}.{suffix}",
        "suffix": suffix,
        "region": region,
        "serviceName": service,
    }


def _aws_arn(type_token: str, physical: str, region: str) -> str:
    # "aws:sagemaker/endpointConfiguration:EndpointConfiguration" -> service "sagemaker",
    # resource kind "endpoint-configuration" (the form SageMaker ARNs take).
    partition = aws_partition(region)
    module = type_token.split(":")[1]
    service = module.split("/")[0]
    kind = _kebab(type_token.split(":")[2])
    if type_token in _AWS_ARN_SHAPES:
        arn_service, prefix = _AWS_ARN_SHAPES[type_token]
        return f"arn:{partition}:{arn_service}:{region}:{FAKE_AWS_ACCOUNT}:{prefix}{physical}"
    if service == "s3":
        return f"arn:{partition}:s3:::{physical}"
    if service == "iam":
        return f"arn:{partition}:iam::{FAKE_AWS_ACCOUNT}:{kind}/{physical}"
    if service in ("sns", "sqs"):
        return f"arn:{partition}:{service}:{region}:{FAKE_AWS_ACCOUNT}:{physical}"
    if service == "kms" and kind == "key":
        return f"arn:{partition}:kms:{region}:{FAKE_AWS_ACCOUNT}:key/{physical}"
    if service == "sagemaker":
        # SageMaker lowercases resource names inside ARNs.
        return f"arn:{partition}:sagemaker:{region}:{FAKE_AWS_ACCOUNT}:{kind}/{physical.lower()}"
    return f"arn:{partition}:{service}:{region}:{FAKE_AWS_ACCOUNT}:{kind}/{physical}"


def _aws_physical_name(type_token: str, name: str, inputs: dict[str, Any]) -> str:
    """The name AWS would know the resource by: ``name``, ``bucket``, or the type's own ``<kind>Name``."""
    class_name = type_token.split(":")[2]
    own_name_key = class_name[0].lower() + class_name[1:] + "Name"  # FeatureGroup -> featureGroupName
    for key in ("name", "bucket", "roleName", own_name_key):
        value = inputs.get(key)
        if isinstance(value, str) and value:
            return value
    return name


def _aws_state(type_token: str, name: str, inputs: dict[str, Any], region: str) -> tuple[str, dict[str, Any]]:
    physical = _aws_physical_name(type_token, name, inputs)
    state: dict[str, Any] = {}
    if type_token == "aws:kms/key:Key":
        key_id = _uuid_like(type_token, name)
        physical = key_id
        state["keyId"] = key_id
    if type_token.startswith("aws:s3/bucket"):
        state.setdefault("bucket", physical)
        suffix = _aws_dns_suffix(aws_partition(region))
        state["bucketDomainName"] = f"{physical}.s3.{suffix}"
        state["bucketRegionalDomainName"] = f"{physical}.s3.{region}.{suffix}"
    if type_token == "aws:sqs/queue:Queue":
        state["url"] = f"https://sqs.{region}.{_aws_dns_suffix(aws_partition(region))}/{FAKE_AWS_ACCOUNT}/{physical}"
    state["arn"] = _aws_arn(type_token, physical, region)
    state.setdefault("name", physical)
    state["tagsAll"] = _string_map(inputs.get("tags"))
    return physical, state


def _gcp_state(
    type_token: str, name: str, inputs: dict[str, Any], project: str, region: str
) -> tuple[str, dict[str, Any]]:
    physical = str(inputs.get("name") or inputs.get("accountId") or inputs.get("datasetId") or name)
    kind = _kebab(type_token.split(":")[2]) + "s"
    location = str(inputs.get("location") or inputs.get("region") or region)
    resource_id = f"projects/{project}/locations/{location}/{kind}/{physical}"
    state: dict[str, Any] = {"name": physical, "project": inputs.get("project") or project}
    if type_token == "gcp:serviceaccount/account:Account":
        state["email"] = f"{physical}@{project}.iam.gserviceaccount.com"
        state["member"] = f"serviceAccount:{state['email']}"
        resource_id = f"projects/{project}/serviceAccounts/{state['email']}"
    if type_token == "gcp:kms/keyRing:KeyRing":
        resource_id = f"projects/{project}/locations/{location}/keyRings/{physical}"
    if type_token == "gcp:kms/cryptoKey:CryptoKey":
        ring = str(inputs.get("keyRing") or f"projects/{project}/locations/{location}/keyRings/ring")
        resource_id = f"{ring}/cryptoKeys/{physical}"
    if type_token == "gcp:storage/bucket:Bucket":
        state["url"] = f"gs://{physical}"
        resource_id = physical
    state["selfLink"] = f"https://www.googleapis.com/{resource_id}"
    state["effectiveLabels"] = _string_map(inputs.get("labels"))
    return resource_id, state


def _k8s_state(type_token: str, name: str, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    metadata = dict(inputs.get("metadata") or {})
    metadata.setdefault("name", name)
    namespace = metadata.get("namespace")
    state: dict[str, Any] = {"metadata": metadata}
    resource_id = f"{namespace}/{metadata['name']}" if namespace else str(metadata["name"])
    return resource_id, state


def _string_map(value: Any) -> dict[str, Any]:
    """A tags/labels map echoed as the provider's ``tagsAll``/``effectiveLabels``; {} for anything else.

    Some types use the name for a list (``gcp.monitoring.MetricDescriptor.labels`` are label
    descriptors, ``aws.autoscaling.Group.tags`` tag blocks): those have no such output to fake.
    """
    return dict(value) if isinstance(value, dict) else {}


def _uuid_like(*parts: str) -> str:
    digest = stable_digest(*parts, length=32)
    return f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}"


def fake_resource_state(
    type_token: str,
    name: str,
    inputs: dict[str, Any],
    *,
    aws_region: str = FAKE_AWS_REGION,
    gcp_project: str = FAKE_GCP_PROJECT,
    gcp_region: str = FAKE_GCP_REGION,
) -> tuple[str, dict[str, Any]]:
    """Return ``(id, state)`` for a resource: its inputs echoed back plus derived outputs."""
    package = type_token.split(":", maxsplit=1)[0]
    if package == "aws":
        resource_id, extra = _aws_state(type_token, name, inputs, aws_region)
    elif package == "gcp":
        resource_id, extra = _gcp_state(type_token, name, inputs, gcp_project, gcp_region)
    elif package == "kubernetes":
        resource_id, extra = _k8s_state(type_token, name, inputs)
    else:
        resource_id, extra = f"{name}-{stable_digest(type_token, name, length=8)}", {}
    # Inputs win for user-chosen names; derived outputs (arn, url, email) always come from us.
    user_named = {"name", "bucket"}
    state = dict(inputs)
    for key, value in extra.items():
        if key not in user_named or key not in state:
            state[key] = value
    return resource_id, state


def fake_invoke_result(
    token: str, args: dict[str, Any], *, aws_region: str, gcp_project: str, gcp_region: str
) -> dict[str, Any]:
    """Answers for the data-source invokes that platform programs commonly call."""
    partition = aws_partition(aws_region)
    known: dict[str, dict[str, Any]] = {
        "aws:index/getCallerIdentity:getCallerIdentity": {
            "accountId": FAKE_AWS_ACCOUNT,
            "arn": f"arn:{partition}:iam::{FAKE_AWS_ACCOUNT}:user/offline",
            "userId": "AIDAOFFLINE",
            "id": FAKE_AWS_ACCOUNT,
        },
        "aws:index/getRegion:getRegion": {"name": aws_region, "region": aws_region, "id": aws_region},
        "aws:index/getPartition:getPartition": {
            "partition": partition,
            "dnsSuffix": _aws_dns_suffix(partition),
            "id": partition,
        },
        "gcp:organizations/getProject:getProject": {
            "projectId": gcp_project,
            "number": "123456789012",
            "name": gcp_project,
        },
        "gcp:organizations/getClientConfig:getClientConfig": {
            "project": gcp_project,
            "region": gcp_region,
            "accessToken": "offline",
        },
    }
    if token == "aws:index/getServicePrincipal:getServicePrincipal":
        return _aws_service_principal(str(args["serviceName"]), str(args.get("region") or aws_region))
    return known.get(token, dict(args))
