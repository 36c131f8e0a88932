"""audit-logging: audit logs are on for the platform's data and ML services in protected environments.

AWS: a stack with SageMaker resources or S3 buckets in a protected environment declares a CloudTrail
trail that is multi-region (CKV_AWS_67), validates its log files (CKV_AWS_36), encrypts them with a
KMS key (CKV_AWS_35) and is not switched off, and whose data events cover S3 objects (when the stack
has buckets) and SageMaker endpoints and feature groups (when it has them). Every trail in a protected
environment is checked for the first three on its own.

GCP: a stack with Vertex AI, BigQuery or Cloud Storage resources in a protected environment turns on
DATA_READ and DATA_WRITE audit logs for each of those services (``aiplatform.googleapis.com``,
``bigquery.googleapis.com``, ``storage.googleapis.com``, or ``allServices``) with an IAMAuditConfig on
the project, folder or organization.

Kubernetes audit logging is the API server's (cluster-level) configuration, not a resource of the
stack: this rule does not check it (docs/policies.md says what to do).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Final

from mlops_infra.policy.context import RuleContext, StackContext
from mlops_infra.policy.model import Finding, ResourceView, StackView
from mlops_infra.policy.rules.common import subject
from mlops_infra.policy.spec import PolicySpec
from mlops_infra.policy.values import get, is_set, items, known

ID = "audit-logging"
TRAIL: Final = "aws:cloudtrail/trail:Trail"
GCP_AUDIT_CONFIGS: Final = (
    "gcp:projects/iAMAuditConfig:IAMAuditConfig",
    "gcp:folder/iAMAuditConfig:IAMAuditConfig",
    "gcp:organizations/iAMAuditConfig:IAMAuditConfig",
)
AWS_BUCKET: Final = ("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2")
# SageMaker resource type token -> the CloudTrail data resource type that records its data plane.
SAGEMAKER_DATA: Final = {
    "aws:sagemaker/endpoint:Endpoint": "AWS::SageMaker::Endpoint",
    "aws:sagemaker/featureGroup:FeatureGroup": "AWS::SageMaker::FeatureGroup",
}
S3_OBJECT: Final = "AWS::S3::Object"
# GCP provider module -> the service whose Data Access logs record its data reads and writes.
GCP_SERVICES: Final = {
    "vertex": "aiplatform.googleapis.com",
    "bigquery": "bigquery.googleapis.com",
    "storage": "storage.googleapis.com",
}
DATA_LOG_TYPES: Final = ("DATA_READ", "DATA_WRITE")
ALL_SERVICES: Final = "allServices"


# --- AWS ------------------------------------------------------------------------------------------------


def trail_problems(view: ResourceView) -> list[str]:
    """What keeps one trail from being an audit log (empty: none)."""
    props = view.props
    problems = []
    if known(props.get("isMultiRegionTrail"), "isMultiRegionTrail") is not True:
        problems.append("it records one region only (set isMultiRegionTrail: true; CKV_AWS_67)")
    if known(props.get("enableLogFileValidation"), "enableLogFileValidation") is not True:
        problems.append("log files are not validated (set enableLogFileValidation: true; CKV_AWS_36)")
    if not is_set(known(props.get("kmsKeyId"), "kmsKeyId")):
        problems.append("log files are not encrypted with a KMS key (set kmsKeyId; CKV_AWS_35)")
    if known(props.get("enableLogging"), "enableLogging") is False:
        problems.append("logging is switched off (enableLogging: false)")
    return problems


def data_types(view: ResourceView) -> set[str]:
    """The CloudTrail data resource types a trail records (advanced or basic event selectors)."""
    recorded: set[str] = set()
    for index, selector in enumerate(items(view.props.get("advancedEventSelectors"), "advancedEventSelectors")):
        fields = {
            known(f.get("field"), f"advancedEventSelectors[{index}].fieldSelectors.field"): f
            for f in items(get(selector, "fieldSelectors"), f"advancedEventSelectors[{index}].fieldSelectors")
            if isinstance(f, Mapping)
        }
        category = fields.get("eventCategory", {}).get("equals") or []
        if "Data" in category:
            recorded.update(str(t) for t in fields.get("resources.type", {}).get("equals") or [])
    for index, selector in enumerate(items(view.props.get("eventSelectors"), "eventSelectors")):
        for resource in items(get(selector, "dataResources"), f"eventSelectors[{index}].dataResources"):
            if isinstance(resource, Mapping):
                recorded.add(str(known(resource.get("type"), f"eventSelectors[{index}].dataResources.type")))
    return recorded


def _trail(view: ResourceView, ctx: RuleContext) -> Iterator[Finding]:
    with ctx.unknowns():
        problems = trail_problems(view)
    if problems:
        yield Finding(f"{subject(view)}: not a complete audit log: {'; '.join(problems)}.")


def _trail_destinations(stack: StackView) -> set[str]:
    """Names of the buckets trails write to (their own objects are not audited: CloudTrail would log itself)."""
    names: set[str] = set()
    for trail in stack.by_type(TRAIL):
        name = trail.props.get("s3BucketName")
        if isinstance(name, str):
            names.add(name)
    return names


def _aws(stack: StackView, ctx: StackContext) -> Iterator[Finding]:
    destinations = _trail_destinations(stack)
    buckets = [
        r for r in stack.by_type(*AWS_BUCKET) if ctx.protected(r) and str(r.props.get("bucket")) not in destinations
    ]
    sagemaker = [r for r in stack.resources if r.type.startswith("aws:sagemaker/") and ctx.protected(r)]
    if not buckets and not sagemaker:
        return
    trails = stack.by_type(TRAIL)
    complete: list[ResourceView] = []
    for trail in trails:
        with ctx.unknowns(trail.urn):
            if not trail_problems(trail):
                complete.append(trail)
    if not complete:
        yield Finding(
            f"the stack keeps data or models on AWS ({len(buckets)} S3 buckets, {len(sagemaker)} SageMaker "
            "resources) in a protected environment, but no complete CloudTrail trail records who called which "
            "API. Add an aws.cloudtrail.Trail (mlops_infra.aws AuditTrail) that is multi-region, validates log "
            "files and encrypts them with KMS.",
            urn=stack.stack_urn,
            resource_type="pulumi:pulumi:Stack",
        )
        return
    recorded: set[str] = set()
    for trail in complete:
        with ctx.unknowns(trail.urn):
            recorded |= data_types(trail)
    wanted = ({S3_OBJECT} if buckets else set()) | {
        SAGEMAKER_DATA[r.type] for r in sagemaker if r.type in SAGEMAKER_DATA
    }
    missing = sorted(wanted - recorded)
    if missing:
        yield Finding(
            f"no trail records data events for {', '.join(missing)}, so reads of the platform's data and calls "
            "to its models are not audited. Add advancedEventSelectors with eventCategory Data and "
            "resources.type " + ", ".join(missing) + " (scoped with resources.ARN startsWith).",
            urn=complete[0].urn,
            resource_type=TRAIL,
        )


# --- GCP ------------------------------------------------------------------------------------------------


def _module(type_token: str) -> str:
    return type_token.split(":")[1].split("/", maxsplit=1)[0]


def _audited_services(stack: StackView, ctx: StackContext) -> set[str]:
    audited: set[str] = set()
    for config in stack.by_type(*GCP_AUDIT_CONFIGS):
        with ctx.unknowns(config.urn):
            service = known(config.props.get("service"), "service")
            types = {
                log_type
                for c in items(config.props.get("auditLogConfigs"), "auditLogConfigs")
                if isinstance(log_type := known(get(c, "logType"), "auditLogConfigs.logType"), str)
            }
            if all(t in types for t in DATA_LOG_TYPES):
                audited.add(str(service))
    return audited


def _gcp(stack: StackView, ctx: StackContext) -> Iterator[Finding]:
    used: dict[str, int] = {}
    for resource in stack.custom():
        if resource.package != "gcp" or not ctx.protected(resource):
            continue
        service = GCP_SERVICES.get(_module(resource.type))
        if service is not None and "IAM" not in resource.type.rsplit(":", 1)[-1]:
            used[service] = used.get(service, 0) + 1
    if not used:
        return
    audited = _audited_services(stack, ctx)
    if ALL_SERVICES in audited:
        return
    missing = sorted(set(used) - audited)
    if missing:
        yield Finding(
            f"the stack uses {', '.join(missing)} in a protected environment without Data Access audit logs, so "
            "nobody can tell who read or changed its data and models. Add a gcp.projects.IAMAuditConfig per "
            "service with DATA_READ and DATA_WRITE (mlops_infra.gcp AuditLogs).",
            urn=stack.stack_urn,
            resource_type="pulumi:pulumi:Stack",
        )


def stack_check(stack: StackView, ctx: StackContext) -> Iterator[Finding]:
    yield from _aws(stack, ctx)
    yield from _gcp(stack, ctx)


def resource_check(view: ResourceView, ctx: RuleContext) -> Iterator[Finding]:
    if view.type == TRAIL:
        yield from _trail(view, ctx)


SPEC = PolicySpec(
    id=ID,
    title="Audit logs are on for the platform's data and ML services",
    description=(
        "In protected environments: a stack with S3 buckets or SageMaker resources has a CloudTrail trail that "
        "is multi-region, validates log files, is KMS-encrypted and logging, and records data events of S3 "
        "objects and of SageMaker endpoints and feature groups when the stack has them; every trail is checked "
        "for the first three. A stack with Vertex AI, BigQuery or Cloud Storage resources turns on DATA_READ "
        "and DATA_WRITE audit logs for each of those services (or allServices) with an IAMAuditConfig. "
        "Kubernetes audit logging is cluster-level and not checked."
    ),
    remediation=(
        "AWS: add mlops_infra.aws AuditTrail (or aws.cloudtrail.Trail with is_multi_region_trail, "
        "enable_log_file_validation, kms_key_id and advanced_event_selectors for AWS::S3::Object, "
        "AWS::SageMaker::Endpoint, AWS::SageMaker::FeatureGroup). GCP: add mlops_infra.gcp AuditLogs (or "
        "gcp.projects.IAMAuditConfig per service with DATA_READ and DATA_WRITE). Platform spec: audit.enabled "
        "(on by default in protected environments)."
    ),
    resource_types={
        "aws": (TRAIL, *AWS_BUCKET, *SAGEMAKER_DATA),
        "gcp": (*GCP_AUDIT_CONFIGS, "gcp:vertex/*, gcp:bigquery/*, gcp:storage/* (the audited services)"),
    },
    checkov_ids=("CKV_AWS_67", "CKV_AWS_36", "CKV_AWS_35"),
    resource_check=resource_check,
    stack_check=stack_check,
    protected_only=True,
)
