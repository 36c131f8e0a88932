"""Stack-level rules: properties a single resource cannot show, read from the whole graph.

- an S3 bucket is encrypted when a BucketServerSideEncryptionConfiguration with aws:kms targets it;
- it is private when a full BucketPublicAccessBlock targets it (or an account-level one exists);
- it is TLS-only when a bucket policy denies ``aws:SecureTransport = false``;
- it is versioned when a BucketVersioning with status Enabled targets it;
- a Kubernetes namespace has a ResourceQuota (with a GPU cap), a LimitRange and a default-deny NetworkPolicy;
- a PersistentVolumeClaim names a StorageClass that encrypts with a customer-managed key;
- a Namespace holding stateful objects is protected (deleting it deletes them);
- production endpoints have drift monitoring and alarms;
- the stack declares a budget on every cloud it spends on.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from mlops_infra.conventions.markers import EXPORTED_METRICS_MARKER
from mlops_infra.policy.context import StackContext
from mlops_infra.policy.correlation import (
    S3_BUCKET_TYPES,
    bucket_identifiers,
    identifiers,
    in_namespace,
    mentions,
    referrers,
)
from mlops_infra.policy.facts.aws_iam import denies_insecure_transport, principal_is_everyone, statements
from mlops_infra.policy.facts.k8s_storage import NAMESPACE, PVC, STATEFUL_SET, STORAGE_CLASS, claims, encrypts_with_cmk
from mlops_infra.policy.facts.k8s_workloads import workloads
from mlops_infra.policy.markers import marker_hint, public_allowed
from mlops_infra.policy.model import Finding, ResourceView, StackView
from mlops_infra.policy.stack_index import Mentions, StackIndex
from mlops_infra.policy.values import UnknownValue, get, is_set, is_true, items, known

SSE_TYPES = (
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
)
PAB_TYPE = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
ACCOUNT_PAB_TYPE = "aws:s3/accountPublicAccessBlock:AccountPublicAccessBlock"
PAB_FLAGS = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
POLICY_TYPE = "aws:s3/bucketPolicy:BucketPolicy"
ACL_TYPES = ("aws:s3/bucketAcl:BucketAcl", "aws:s3/bucketAclV2:BucketAclV2")
VERSIONING_TYPES = ("aws:s3/bucketVersioning:BucketVersioning", "aws:s3/bucketVersioningV2:BucketVersioningV2")
PUBLIC_ACLS = ("public-read", "public-read-write", "authenticated-read")
PUBLIC_GRANTEES = (
    "http://acs.amazonaws.com/groups/global/AllUsers",
    "http://acs.amazonaws.com/groups/global/AuthenticatedUsers",
)
KMS_ALGORITHMS = ("aws:kms", "aws:kms:dsse")


def _bucket_label(bucket: ResourceView) -> str:
    return f"Bucket {bucket.name!r}"


def _finding(bucket: ResourceView, message: str) -> Finding:
    return Finding(f"{_bucket_label(bucket)}: {message}", urn=bucket.urn, resource_type=bucket.type)


# --- S3 -----------------------------------------------------------------------------------------------


def _inline_kms(bucket: ResourceView) -> bool:
    config = bucket.props.get("serverSideEncryptionConfiguration")
    for holder in items(config, "serverSideEncryptionConfiguration"):
        rules = (
            items(holder.get("rule"), "rule") + items(holder.get("rules"), "rules")
            if isinstance(holder, Mapping)
            else []
        )
        for rule in rules:
            default = rule.get("applyServerSideEncryptionByDefault") if isinstance(rule, Mapping) else None
            if isinstance(default, Mapping) and known(default.get("sseAlgorithm"), "sseAlgorithm") in KMS_ALGORITHMS:
                return is_set(default.get("kmsMasterKeyId"))
    return False


def s3_bucket_encryption(stack: StackView, ctx: StackContext) -> Iterator[Finding]:
    """encryption-at-rest for buckets; a targeting SSE configuration is checked (and flagged) itself."""
    for bucket in stack.by_type(*S3_BUCKET_TYPES):
        with ctx.unknowns(bucket.urn):
            if _inline_kms(bucket) or referrers(stack, bucket, SSE_TYPES, "bucket", bucket_identifiers(bucket)):
                continue
            yield _finding(
                bucket,
                "objects are encrypted with S3-managed keys: no BucketServerSideEncryptionConfiguration "
                "targets it. Add one with rules[0].applyServerSideEncryptionByDefault.sseAlgorithm: aws:kms and "
                ".kmsMasterKeyId set to a customer-managed key (mlops_infra.aws.SecureBucket does this).",
            )


def _full_block(block: ResourceView) -> bool:
    return all(is_true(block.props.get(flag), flag) for flag in PAB_FLAGS)


def _public_statements(policy_doc: Any, path: str) -> list[str]:
    return [
        s.label
        for s in statements(policy_doc, path)
        if s.allows and principal_is_everyone(s.principal) and not s.condition
    ]


def s3_bucket_public_access(stack: StackView, ctx: StackContext) -> Iterator[Finding]:
    """no-public-access for buckets: full public access block, no public ACL, no public policy statement."""
    account_blocked = any(_full_block(b) for b in stack.by_type(ACCOUNT_PAB_TYPE))
    for bucket in stack.by_type(*S3_BUCKET_TYPES):
        if public_allowed(bucket, ctx.config):
            continue
        hint = f"If public access is intended, tag the bucket {marker_hint(ctx.config, bucket)}."
        ids = bucket_identifiers(bucket)
        with ctx.unknowns(bucket.urn):
            blocks = referrers(stack, bucket, (PAB_TYPE,), "bucket", ids)
            if not account_blocked and not any(_full_block(b) for b in blocks):
                state = (
                    "only a partial BucketPublicAccessBlock targets it"
                    if blocks
                    else "no BucketPublicAccessBlock targets it"
                )
                yield _finding(
                    bucket,
                    f"public access is not blocked: {state}. Add aws.s3.BucketPublicAccessBlock with "
                    f"{', '.join(PAB_FLAGS)} all true. {hint}",
                )
        with ctx.unknowns(bucket.urn):
            acls = [known(bucket.props.get("acl"), "acl")] + [
                known(a.props.get("acl"), "acl") for a in referrers(stack, bucket, ACL_TYPES, "bucket", ids)
            ]
            grants = [
                g
                for a in referrers(stack, bucket, ACL_TYPES, "bucket", ids)
                for g in items(get(a.props, "accessControlPolicy.grants"), "accessControlPolicy.grants")
            ]
            public_grant = any(isinstance(g, Mapping) and get(g, "grantee.uri") in PUBLIC_GRANTEES for g in grants)
            if any(acl in PUBLIC_ACLS for acl in acls) or public_grant:
                yield _finding(
                    bucket,
                    f"an ACL grants access to everyone (acl {next((a for a in acls if a), 'grant')}). "
                    f"Remove the public ACL/grant; use BucketOwnershipControls BucketOwnerEnforced. {hint}",
                )
        documents = [("policy", bucket.props.get("policy"))] + [
            ("BucketPolicy.policy", p.props.get("policy"))
            for p in referrers(stack, bucket, (POLICY_TYPE,), "bucket", ids)
        ]
        for path, document in documents:
            if document is None:
                continue
            with ctx.unknowns(bucket.urn):
                public = _public_statements(document, path)
                if public:
                    yield _finding(
                        bucket,
                        f'{path} {public[0]} allows Principal "*" with no Condition. Name the '
                        f"principals or add a Condition (aws:PrincipalOrgID, aws:SourceVpce). {hint}",
                    )


def s3_bucket_tls(stack: StackView, ctx: StackContext) -> Iterator[Finding]:
    """encryption-in-transit for buckets: a policy statement denies requests without TLS."""
    for bucket in stack.by_type(*S3_BUCKET_TYPES):
        with ctx.unknowns(bucket.urn):
            documents = [bucket.props.get("policy")] + [
                p.props.get("policy")
                for p in referrers(stack, bucket, (POLICY_TYPE,), "bucket", bucket_identifiers(bucket))
            ]
            if any(denies_insecure_transport(s) for d in documents if d is not None for s in statements(d, "policy")):
                continue
            yield _finding(
                bucket,
                "plain-HTTP requests are not denied. Add a BucketPolicy statement with Effect Deny, "
                'Principal "*", Action s3:* and Condition {"Bool": {"aws:SecureTransport": "false"}}.',
            )


def s3_bucket_versioning(stack: StackView, ctx: StackContext) -> Iterator[Finding]:
    """deletion-protection for buckets: object versions survive overwrite and deletion."""
    for bucket in stack.by_type(*S3_BUCKET_TYPES):
        with ctx.unknowns(bucket.urn):
            if is_true(get(bucket.props, "versioning.enabled"), "versioning.enabled"):
                continue
            configs = referrers(stack, bucket, VERSIONING_TYPES, "bucket", bucket_identifiers(bucket))
            if any(str(get(c.props, "versioningConfiguration.status")) == "Enabled" for c in configs):
                continue
            yield _finding(
                bucket,
                "objects are not versioned, so an overwrite or delete loses data. Add "
                "aws.s3.BucketVersioning with versioningConfiguration.status: Enabled.",
            )


# --- Kubernetes namespaces --------------------------------------------------------------------------

QUOTA_TYPE = "kubernetes:core/v1:ResourceQuota"
LIMIT_RANGE_TYPE = "kubernetes:core/v1:LimitRange"
NETWORK_POLICY_TYPE = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
NAMESPACE_TYPE = "kubernetes:core/v1:Namespace"


def _quota_keys(quota: ResourceView) -> set[str]:
    hard = known(get(quota.props, "spec.hard"), "spec.hard")
    return {str(k) for k in hard} if isinstance(hard, Mapping) else set()


def _quota_gaps(keys: set[str]) -> list[str]:
    gaps = []
    if not keys & {"cpu", "requests.cpu", "limits.cpu"}:
        gaps.append("CPU (requests.cpu / limits.cpu)")
    if not keys & {"memory", "requests.memory", "limits.memory"}:
        gaps.append("memory (requests.memory / limits.memory)")
    if not any("gpu" in k.lower() for k in keys):
        gaps.append("GPUs (requests.nvidia.com/gpu)")
    return gaps


def _default_deny(policy: ResourceView) -> bool:
    spec = known(policy.props.get("spec"), "spec")
    if not isinstance(spec, Mapping):
        return False
    selector = spec.get("podSelector")
    selects_all = selector is None or (
        isinstance(selector, Mapping) and not (selector.get("matchLabels") or selector.get("matchExpressions"))
    )
    types = [str(t) for t in items(spec.get("policyTypes"), "spec.policyTypes")]
    return selects_all and "Ingress" in types and not spec.get("ingress")


def namespace_guardrails(stack: StackView, ctx: StackContext) -> Iterator[Finding]:
    """k8s-namespace-guardrails: quota (CPU, memory, GPUs), LimitRange, default-deny NetworkPolicy."""
    for namespace in stack.by_type(NAMESPACE_TYPE):
        name = namespace.k8s_name()

        def inside(token: str, ns: ResourceView = namespace) -> list[ResourceView]:
            return [r for r in stack.by_type(token) if in_namespace(r, ns)]

        def finding(message: str, ns: ResourceView = namespace, ns_name: str = name) -> Finding:
            return Finding(f"Namespace {ns_name!r}: {message}", urn=ns.urn, resource_type=ns.type)

        with ctx.unknowns(namespace.urn):
            quotas = inside(QUOTA_TYPE)
            if not quotas:
                yield finding(
                    "no ResourceQuota, so one team can take every CPU, GPU and byte of memory in the cluster. "
                    "Add a ResourceQuota with spec.hard requests.cpu, requests.memory and requests.nvidia.com/gpu."
                )
            else:
                gaps = _quota_gaps({k for q in quotas for k in _quota_keys(q)})
                if gaps:
                    yield finding(f"its ResourceQuota does not cap {', '.join(gaps)}. Add those keys to spec.hard.")
        with ctx.unknowns(namespace.urn):
            if not inside(LIMIT_RANGE_TYPE):
                yield finding(
                    "no LimitRange, so containers without requests/limits are unbounded. Add a LimitRange "
                    "with spec.limits[type=Container] default and defaultRequest."
                )
        with ctx.unknowns(namespace.urn):
            if not any(_default_deny(p) for p in inside(NETWORK_POLICY_TYPE)):
                yield finding(
                    "no default-deny NetworkPolicy, so every pod accepts traffic from anywhere in the cluster. "
                    'Add a NetworkPolicy with spec.podSelector: {} and spec.policyTypes: ["Ingress", "Egress"] '
                    "and no ingress rules."
                )


# --- Kubernetes volumes: encrypted classes, protected namespaces ---------------------------------------


def _claim_gap(value: Any, classes: Mapping[str, ResourceView], vouched: tuple[str, ...]) -> str | None:
    """Why a claim with storageClassName ``value`` is not proven encrypted, or None."""
    if not is_set(value) or value == "":
        return (
            "uses the cluster's default StorageClass, which nothing shows to be encrypted with a customer-managed key"
        )
    name = known(value, "storageClassName")
    if name in classes:
        if encrypts_with_cmk(classes[name]):
            return None
        return f"uses StorageClass {name!r}, which does not encrypt its volumes with a customer-managed key"
    if name in vouched:
        return None
    return f"uses StorageClass {name!r}, which is neither in this stack nor listed in encryptedStorageClasses"


def claim_encryption(stack: StackView, ctx: StackContext) -> Iterator[Finding]:
    """encryption-at-rest for claims in protected environments: each names a class proven to use a CMK."""
    classes = {c.k8s_name(): c for c in stack.by_type(STORAGE_CLASS)}
    for resource in stack.by_type(PVC, STATEFUL_SET):
        if not ctx.protected(resource):
            continue
        for path, value in claims(resource):
            with ctx.unknowns(resource.urn):
                gap = _claim_gap(value, classes, ctx.config.encrypted_storage_classes)
                if gap is not None:
                    kind = resource.type.rsplit(":", 1)[-1]
                    yield Finding(
                        f"{kind} {resource.k8s_name()!r}: {gap} ({path}). Name an encrypted StorageClass "
                        "(k8s.storage in the platform spec creates one), or list your cluster's encrypted class in "
                        "the policy config's encryptedStorageClasses.",
                        urn=resource.urn,
                        resource_type=resource.type,
                    )


def namespace_protection(stack: StackView, ctx: StackContext) -> Iterator[Finding]:
    """deletion-protection: a Namespace holding PVCs in a protected environment is protected and retained."""
    stateful = [r for r in stack.custom() if r.type in (PVC, STATEFUL_SET)]
    for namespace in stack.by_type(NAMESPACE):
        if not ctx.protected(namespace) or namespace.name in ctx.config.protection_exemptions:
            continue
        with ctx.unknowns(namespace.urn):
            holds = [r for r in stateful if in_namespace(r, namespace) and any(True for _ in claims(r))]
            if not holds:
                continue
            # One message whichever flag is off: the Analyzer protocol does not carry retainOnDelete (None there).
            if namespace.options.protect is False or namespace.options.retain_on_delete is False:
                yield Finding(
                    f"Namespace {namespace.k8s_name()!r} holds {holds[0].type.rsplit(':', 1)[-1]} "
                    f"{holds[0].k8s_name()!r} but is not both protected and retained, so deleting the namespace "
                    "deletes its volumes even though they are protected. Pass ResourceOptions(protect=True, "
                    "retain_on_delete=True) to the Namespace (Tenancy does with holds_state: true).",
                    urn=namespace.urn,
                    resource_type=namespace.type,
                )


# --- Production endpoints: monitoring and alarms ------------------------------------------------------

SAGEMAKER_ENDPOINT = "aws:sagemaker/endpoint:Endpoint"
MONITORING_SCHEDULE = "aws:sagemaker/monitoringSchedule:MonitoringSchedule"
METRIC_ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
VERTEX_ENDPOINT = "gcp:vertex/aiEndpoint:AiEndpoint"
ALERT_POLICY = "gcp:monitoring/alertPolicy:AlertPolicy"
INFERENCE_SERVICE = "kubernetes:serving.kserve.io/v1beta1:InferenceService"
SELDON_MODEL = "kubernetes:mlops.seldon.io/v1alpha1:Model"
PROMETHEUS_RULE = "kubernetes:monitoring.coreos.com/v1:PrometheusRule"


def _points_at(ref: ResourceView, document: Any, target: ResourceView, names: set[str]) -> bool:
    return target.urn in ref.dependencies or mentions(document, names)


def _is_job_definition(view: ResourceView) -> bool:
    return view.type.startswith("aws:sagemaker/") and view.type.endswith("JobDefinition")


def _job_inputs(definition: ResourceView) -> dict[str, Any]:
    return {k: v for k, v in definition.props.items() if k.endswith("JobInput")}


def _job_definition_names(stack: StackView, endpoint: ResourceView, names: set[str]) -> set[str]:
    """Names of monitoring job definitions whose input is ``endpoint``."""
    found = set()
    for definition in stack.resources:
        if _is_job_definition(definition):
            inputs = _job_inputs(definition)
            if _points_at(definition, inputs, endpoint, names):
                found |= identifiers(definition, "name")
    return found


def _schedule_inputs(schedule: ResourceView) -> Any:
    return get(schedule.props, "monitoringScheduleConfig.monitoringJobDefinition.monitoringInputs")


def _alarm_target(alarm: ResourceView) -> dict[str, Any]:
    return {"dimensions": alarm.props.get("dimensions"), "metricQueries": alarm.props.get("metricQueries")}


def _pointing(
    index: StackIndex, mentions: Mentions, candidates: list[ResourceView], endpoint: ResourceView, names: set[str]
) -> list[ResourceView]:
    """``candidates`` that depend on ``endpoint`` or mention one of ``names``, in stack order (``_points_at``)."""
    chosen = {id(v) for v in mentions.of(names)}
    wanted = {id(v) for v in candidates}
    chosen |= {id(v) for v in index.dependents(endpoint.urn) if id(v) in wanted}
    return [v for v in candidates if id(v) in chosen]


@dataclass(frozen=True)
class _SageMakerWatchers:
    """Every SageMaker endpoint's monitoring job definitions, schedules and alarms, found in one pass."""

    definitions: list[ResourceView]
    definition_mentions: Mentions
    schedules: list[ResourceView]
    schedule_mentions: Mentions
    schedules_by_definition: dict[str, list[ResourceView]]
    alarms: list[ResourceView]
    alarm_mentions: Mentions


def _sagemaker_watchers(stack: StackView) -> _SageMakerWatchers | None:
    """The index of what watches SageMaker endpoints; None when a value it reads is unknown (then each
    endpoint is checked on its own, so the unknown value is reported exactly as before)."""
    index = stack.index
    names = {n for e in index.of_type(SAGEMAKER_ENDPOINT) for n in identifiers(e, "name")}
    definitions = [d for d in stack.resources if _is_job_definition(d)]
    schedules = index.of_type(MONITORING_SCHEDULE)
    alarms = index.of_type(METRIC_ALARM)
    try:
        by_definition: dict[str, list[ResourceView]] = {}
        for schedule in schedules:
            name = str(get(schedule.props, "monitoringScheduleConfig.monitoringJobDefinitionName"))
            by_definition.setdefault(name, []).append(schedule)
        schedule_mentions = Mentions(schedules, _schedule_inputs, names)
    except UnknownValue:
        return None
    return _SageMakerWatchers(
        definitions=definitions,
        definition_mentions=Mentions(definitions, _job_inputs, names),
        schedules=schedules,
        schedule_mentions=schedule_mentions,
        schedules_by_definition=by_definition,
        alarms=alarms,
        alarm_mentions=Mentions(alarms, _alarm_target, names),
    )


def _sagemaker_watched(stack: StackView, endpoint: ResourceView) -> tuple[bool, bool]:
    """(a monitoring schedule watches ``endpoint``, an alarm watches it)."""
    names = identifiers(endpoint, "name")
    watchers = stack.index.memo("monitoring-required:sagemaker", lambda: _sagemaker_watchers(stack))
    if watchers is None:  # an unknown value: the per-endpoint scan reports it where it always did
        definitions = _job_definition_names(stack, endpoint, names)
        schedules = [
            s
            for s in stack.by_type(MONITORING_SCHEDULE)
            if _points_at(s, _schedule_inputs(s), endpoint, names)
            or str(get(s.props, "monitoringScheduleConfig.monitoringJobDefinitionName")) in definitions
        ]
        alarms = [a for a in stack.by_type(METRIC_ALARM) if _points_at(a, _alarm_target(a), endpoint, names)]
        return bool(schedules), bool(alarms)
    index = stack.index
    definitions = {
        n
        for d in _pointing(index, watchers.definition_mentions, watchers.definitions, endpoint, names)
        for n in identifiers(d, "name")
    }
    scheduled = bool(_pointing(index, watchers.schedule_mentions, watchers.schedules, endpoint, names)) or any(
        watchers.schedules_by_definition.get(n) for n in definitions
    )
    alarmed = bool(_pointing(index, watchers.alarm_mentions, watchers.alarms, endpoint, names))
    return scheduled, alarmed


def _sagemaker_monitoring(stack: StackView, endpoint: ResourceView) -> Iterator[str]:
    scheduled, alarmed = _sagemaker_watched(stack, endpoint)
    if not scheduled:
        yield (
            "no SageMaker MonitoringSchedule watches it, so data and model drift go unnoticed. Add a "
            "DataQualityJobDefinition (dataQualityJobInput.endpointInput.endpointName) and a MonitoringSchedule for it."
        )
    if not alarmed:
        yield (
            "no CloudWatch MetricAlarm has dimensions.EndpointName set to it, so errors and latency go unnoticed. "
            "Add alarms on Invocation5XXErrors and ModelLatency (mlops_infra.aws Endpoint does)."
        )


WORKFLOW = "gcp:workflows/workflow:Workflow"
SCHEDULER_JOB = "gcp:cloudscheduler/job:Job"
EVENTARC_TRIGGER = "gcp:eventarc/trigger:Trigger"
# A workflow that creates a Vertex pipeline job (REST pipelineJobs.create or the Workflows connector).
PIPELINE_SUBMIT = "pipelineJobs"
# Vertex model monitoring (a dynamic resource or a future provider resource), named by its type token.
VERTEX_MONITORING_JOB = re.compile(r"(ModelDeploymentMonitoringJob|ModelMonitor)", re.IGNORECASE)
DRIFT_DETECTOR_COMPONENT = "drift-detector"
COMPONENT_LABEL = "app.kubernetes.io/component"
DRIFT_METRIC_ENV = "DRIFT_METRIC"
DEFAULT_DRIFT_METRIC = "model_feature_drift_score"
_METRIC_READ = re.compile(r"([A-Za-z_:][A-Za-z0-9_:]*)\s*(?:\{|\[)")


def _endpoint_needles(endpoint: ResourceView) -> set[str]:
    """What a drift check of the endpoint names: its request-log table (BigQuery) or its resource name."""
    needles = {f"endpoints/{n}" for n in identifiers(endpoint, "name") if n}
    uri = get(endpoint.props, "predictRequestResponseLoggingConfig.bigqueryDestination.outputUri")
    if isinstance(uri, str) and uri.removeprefix("bq://"):
        needles.add(uri.removeprefix("bq://"))
    return needles


def _started(stack: StackView, workflow: ResourceView) -> bool:
    """A Cloud Scheduler job (or an Eventarc trigger) executes ``workflow``."""
    names = identifiers(workflow, "name")
    for job in stack.by_type(SCHEDULER_JOB):
        uri = get(job.props, "httpTarget.uri")
        if workflow.urn in job.dependencies and (uri is None or "/executions" in str(uri)):
            return True
        if isinstance(uri, str) and any(f"workflows/{n}/executions" in uri for n in names):
            return True
    for trigger in stack.by_type(EVENTARC_TRIGGER):
        target = get(trigger.props, "destination.workflow")
        if workflow.urn in trigger.dependencies or (isinstance(target, str) and any(n in target for n in names)):
            return True
    return False


def _monitoring_jobs(stack: StackView) -> list[ResourceView]:
    """Vertex model monitoring jobs, named by their type token."""
    return stack.index.memo(
        "monitoring-required:vertex-jobs", lambda: [r for r in stack.resources if VERTEX_MONITORING_JOB.search(r.kind)]
    )


def _submitting_workflows(stack: StackView) -> list[tuple[ResourceView, str]]:
    """Workflows whose source submits a Vertex pipeline job, with that source (UnknownValue when one is unknown)."""
    found = []
    for workflow in stack.by_type(WORKFLOW):
        source = known(workflow.props.get("sourceContents"), "sourceContents")
        if isinstance(source, str) and PIPELINE_SUBMIT in source:
            found.append((workflow, source))
    return found


@dataclass(frozen=True)
class _VertexWatchers:
    """What mentions each Vertex endpoint (monitoring jobs, workflows, alert policies), found in one pass."""

    jobs: list[ResourceView]
    job_mentions: Mentions
    workflows: list[ResourceView]
    sources: dict[int, str]
    workflow_mentions: Mentions
    alerts: list[ResourceView]
    alert_mentions: Mentions


def _vertex_watchers(stack: StackView) -> _VertexWatchers | None:
    """The index of what watches Vertex endpoints; None when a value it reads is unknown (then each endpoint
    is checked on its own, so the unknown value is reported exactly as before)."""
    endpoints = stack.index.of_type(VERTEX_ENDPOINT)
    try:
        needles = {n for e in endpoints for n in _endpoint_needles(e)}
        workflows = _submitting_workflows(stack)
    except UnknownValue:
        return None
    names = {n for e in endpoints for n in identifiers(e, "name", "displayName")} - {""}
    jobs = _monitoring_jobs(stack)
    alerts = stack.index.of_type(ALERT_POLICY)
    sources = {id(w): source for w, source in workflows}
    views = [w for w, _ in workflows]
    return _VertexWatchers(
        jobs=jobs,
        job_mentions=Mentions(jobs, lambda r: r.props, needles),
        workflows=views,
        sources=sources,
        workflow_mentions=Mentions(views, lambda w: sources[id(w)], needles),
        alerts=alerts,
        alert_mentions=Mentions(alerts, lambda a: a.props.get("conditions"), names),
    )


def _vertex_drift(stack: StackView, endpoint: ResourceView) -> bool:
    """A scheduled workflow reads the endpoint's requests and submits a pipeline job, or a monitoring job watches it."""
    needles = _endpoint_needles(endpoint)
    watchers = stack.index.memo("monitoring-required:vertex", lambda: _vertex_watchers(stack))
    if watchers is None:  # an unknown value: the per-endpoint scan reports it where it always did
        for other in stack.resources:
            watches = endpoint.urn in other.dependencies or mentions(other.props, needles)
            if other.urn != endpoint.urn and VERTEX_MONITORING_JOB.search(other.kind) and watches:
                return True
        for workflow in stack.by_type(WORKFLOW):
            source = known(workflow.props.get("sourceContents"), "sourceContents")
            if not isinstance(source, str) or PIPELINE_SUBMIT not in source:
                continue
            if (endpoint.urn in workflow.dependencies or mentions(source, needles)) and _started(stack, workflow):
                return True
        return False
    index = stack.index
    jobs = _pointing(index, watchers.job_mentions, watchers.jobs, endpoint, needles)
    if any(job.urn != endpoint.urn for job in jobs):
        return True
    return any(
        _started(stack, workflow)
        for workflow in _pointing(index, watchers.workflow_mentions, watchers.workflows, endpoint, needles)
    )


def _vertex_monitoring(stack: StackView, endpoint: ResourceView) -> Iterator[str]:
    names = identifiers(endpoint, "name", "displayName") - {""}
    watchers = stack.index.memo("monitoring-required:vertex", lambda: _vertex_watchers(stack))
    if watchers is None:
        alerts = [a for a in stack.by_type(ALERT_POLICY) if _points_at(a, a.props.get("conditions"), endpoint, names)]
    else:
        alerts = _pointing(stack.index, watchers.alert_mentions, watchers.alerts, endpoint, names)
    if not alerts:
        yield (
            "no Cloud Monitoring AlertPolicy has a condition on it (aiplatform.googleapis.com/Endpoint with its "
            "endpoint_id), so errors, latency and drift go unnoticed. Add alert policies for it."
        )
    if not _vertex_drift(stack, endpoint):
        yield (
            "no drift check starts retraining for it: no Cloud Workflows workflow that reads its request logs "
            "(predictRequestResponseLoggingConfig.bigqueryDestination) and submits a pipeline job (pipelineJobs) is "
            "run by a Cloud Scheduler job, and no Vertex model monitoring job watches it. Add a mlops_infra.gcp "
            "DriftRetraining with its pipeline_job (an alert policy alone retrains nothing)."
        )


def _emitted_metrics(stack: StackView) -> set[str]:
    """Metrics something in the stack exports (computed once per stack; see ``_scan_emitted_metrics``)."""
    return set(stack.index.memo("monitoring-required:emitted-metrics", lambda: _scan_emitted_metrics(stack)))


def _scan_emitted_metrics(stack: StackView) -> set[str]:
    """Metrics something in the stack exports: a DriftDetector's DRIFT_METRIC, or the exported-metrics marker."""
    emitted: set[str] = set()
    for resource in stack.resources:
        if resource.package != "kubernetes":
            continue
        marker = known(resource.annotations().get(EXPORTED_METRICS_MARKER), EXPORTED_METRICS_MARKER)
        if isinstance(marker, str):
            emitted |= {m.strip() for m in marker.split(",") if m.strip()}
        detector = str(resource.label_map().get(COMPONENT_LABEL, "")) == DRIFT_DETECTOR_COMPONENT
        for _, containers in workloads(resource.type, resource.props):
            for container in containers:
                env = {
                    str(e.get("name")): e.get("value")
                    for e in items(container.spec.get("env"), f"{container.path}.env")
                    if isinstance(e, Mapping)
                }
                metric = known(env.get(DRIFT_METRIC_ENV), f"{container.path}.env.{DRIFT_METRIC_ENV}")
                if isinstance(metric, str) and metric:
                    emitted.add(metric)
                elif detector:
                    emitted.add(DEFAULT_DRIFT_METRIC)
    return emitted


def _kserve_watchers(stack: StackView) -> tuple[list[ResourceView], Mentions] | None:
    """Every PrometheusRule and which InferenceService names its groups mention; None on an unknown value."""
    rules = stack.index.of_type(PROMETHEUS_RULE)
    names = {s.k8s_name() for s in stack.index.of_type(INFERENCE_SERVICE)}
    try:
        return rules, Mentions(rules, lambda r: get(r.props, "spec.groups"), names)
    except UnknownValue:
        return None


def _kserve_monitoring(stack: StackView, service: ResourceView) -> Iterator[str]:
    names = {service.k8s_name()}
    namespace = service.k8s_namespace()
    watchers = stack.index.memo("monitoring-required:kserve", lambda: _kserve_watchers(stack))
    if watchers is None:  # an unknown value: the per-service scan reports it where it always did
        rules = [
            r
            for r in stack.by_type(PROMETHEUS_RULE)
            if r.k8s_namespace() in (namespace, None) and _points_at(r, get(r.props, "spec.groups"), service, names)
        ]
    else:
        candidates, rule_mentions = watchers
        rules = [
            r
            for r in _pointing(stack.index, rule_mentions, candidates, service, names)
            if r.k8s_namespace() in (namespace, None)
        ]
    if not rules:
        yield (
            "no PrometheusRule alerts on it, so errors, latency and drift go unnoticed. Add a PrometheusRule whose "
            "spec.groups[].rules[].expr select this InferenceService (mlops_infra.k8s monitoring does)."
        )
        return
    emitted = _emitted_metrics(stack)
    drift_alerts: list[tuple[str, set[str]]] = []
    for rule in rules:
        for group in items(get(rule.props, "spec.groups"), "spec.groups"):
            entries = group.get("rules") if isinstance(group, Mapping) else None
            for entry in items(entries, "spec.groups[].rules"):
                if not isinstance(entry, Mapping) or not isinstance(entry.get("alert"), str):
                    continue
                expr = known(entry.get("expr"), "spec.groups[].rules[].expr")
                read = set(_METRIC_READ.findall(expr)) if isinstance(expr, str) else set()
                drift = "drift" in str(entry["alert"]).lower() or bool(read & emitted)
                selects = not isinstance(expr, str) or mentions(expr, names) or mentions(entry.get("labels"), names)
                if drift and selects:
                    drift_alerts.append((str(entry["alert"]), read))
    if not drift_alerts:
        yield (
            "no PrometheusRule alert watches its feature drift. Add a mlops_infra.k8s DriftDetector (it exports "
            f"{DEFAULT_DRIFT_METRIC}) and an alert on that metric for this InferenceService."
        )
    elif not any(read & emitted for _, read in drift_alerts):
        alert, read = drift_alerts[0]
        yield (
            f"its drift alert {alert} reads {', '.join(sorted(read)) or 'no metric'}, which nothing in the stack "
            f"exports (exported: {', '.join(sorted(emitted)) or 'none'}), so it can never fire. Add a "
            f"mlops_infra.k8s DriftDetector (it exports {DEFAULT_DRIFT_METRIC}) and alert on its metric, or mark "
            f'the exporter with the annotation {EXPORTED_METRICS_MARKER}: "<metric>".'
        )


def _seldon_monitoring(stack: StackView, model: ResourceView) -> Iterator[str]:
    """A Seldon Core v2 Model: a PrometheusRule alerts on it or its Server (Seldon's latency and error metrics carry
    the server label). Drift is not asked for: a Seldon Model records no payloads (data-capture makes that explicit)."""
    server = known(get(model.props, "spec.server"), "spec.server")
    names = {model.k8s_name()} | ({server} if isinstance(server, str) and server else set())
    namespace = model.k8s_namespace()
    rules = [
        r
        for r in stack.by_type(PROMETHEUS_RULE)
        if r.k8s_namespace() in (namespace, None) and _points_at(r, get(r.props, "spec.groups"), model, names)
    ]
    if not rules:
        yield (
            "no PrometheusRule alerts on it or its Server, so errors and latency go unnoticed. Add a PrometheusRule "
            "whose spec.groups[].rules[].expr select its server (mlops_infra.k8s Monitoring with backend seldon does)."
        )


def endpoint_monitoring(stack: StackView, ctx: StackContext) -> Iterator[Finding]:
    """monitoring-required: every production endpoint has drift monitoring and alarms."""
    checks = (
        (SAGEMAKER_ENDPOINT, _sagemaker_monitoring),
        (VERTEX_ENDPOINT, _vertex_monitoring),
        (INFERENCE_SERVICE, _kserve_monitoring),
        (SELDON_MODEL, _seldon_monitoring),
    )
    for token, check in checks:
        for endpoint in stack.by_type(token):
            if not ctx.protected(endpoint):
                continue
            with ctx.unknowns(endpoint.urn):
                for problem in list(check(stack, endpoint)):
                    yield Finding(
                        f"{endpoint.kind} {endpoint.name!r} (production): {problem}",
                        urn=endpoint.urn,
                        resource_type=endpoint.type,
                    )


# --- Budgets --------------------------------------------------------------------------------------------

AWS_BUDGET = "aws:budgets/budget:Budget"
GCP_BUDGET = "gcp:billing/budget:Budget"
K8S_SPEND_BUDGET = "mlops-infra:k8s:SpendBudget"
PROMETHEUS_RULE = "kubernetes:monitoring.coreos.com/v1:PrometheusRule"
# OpenCost's cost metrics (https://www.opencost.io/docs/integrations/metrics): a PrometheusRule whose
# alerts read one of them watches spend.
OPENCOST_COST_METRICS = (
    "node_cpu_hourly_cost",
    "node_ram_hourly_cost",
    "node_gpu_hourly_cost",
    "node_total_hourly_cost",
    "pv_hourly_cost",
    "kubecost_load_balancer_cost",
    "kubecost_cluster_management_cost",
)


def _watches_opencost_spend(rule: ResourceView) -> bool:
    """A PrometheusRule with at least one alert whose expression reads an OpenCost cost metric."""
    for group in items(get(rule.props, "spec.groups"), "spec.groups"):
        rules = group.get("rules") if isinstance(group, Mapping) else None
        for entry in items(rules, "rules"):
            if not isinstance(entry, Mapping) or not is_set(entry.get("alert")):
                continue
            expr = entry.get("expr")
            if isinstance(expr, str) and any(metric in expr for metric in OPENCOST_COST_METRICS):
                return True
    return False


def _k8s_workloads(stack: StackView) -> list[ResourceView]:
    return [r for r in stack.custom() if r.package == "kubernetes" and workloads(r.type, r.props)]


def _budget_problem(budget: ResourceView) -> str | None:
    if budget.type == AWS_BUDGET and not is_set(budget.props.get("notifications")):
        return (
            f"Budget {budget.name!r} has no notifications, so nobody hears when spend crosses it. Add notifications[]."
        )
    if budget.type == GCP_BUDGET and not (
        is_set(budget.props.get("thresholdRules")) or is_set(budget.props.get("allUpdatesRule"))
    ):
        return (
            f"Budget {budget.name!r} has no thresholdRules, so nobody hears when spend crosses it. Add thresholdRules."
        )
    return None


def stack_budget(stack: StackView, ctx: StackContext) -> Iterator[Finding]:
    """budget-required: a stack that creates AWS or GCP resources declares a budget on each, with alerts.

    A stack with Kubernetes workloads (anything that runs pods, InferenceServices included) declares a spend
    budget too: an mlops-infra k8s SpendBudget, or a PrometheusRule alerting on OpenCost cost metrics.
    """
    workloads_ = _k8s_workloads(stack)
    if workloads_ and not (
        stack.by_type(K8S_SPEND_BUDGET) or any(_watches_opencost_spend(r) for r in stack.by_type(PROMETHEUS_RULE))
    ):
        yield Finding(
            f"the stack runs {len(workloads_)} Kubernetes workloads but declares no spend budget. Add a "
            "mlops_infra.k8s SpendBudget (a monthly limit alerting on OpenCost spend), or a PrometheusRule whose "
            "alerts read OpenCost cost metrics (node_cpu_hourly_cost, ...).",
            urn=stack.stack_urn,
            resource_type="pulumi:pulumi:Stack",
        )
    for cloud, token, hint in (
        ("aws", AWS_BUDGET, "aws.budgets.Budget (mlops_infra.aws Budget)"),
        ("gcp", GCP_BUDGET, "gcp.billing.Budget"),
    ):
        spending = [r for r in stack.custom() if r.package == cloud and r.type not in (AWS_BUDGET, GCP_BUDGET)]
        if not spending:
            continue
        budgets = stack.by_type(token)
        if not budgets:
            yield Finding(
                f"the stack creates {len(spending)} {cloud.upper()} resources but declares no budget. "
                f"Add a {hint} with a limit and notifications.",
                urn=stack.stack_urn,
                resource_type="pulumi:pulumi:Stack",
            )
        for budget in budgets:
            problem = _budget_problem(budget)
            if problem:
                yield Finding(problem, urn=budget.urn, resource_type=budget.type)
