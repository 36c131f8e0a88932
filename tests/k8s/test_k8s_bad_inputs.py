"""Bad input classes: every security switch is a strict boolean; inputs from other resources are accepted.

A switch that turns protection off (public access, no data capture) must be ``True``/``False``:
``'yes'``, ``'true'``, ``1`` are refused, naming the field, before anything is registered.
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_aws as aws
import pydantic
import pytest
from k8s_samples import endpoint_args, training_args

from mlops_infra.engine import ProgramError
from mlops_infra.k8s import Endpoint, EndpointArgs, MonitoringArgs, TrainingPipelineArgs
from mlops_infra.k8s.feast_repo import FeatureView
from mlops_infra.spec.k8s import K8sPlatformSpec
from mlops_infra.testing import one, plan

ISVC = "kubernetes:serving.kserve.io/v1beta1:InferenceService"
NOT_BOOLEANS = ["yes", "true", 1, 0, "on", None]

SWITCHES: list[tuple[type[pydantic.BaseModel], dict[str, Any], str]] = [
    (EndpointArgs, endpoint_args(), "allow_public_access"),
    (EndpointArgs, endpoint_args(), "allow_no_data_capture"),
    (TrainingPipelineArgs, training_args(), "argo_enabled"),
    (TrainingPipelineArgs, training_args(), "suspend"),
    (MonitoringArgs, {"namespace": "ns", "endpoint_name": "churn"}, "drift_enabled"),
    (
        FeatureView,
        {"name": "profile", "entities": ["customer"], "source": "profile/", "features": {"tenure": "Int64"}},
        "online",
    ),
    (K8sPlatformSpec, {}, "argo_enabled"),
]


@pytest.mark.parametrize("value", NOT_BOOLEANS, ids=repr)
@pytest.mark.parametrize(("model", "args", "field"), SWITCHES, ids=lambda v: getattr(v, "__name__", str(v)))
def test_switches_are_strict_booleans(model: type[pydantic.BaseModel], args: dict[str, Any], field: str, value: Any):
    with pytest.raises(pydantic.ValidationError) as info:
        model.model_validate({**args, field: value})
    assert info.value.errors()[0]["loc"] == (field,)
    assert model.model_validate({**args, field: True}).model_dump()[field] is True


def test_a_string_switch_registers_nothing():
    with pytest.raises(ProgramError, match="allow_public_access") as error:
        plan(lambda: Endpoint("churn", endpoint_args(allow_public_access="yes")), environment="prod")
    assert error.value.registered == []


def test_an_aws_bucket_output_is_a_storage_uri():
    def program() -> None:
        bucket = aws.s3.BucketV2("models", bucket="acme-churn-models")
        uri = bucket.bucket.apply(lambda name: f"s3://{name}/churn/v7")
        assert isinstance(uri, pulumi.Output)
        Endpoint("churn", endpoint_args(storage_uri=uri))

    stack = plan(program, environment="prod")
    assert one(stack, ISVC).inputs["spec"]["predictor"]["model"]["storageUri"] == "s3://acme-churn-models/churn/v7"


def test_a_logger_url_output_opens_egress_to_its_namespace():
    def program() -> None:
        url = pulumi.Output.from_input("capture").apply(
            lambda name: f"http://broker-ingress.knative-eventing.svc.cluster.local/churn-ns/{name}"
        )
        Endpoint("churn", endpoint_args(logger={"url": url, "egress_namespace": "knative-eventing"}))

    stack = plan(program, environment="prod")
    logger = one(stack, ISVC).inputs["spec"]["predictor"]["logger"]
    assert logger["url"] == "http://broker-ingress.knative-eventing.svc.cluster.local/churn-ns/capture"
    (egress,) = [p for p in stack.custom_resources() if p.name == "churn-allow-logger"]
    rule = egress.inputs["spec"]["egress"][0]
    assert rule["to"] == [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "knative-eventing"}}}]
    assert [p["port"] for p in rule["ports"]] == [80, 443]


@pytest.mark.parametrize(
    "uri", ["ftp://models/churn", "s3://Bad_Bucket/m", "s3://key:secret@bucket/m", "https://user:pw@host/m"]
)
def test_known_storage_uris_are_still_checked(uri: str):
    with pytest.raises(pydantic.ValidationError) as info:
        EndpointArgs.model_validate(endpoint_args(storage_uri=uri))
    assert info.value.errors()[0]["loc"] == ("storage_uri",)
