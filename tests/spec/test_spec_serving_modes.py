"""Serving modes and orchestrators: their vocabulary, and the table that refuses an unrealized one by name."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from mlops_infra.spec import BatchInferenceSpec, Challenger, EndpointSpec, PlatformSpec
from mlops_infra.spec.cloud import Cloud
from mlops_infra.spec.load import deep_merge
from mlops_infra.spec.support import REALIZED_BY, refuse_unrealized

SPEC_FILE = Path(__file__).resolve().parents[2] / "stacks" / "platform" / "platform.yaml"
MODEL = {"artifact": "churn/v7/model.tar.gz"}


def endpoint(**fields: Any) -> EndpointSpec:
    return EndpointSpec.model_validate({"name": "churn", "model": MODEL, **fields})


def test_endpoints_are_realtime_single_model_without_challenger_by_default():
    spec = endpoint()
    assert spec.invocation.is_async is False
    assert spec.challenger is None
    assert spec.multi_model is False


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"invocation": {"backlog_per_replica": 3}}, "['backlog_per_replica'] apply to kind: async only"),
        ({"invocation": {"kind": "async", "backlog_per_replica": 0}}, "greater than 0"),
        ({"invocation": {"kind": "queue"}}, "'realtime' or 'async'"),
        ({"challenger": {"model": MODEL, "percent": 100}}, "below 100"),
        ({"challenger": {"model": MODEL, "mode": "mirror"}}, "'ab' or 'shadow'"),
        ({"multi_model": True}, "prefix ending in '/'"),
        ({"multi_model": "yes"}, "valid boolean"),
        (
            {"multi_model": True, "model": {"artifact": "churn/"}, "challenger": {"model": MODEL}},
            "multi_model and challenger do not combine",
        ),
        (
            {"invocation": {"kind": "async"}, "challenger": {"model": MODEL, "mode": "shadow"}},
            "async and a challenger do not combine",
        ),
    ],
)
def test_bad_serving_modes_are_refused_with_the_reason(fields, message):
    with pytest.raises(ValidationError) as info:
        endpoint(**fields)
    assert message in str(info.value)


def test_a_shadow_may_mirror_every_request():
    challenger = Challenger.model_validate({"model": MODEL, "mode": "shadow", "percent": 100})
    assert challenger.percent == 100


def test_batch_jobs_need_a_schedule_a_transform_type_and_unique_names():
    job = {"name": "nightly", "model": MODEL, "input": "scoring/daily/", "schedule": {"cron": "0 2 * * *"}}
    assert BatchInferenceSpec.model_validate(job).compute.offered_for("transform")
    with pytest.raises(ValidationError, match="schedule"):
        BatchInferenceSpec.model_validate({k: v for k, v in job.items() if k != "schedule"})
    with pytest.raises(ValidationError, match="transform"):
        BatchInferenceSpec.model_validate({**job, "compute": {"instance_type": "ml.t3.medium"}})
    with pytest.raises(ValidationError, match="neither an object URI"):
        BatchInferenceSpec.model_validate({**job, "input": "../etc"})
    document = yaml.safe_load(SPEC_FILE.read_text(encoding="utf-8"))
    with pytest.raises(ValidationError, match=r"batch job names repeat: \['nightly'\]"):
        PlatformSpec.model_validate(deep_merge(document, {"clouds": ["aws"], "batch": [job, job]}))


def _platform(
    endpoint_fields: dict[str, Any] | None = None,
    batch: list[dict[str, Any]] | None = None,
    training: dict[str, Any] | None = None,
    feature_store: dict[str, Any] | None = None,
) -> PlatformSpec:
    document = yaml.safe_load(SPEC_FILE.read_text(encoding="utf-8"))
    document["clouds"] = ["aws"]
    if training:
        document["training"].update(training)
    if feature_store:
        document["feature_store"].update(feature_store)
    if endpoint_fields:
        document["endpoints"][0].update(endpoint_fields)
    if batch:
        document["batch"] = batch
    return PlatformSpec.model_validate(document)


USES = {
    "async invocation": ({"invocation": {"kind": "async"}}, None, "endpoints.0.invocation.kind"),
    "A/B challenger": ({"challenger": {"model": MODEL}}, None, "endpoints.0.challenger.mode"),
    "shadow challenger": ({"challenger": {"model": MODEL, "mode": "shadow"}}, None, "endpoints.0.challenger.mode"),
    "multi-model endpoint": ({"multi_model": True, "model": {"artifact": "churn/"}}, None, "endpoints.0.multi_model"),
    "scheduled batch inference": (
        None,
        [{"name": "nightly", "model": MODEL, "input": "scoring/", "schedule": {"cron": "0 2 * * *"}}],
        "batch.0",
    ),
    "Kubeflow Pipelines orchestrator": (None, None, "training.orchestrator", {"orchestrator": "kubeflow"}),
    "Airflow orchestrator": (None, None, "training.orchestrator", {"orchestrator": "airflow"}),
    "feature materialization schedule": (
        None,
        None,
        "feature_store.materialization",
        None,
        {"materialization": {"cron": "0 * * * *"}},
    ),
}


def test_every_mode_in_the_table_has_a_case_here():
    assert set(USES) == set(REALIZED_BY)


@pytest.mark.parametrize("cloud", list(Cloud))
@pytest.mark.parametrize("mode", sorted(USES))
def test_a_cloud_refuses_by_field_each_mode_it_does_not_realize(mode, cloud):
    endpoint_fields, batch, path, *extra = USES[mode]
    spec = _platform(endpoint_fields, batch, *extra)
    if cloud in REALIZED_BY[mode]:
        refuse_unrealized(spec, cloud)
        return
    with pytest.raises(ValidationError) as info:
        refuse_unrealized(spec, cloud)
    message = str(info.value)
    assert path in message and f"{mode} is not supported on {cloud.value}" in message, message


def test_the_shipped_platform_uses_no_unrealized_mode():
    spec = _platform()
    for cloud in Cloud:
        refuse_unrealized(spec, cloud)


@pytest.mark.parametrize("cloud", ["aws", "k8s"])
def test_the_platform_refuses_an_unrealized_mode_before_registering_anything(cloud):
    from mlops_infra.engine import ProgramError
    from mlops_infra.platform import MlPlatform
    from mlops_infra.testing import plan

    mode = next((m for m, clouds in REALIZED_BY.items() if Cloud(cloud) not in clouds), None)
    if mode is None:
        pytest.skip(f"{cloud} realizes every serving mode")
    endpoint_fields, batch, path, *extra = USES[mode]
    training, feature_store = [*extra, None, None][:2]
    document = yaml.safe_load(SPEC_FILE.read_text(encoding="utf-8"))
    document["clouds"] = [cloud]
    if cloud == "k8s":
        document["k8s"] = {"model_store_uri": "s3://churn-models", "team": "churn-ml"}
    if endpoint_fields:
        document["endpoints"][0].update(endpoint_fields)
    if batch:
        document["batch"] = batch
    if training:
        document["training"].update(training)
    if feature_store:
        document["feature_store"].update(feature_store)
    with pytest.raises(ProgramError) as info:
        plan(lambda: MlPlatform("churn", document), environment="dev")
    assert path in str(info.value) and "is not supported on" in str(info.value)
    assert info.value.registered == []


@pytest.mark.parametrize(
    ("cloud", "reason"),
    [
        (Cloud.AWS, "SageMaker Pipelines is the native orchestrator on AWS"),
        (Cloud.GCP, "the native orchestrator already is Kubeflow Pipelines"),
    ],
)
def test_kubeflow_is_realized_on_kubernetes_and_refused_elsewhere_with_the_reason(cloud, reason):
    assert REALIZED_BY["Kubeflow Pipelines orchestrator"] == {Cloud.K8S}
    spec = _platform(None, None, {"orchestrator": "kubeflow"})
    refuse_unrealized(spec, Cloud.K8S)
    with pytest.raises(ValidationError) as info:
        refuse_unrealized(spec, cloud)
    message = str(info.value)
    assert "training.orchestrator" in message and reason in message and "realized on: k8s" in message
    if cloud is Cloud.GCP:
        assert "Vertex AI Pipelines" in message and "training.orchestrator native" in message
