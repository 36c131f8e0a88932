"""Which cloud realizes which serving mode or orchestrator: the one table every cloud's ``check`` consults.

Scale to zero is not here: each cloud's scaling check refuses ``min_replicas: 0`` where it cannot.

A spec field a cloud does not realize is refused by name before anything registers, never
dropped silently. A cloud's realization adds itself to a row when it builds that mode.
"""

from __future__ import annotations

from collections.abc import Iterator

from mlops_infra.spec.base import field_error
from mlops_infra.spec.challenger import ChallengerMode
from mlops_infra.spec.cloud import Cloud
from mlops_infra.spec.platform import PlatformSpec
from mlops_infra.spec.training import Orchestrator

# mode -> the clouds whose realization builds it.
REALIZED_BY: dict[str, frozenset[Cloud]] = {
    "async invocation": frozenset({Cloud.AWS}),
    "A/B challenger": frozenset({Cloud.AWS, Cloud.GCP, Cloud.K8S}),
    "shadow challenger": frozenset({Cloud.AWS, Cloud.K8S}),
    "multi-model endpoint": frozenset({Cloud.AWS}),
    "scheduled batch inference": frozenset({Cloud.AWS, Cloud.GCP, Cloud.K8S}),
    "Kubeflow Pipelines orchestrator": frozenset({Cloud.K8S}),
    "Airflow orchestrator": frozenset({Cloud.AWS, Cloud.GCP}),
    "feature materialization schedule": frozenset({Cloud.GCP, Cloud.K8S}),
}
# The clouds whose realization builds the off-hours schedule (it depends on the environment, so it has its own check).
OFF_HOURS_REALIZED_BY: frozenset[Cloud] = frozenset({Cloud.AWS, Cloud.GCP, Cloud.K8S})

# Why a cloud cannot realize a mode at all (shown in the error), where that is a fact of the cloud.
WHY_NOT: dict[tuple[str, Cloud], str] = {
    (
        "async invocation",
        Cloud.K8S,
    ): "KServe answers requests synchronously; a queued invocation with stored results needs a queue "
    "(Knative Eventing or Kafka), a result writer and KEDA scaling on the backlog, which this platform does not "
    "install (docs/platform.md#serving-modes-on-kubernetes): serve it realtime, or score large payloads with "
    "a scheduled batch (spec.batch)",
    (
        "multi-model endpoint",
        Cloud.K8S,
    ): "KServe's multi-model serving is ModelMesh Serving (a separate controller with its own runtimes and "
    "etcd, in maintenance mode) or the alpha TrainedModel resource, and this platform realizes neither: declare "
    "one endpoint per model (Knative endpoints scale to zero when idle)",
    ("async invocation", Cloud.GCP): (
        "Vertex AI has no asynchronous (queued) endpoints; for large payloads or long requests declare a `batch` "
        "entry (Vertex batch prediction reads the inputs from Cloud Storage and writes the results there)"
    ),
    ("shadow challenger", Cloud.GCP): (
        "a Vertex AI endpoint's traffic split sends each request to exactly one deployed model and returns its "
        "answer, and nothing on Vertex copies live requests (the request-response log is a sampled record written "
        "after the fact, not a copy that is served); use challenger.mode ab with a small percent, or score logged "
        "requests with a `batch` entry"
    ),
    ("multi-model endpoint", Cloud.GCP): (
        "a Vertex AI deployed model loads exactly one model; declare one endpoint per model, or co-host several "
        "deployed models on shared machines with Vertex deployment resource pools (not realized by mlops-infra)"
    ),
    ("Kubeflow Pipelines orchestrator", Cloud.AWS): (
        "SageMaker Pipelines is the native orchestrator on AWS, and Kubeflow Pipelines needs a Kubernetes cluster "
        "running KFP, which the AWS realization does not create: use training.orchestrator native, or realize the "
        "platform with clouds: [k8s] on an EKS cluster with KFP >= 2.5 in Kubernetes-native API mode"
    ),
    ("Kubeflow Pipelines orchestrator", Cloud.GCP): (
        "on GCP the native orchestrator already is Kubeflow Pipelines: the gated training pipeline is compiled by the "
        "kfp SDK to KFP v2 IR and runs on Vertex AI Pipelines, Google's managed KFP-compatible service; kubeflow "
        "would mean a self-managed KFP installation on GKE, which the GCP realization does not create: use "
        "training.orchestrator native (the same IR on Vertex), or clouds: [k8s] on a GKE cluster running KFP"
    ),
    ("Airflow orchestrator", Cloud.K8S): (
        "the platform installs no Airflow on the cluster (a scheduler, web server, metadata database and "
        "workers to run, secure and upgrade); on Kubernetes orchestrate with training.orchestrator native "
        "(a CronJob, Argo Workflows with k8s.argo_enabled, or Kubeflow Pipelines with training.orchestrator kubeflow)"
    ),
    ("feature materialization schedule", Cloud.AWS): (
        "SageMaker Feature Store writes the online and the offline store at ingestion, so there is nothing to "
        "materialize on a schedule (remove feature_store.materialization for AWS)"
    ),
}


def _uses(spec: PlatformSpec) -> Iterator[tuple[str, tuple[str | int, ...]]]:
    """Each serving mode the spec asks for, with the path of the field that asks."""
    for index, endpoint in enumerate(spec.endpoints):
        path: tuple[str | int, ...] = ("endpoints", index)
        if endpoint.invocation.is_async:
            yield "async invocation", (*path, "invocation", "kind")
        if endpoint.challenger is not None:
            mode = "A/B challenger" if endpoint.challenger.mode is ChallengerMode.AB else "shadow challenger"
            yield mode, (*path, "challenger", "mode")
        if endpoint.multi_model:
            yield "multi-model endpoint", (*path, "multi_model")
    if spec.training is not None and spec.training.orchestrator is Orchestrator.KUBEFLOW:
        yield "Kubeflow Pipelines orchestrator", ("training", "orchestrator")
    if spec.training is not None and spec.training.orchestrator is Orchestrator.AIRFLOW:
        yield "Airflow orchestrator", ("training", "orchestrator")
    for index, _ in enumerate(spec.batch):
        yield "scheduled batch inference", ("batch", index)
    if spec.feature_store is not None and spec.feature_store.materialization is not None:
        yield "feature materialization schedule", ("feature_store", "materialization")


def refuse_unrealized_off_hours(spec: PlatformSpec, cloud: Cloud, environment: str) -> None:
    """Raise a field error naming ``off_hours`` when it applies to ``environment``'s endpoints and ``cloud`` cannot."""
    mode = "off-hours schedule"
    if spec.off_hours is None or not spec.endpoints or not spec.off_hours.applies_to(environment):
        return
    if cloud not in OFF_HOURS_REALIZED_BY:
        realized = ", ".join(sorted(c.value for c in OFF_HOURS_REALIZED_BY))
        raise field_error(
            PlatformSpec,
            ("off_hours",),
            f"an {mode} in {environment!r} is not supported on {cloud.value}: mlops-infra does not realize it on "
            f"{cloud.value} yet (realized on: {realized}); list other environments in off_hours.environments",
        )


def refuse_unrealized(spec: PlatformSpec, cloud: Cloud) -> None:
    """Raise a field error naming the first serving mode ``cloud`` does not realize."""
    for mode, path in _uses(spec):
        if cloud not in REALIZED_BY[mode]:
            reason = WHY_NOT.get((mode, cloud), f"mlops-infra does not realize it on {cloud.value} yet")
            realized = ", ".join(sorted(c.value for c in REALIZED_BY[mode])) or "no cloud yet"
            raise field_error(
                PlatformSpec,
                path,
                f"{mode} is not supported on {cloud.value}: {reason} (realized on: {realized})",
            )
