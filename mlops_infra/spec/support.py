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
    "A/B challenger": frozenset(),
    "shadow challenger": frozenset(),
    "multi-model endpoint": frozenset(),
    "scheduled batch inference": frozenset(),
    "Kubeflow Pipelines orchestrator": frozenset(),
    "Airflow orchestrator": frozenset(),
    "feature materialization schedule": frozenset({Cloud.GCP, Cloud.K8S}),
}

# Why a cloud cannot realize a mode at all (shown in the error), where that is a fact of the cloud.
WHY_NOT: dict[tuple[str, Cloud], str] = {
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
