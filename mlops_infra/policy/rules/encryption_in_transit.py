"""encryption-in-transit: TLS-only bucket access and encrypted traffic between training and
monitoring containers; HTTPS-only listeners, ingresses and TLS policies; TLS-only Redis and
PostgreSQL servers in Kubernetes pods.

S3 buckets are checked at stack level (``stack_rules.s3_bucket_tls``): TLS-only is a bucket
policy statement that denies ``aws:SecureTransport = false``. A PostgreSQL's ``pg_hba.conf`` lives
in a ConfigMap, so it too is judged at stack level (``datastore_hba``); how Redis and PostgreSQL
containers are recognized is in ``policy/facts/k8s_datastores.py``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from mlops_infra.policy.context import RuleContext, StackContext
from mlops_infra.policy.facts.k8s_datastores import (
    HbaSource,
    command_line,
    datastore,
    hba_gaps,
    hba_source,
    postgres_gaps,
    redis_gaps,
)
from mlops_infra.policy.facts.k8s_workloads import BUILTIN_POD_SPEC_PATHS, workloads
from mlops_infra.policy.facts.sagemaker_pipeline import INTER_CONTAINER, enabled, job_steps
from mlops_infra.policy.model import Finding, ResourceView, StackView
from mlops_infra.policy.rules.common import SAGEMAKER_JOB_DEFINITION, Handler, covered_types, dispatch, subject
from mlops_infra.policy.spec import PolicySpec
from mlops_infra.policy.stack_rules import s3_bucket_tls
from mlops_infra.policy.values import get, is_set, is_true, items, known

ID = "encryption-in-transit"
OLD_TLS = ("TLS_1_0", "TLS_1_1")


def _inter_container(flag: str, what: str) -> Handler:
    def check(view: ResourceView, ctx: RuleContext) -> Iterator[Finding]:
        if not is_true(get(view.props, flag), flag):
            yield Finding(
                f"{subject(view)}: traffic between the {what}'s instances is not encrypted. Set {flag}: true."
            )

    return check


def _tuning_job(view: ResourceView, ctx: RuleContext) -> Iterator[Finding]:
    bases = (["trainingJobDefinition"] if is_set(view.props.get("trainingJobDefinition")) else []) + [
        f"trainingJobDefinitions[{i}]"
        for i, _ in enumerate(items(view.props.get("trainingJobDefinitions"), "trainingJobDefinitions"))
    ]
    for base in bases:
        yield from _inter_container(f"{base}.enableInterContainerTrafficEncryption", "training job")(view, ctx)


def _monitoring_schedule(view: ResourceView, ctx: RuleContext) -> Iterator[Finding]:
    base = "monitoringScheduleConfig.monitoringJobDefinition"
    if is_set(get(view.props, base)):
        yield from _inter_container(f"{base}.networkConfig.enableInterContainerTrafficEncryption", "monitoring job")(
            view, ctx
        )


def pipeline_findings(props: Mapping[str, Any]) -> Iterator[str]:
    """The steps of ``props["pipelineDefinition"]`` whose instances talk unencrypted (one message each).

    The SageMaker pipeline rule and ``mlops_infra.aws.TrainingPipeline`` (for a supplied definition)
    both call this.
    """
    for step in job_steps(props):
        path = INTER_CONTAINER.get(step.type)
        if path is not None and not enabled(step.value(path)):
            yield (
                f"step {step.name!r} ({step.type}) sends unencrypted traffic between its "
                f"instances. Set Arguments.{path}: true in pipelineDefinition "
                "(encrypt_inter_container_traffic in the SageMaker SDK)."
            )


def _pipeline(view: ResourceView, ctx: RuleContext) -> Iterator[Finding]:
    for message in pipeline_findings(view.props):
        yield Finding(f"{subject(view)}: {message}")


def _listener(view: ResourceView, ctx: RuleContext) -> Iterator[Finding]:
    if known(view.props.get("protocol"), "protocol") != "HTTP":
        return
    actions = [a for a in items(view.props.get("defaultActions"), "defaultActions") if isinstance(a, Mapping)]
    redirects = all(a.get("type") == "redirect" and get(a, "redirect.protocol") == "HTTPS" for a in actions) and actions
    if not redirects:
        yield Finding(
            f"{subject(view)}: serves plain HTTP. Use protocol HTTPS with certificateArn, or make every "
            "defaultActions entry a redirect to HTTPS."
        )


def _ssl_policy(view: ResourceView, ctx: RuleContext) -> Iterator[Finding]:
    version = known(view.props.get("minTlsVersion"), "minTlsVersion") or "TLS_1_0"
    if version in OLD_TLS:
        yield Finding(f"{subject(view)}: minTlsVersion is {version}. Set minTlsVersion: TLS_1_2.")


def _ingress(view: ResourceView, ctx: RuleContext) -> Iterator[Finding]:
    if not is_set(get(view.props, "spec.tls")):
        yield Finding(
            f"{subject(view)}: serves plain HTTP. Set spec.tls with hosts and a secretName (cert-manager can issue it)."
        )


DATASTORE_GAPS = {"redis": redis_gaps, "postgres": postgres_gaps}
DATASTORE_NAMES = {"redis": "Redis", "postgres": "PostgreSQL"}
CONFIG_MAP = "kubernetes:core/v1:ConfigMap"
KUBERNETES_OBJECT = re.compile(r"^kubernetes:")


def _datastores(view: ResourceView, ctx: RuleContext) -> Iterator[Finding]:
    """A Redis or PostgreSQL server in any pod spec of the object serves TLS only (its command line shows it)."""
    for _, containers in workloads(view.type, view.props):
        for container in containers:
            with ctx.unknowns():
                kind = datastore(container)
                if kind is None:
                    continue
                for gap in DATASTORE_GAPS[kind](command_line(container)):
                    yield Finding(f"{subject(view)} {container.path} ({DATASTORE_NAMES[kind]}): {gap}.")


def _hba_text(config_maps: list[ResourceView], source: HbaSource) -> str | None:
    """The pg_hba.conf text a container mounts, when its ConfigMap is part of the stack and known."""
    for config_map in config_maps:
        if get(config_map.props, "metadata.name") == source.config_map:
            data = get(config_map.props, "data")  # keys like pg_hba.conf hold dots: no path lookup below
            text = known(data.get(source.key), f"data[{source.key}]") if isinstance(data, Mapping) else None
            return text if isinstance(text, str) else None
    return None


def datastore_hba(stack: StackView, ctx: StackContext) -> Iterator[Finding]:
    """A PostgreSQL's pg_hba.conf (a ConfigMap of the stack named by ``-c hba_file``) has no non-TLS host lines."""
    config_maps = stack.by_type(CONFIG_MAP)
    for resource in stack.resources:
        for _, containers in workloads(resource.type, resource.props):
            for container in containers:
                with ctx.unknowns(resource.urn):
                    source = hba_source(container) if datastore(container) == "postgres" else None
                    text = _hba_text(config_maps, source) if source else None
                    for line in hba_gaps(text or ""):
                        yield Finding(
                            f"{subject(resource)} {container.path} (PostgreSQL): pg_hba.conf of ConfigMap "
                            f"{source.config_map if source else ''!r} accepts connections without TLS: {line!r}. "
                            "Use hostssl (or reject) for every network line.",
                            urn=resource.urn,
                            resource_type=resource.type,
                        )


def _stack(stack: StackView, ctx: StackContext) -> Iterator[Finding]:
    yield from s3_bucket_tls(stack, ctx)
    yield from datastore_hba(stack, ctx)


HANDLERS: dict[str, Handler] = {
    "aws:sagemaker/dataQualityJobDefinition:DataQualityJobDefinition": _inter_container(
        "networkConfig.enableInterContainerTrafficEncryption", "monitoring job"
    ),
    "aws:sagemaker/monitoringSchedule:MonitoringSchedule": _monitoring_schedule,
    "aws:sagemaker/trainingJob:TrainingJob": _inter_container("enableInterContainerTrafficEncryption", "training job"),
    "aws:sagemaker/hyperParameterTuningJob:HyperParameterTuningJob": _tuning_job,
    "aws:sagemaker/pipeline:Pipeline": _pipeline,
    "aws:lb/listener:Listener": _listener,
    "aws:alb/listener:Listener": _listener,
    "gcp:compute/sSLPolicy:SSLPolicy": _ssl_policy,
    "kubernetes:networking.k8s.io/v1:Ingress": _ingress,
}

SPEC = PolicySpec(
    id=ID,
    title="TLS-only access and encrypted inter-container traffic",
    description=(
        "S3 buckets deny requests without TLS (bucket policy on aws:SecureTransport); SageMaker training, tuning, "
        "processing and monitoring jobs (raw and in pipeline definitions) encrypt traffic between instances; load "
        "balancer listeners and Kubernetes Ingresses serve HTTPS; GCP SSL policies require TLS 1.2; Redis and "
        "PostgreSQL servers in Kubernetes pods serve TLS only (Redis: --tls-port and --port 0; PostgreSQL: ssl=on "
        "and a pg_hba.conf with hostssl network lines only)."
    ),
    remediation=(
        "Use SecureBucket and the pipeline components (they set these), or set the named property. Kubernetes: "
        "use FeatureStore / ModelRegistry (tls is on by default: cert-manager certificates, TLS-only servers)."
    ),
    resource_types={
        **covered_types(HANDLERS),
        "aws": (
            *covered_types(HANDLERS)["aws"],
            "aws:s3/bucket:Bucket",
            "aws:s3/bucketPolicy:BucketPolicy",
            "aws:sagemaker/*JobDefinition",
        ),
        "kubernetes": (
            *covered_types(HANDLERS)["kubernetes"],
            *BUILTIN_POD_SPEC_PATHS,
            "kubernetes:core/v1:ConfigMap",
            "any custom resource embedding pod specs (Argo workflows, KServe InferenceService, ...)",
        ),
    },
    checkov_ids=("CKV_AWS_369",),
    resource_check=dispatch(
        HANDLERS,
        [
            (
                SAGEMAKER_JOB_DEFINITION,
                _inter_container("networkConfig.enableInterContainerTrafficEncryption", "monitoring job"),
            ),
            (KUBERNETES_OBJECT, _datastores),
        ],
    ),
    stack_check=_stack,
)
