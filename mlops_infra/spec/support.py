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
    "async invocation": frozenset(),
    "A/B challenger": frozenset({Cloud.GCP}),
    "shadow challenger": frozenset(),
    "multi-model endpoint": frozenset(),
    "scheduled batch inference": frozenset({Cloud.GCP}),
    "Kubeflow Pipelines orchestrator": frozenset(),
    "Airflow orchestrator": frozenset(),
}

# Why a cloud cannot realize a mode at all (shown in the error), where that is a fact of the cloud.
WHY_NOT: dict[tuple[str, Cloud], str] = {
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
