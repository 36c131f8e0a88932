"""Stack-level rules: properties a single resource cannot show, read from the whole graph.

- an S3 bucket is encrypted when a BucketServerSideEncryptionConfiguration with aws:kms targets it;
- it is private when a full BucketPublicAccessBlock targets it (or an account-level one exists);
- it is TLS-only when a bucket policy denies ``aws:SecureTransport = false``;
- it is versioned when a BucketVersioning with status Enabled targets it;
- a Kubernetes namespace has a ResourceQuota (with a GPU cap), a LimitRange and a default-deny NetworkPolicy;
- production endpoints have drift monitoring and alarms;
- the stack declares a budget on every cloud it spends on.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

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
from mlops_infra.policy.facts.k8s_workloads import workloads
from mlops_infra.policy.markers import marker_hint, public_allowed
from mlops_infra.policy.model import Finding, ResourceView, StackView
from mlops_infra.policy.values import get, is_set, is_true, items, known

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


# --- Production endpoints: monitoring and alarms ------------------------------------------------------

SAGEMAKER_ENDPOINT = "aws:sagemaker/endpoint:Endpoint"
MONITORING_SCHEDULE = "aws:sagemaker/monitoringSchedule:MonitoringSchedule"
METRIC_ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
VERTEX_ENDPOINT = "gcp:vertex/aiEndpoint:AiEndpoint"
ALERT_POLICY = "gcp:monitoring/alertPolicy:AlertPolicy"
INFERENCE_SERVICE = "kubernetes:serving.kserve.io/v1beta1:InferenceService"
PROMETHEUS_RULE = "kubernetes:monitoring.coreos.com/v1:PrometheusRule"


def _points_at(ref: ResourceView, document: Any, target: ResourceView, names: set[str]) -> bool:
    return target.urn in ref.dependencies or mentions(document, names)


def _job_definition_names(stack: StackView, endpoint: ResourceView, names: set[str]) -> set[str]:
    """Names of monitoring job definitions whose input is ``endpoint``."""
    found = set()
    for definition in stack.resources:
        if definition.type.startswith("aws:sagemaker/") and definition.type.endswith("JobDefinition"):
            inputs = {k: v for k, v in definition.props.items() if k.endswith("JobInput")}
            if _points_at(definition, inputs, endpoint, names):
                found |= identifiers(definition, "name")
    return found


def _sagemaker_monitoring(stack: StackView, endpoint: ResourceView) -> Iterator[str]:
    names = identifiers(endpoint, "name")
    definitions = _job_definition_names(stack, endpoint, names)
    schedules = [
        s
        for s in stack.by_type(MONITORING_SCHEDULE)
        if _points_at(
            s, get(s.props, "monitoringScheduleConfig.monitoringJobDefinition.monitoringInputs"), endpoint, names
        )
        or str(get(s.props, "monitoringScheduleConfig.monitoringJobDefinitionName")) in definitions
    ]
    if not schedules:
        yield (
            "no SageMaker MonitoringSchedule watches it, so data and model drift go unnoticed. Add a "
            "DataQualityJobDefinition (dataQualityJobInput.endpointInput.endpointName) and a MonitoringSchedule for it."
        )
    alarms = [
        a
        for a in stack.by_type(METRIC_ALARM)
        if _points_at(
            a, {"dimensions": a.props.get("dimensions"), "metricQueries": a.props.get("metricQueries")}, endpoint, names
        )
    ]
    if not alarms:
        yield (
            "no CloudWatch MetricAlarm has dimensions.EndpointName set to it, so errors and latency go unnoticed. "
            "Add alarms on Invocation5XXErrors and ModelLatency (mlops_infra.aws Endpoint does)."
        )


def _vertex_monitoring(stack: StackView, endpoint: ResourceView) -> Iterator[str]:
    names = identifiers(endpoint, "name", "displayName") - {""}
    alerts = [a for a in stack.by_type(ALERT_POLICY) if _points_at(a, a.props.get("conditions"), endpoint, names)]
    if not alerts:
        yield (
            "no Cloud Monitoring AlertPolicy has a condition on it (aiplatform.googleapis.com/Endpoint with its "
            "endpoint_id), so errors, latency and drift go unnoticed. Add alert policies for it."
        )


def _kserve_monitoring(stack: StackView, service: ResourceView) -> Iterator[str]:
    names = {service.k8s_name()}
    namespace = service.k8s_namespace()
    rules = [
        r
        for r in stack.by_type(PROMETHEUS_RULE)
        if r.k8s_namespace() in (namespace, None) and _points_at(r, get(r.props, "spec.groups"), service, names)
    ]
    if not rules:
        yield (
            "no PrometheusRule alerts on it, so errors, latency and drift go unnoticed. Add a PrometheusRule whose "
            "spec.groups[].rules[].expr select this InferenceService (mlops_infra.k8s monitoring does)."
        )


def endpoint_monitoring(stack: StackView, ctx: StackContext) -> Iterator[Finding]:
    """monitoring-required: every production endpoint has drift monitoring and alarms."""
    checks = (
        (SAGEMAKER_ENDPOINT, _sagemaker_monitoring),
        (VERTEX_ENDPOINT, _vertex_monitoring),
        (INFERENCE_SERVICE, _kserve_monitoring),
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
