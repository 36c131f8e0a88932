"""The hardened pod/container builder, pinned images and quantities."""

import pydantic
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from k8s_checks import hardening_problems

from mlops_infra.k8s.quantity import parse_quantity
from mlops_infra.k8s.workload import ComputeResources, Container, Mount, SecretEnv, pod_spec
from mlops_infra.spec.types import check_pinned_image as pinned_image
from mlops_infra.spec.types import image_tag

DIGEST = "sha256:" + "a" * 64


@pytest.mark.parametrize(
    "image",
    [
        "redis:7.2.5",
        "ghcr.io/mlflow/mlflow:v2.16.2",
        "localhost:5000/team/train:1.0",
        f"busybox@{DIGEST}",
        f"quay.io/x/y:1.2@{DIGEST}",
    ],
)
def test_pinned_images_pass(image):
    assert pinned_image(image) == image


@pytest.mark.parametrize(
    "image",
    [
        "redis",
        "redis:latest",
        "redis:LATEST",
        "localhost:5000/team/train",
        "",
        "UP/per:1",
    ],
)
def test_unpinned_images_fail(image):
    with pytest.raises(ValueError, match=r"pin|not a container image"):
        pinned_image(image)


def test_registry_port_is_not_a_tag():
    assert image_tag("localhost:5000/team/train") is None
    assert image_tag("localhost:5000/team/train:2.1") == "2.1"


@settings(max_examples=25, deadline=None)
@given(st.from_regex(r"[a-z][a-z0-9]{0,10}(/[a-z0-9]{1,8}){0,2}", fullmatch=True))
def test_latest_or_missing_tag_always_fails(repository):
    for image in (repository, f"{repository}:latest"):
        with pytest.raises(ValueError):
            pinned_image(image)
    assert pinned_image(f"{repository}:1.0.3") == f"{repository}:1.0.3"


def test_quantities():
    assert parse_quantity("250m") == parse_quantity("0.25")
    assert parse_quantity("1Gi") == 2**30
    assert parse_quantity("1G") == 10**9
    assert parse_quantity("1e3") == 1000
    with pytest.raises(ValueError):
        parse_quantity("1 GB")


def test_requests_may_not_exceed_limits():
    with pytest.raises(pydantic.ValidationError, match="cpu_request"):
        ComputeResources(cpu_request="2", cpu_limit="1")
    with pytest.raises(pydantic.ValidationError, match="memory_request"):
        ComputeResources(memory_request="2Gi", memory_limit="1Gi")
    with pytest.raises(pydantic.ValidationError) as info:
        ComputeResources(gpus=-1)
    assert info.value.errors()[0]["loc"] == ("gpus",)


def test_gpus_are_requested_and_limited():
    wire = ComputeResources(gpus=2).wire()
    assert wire["limits"]["nvidia.com/gpu"] == "2" and wire["requests"]["nvidia.com/gpu"] == "2"
    assert "nvidia.com/gpu" not in ComputeResources().wire()["limits"]


def test_container_and_pod_are_hardened():
    container = Container(
        name="app",
        image="ghcr.io/acme/app:1.0",
        resources=ComputeResources(gpus=1),
        env={"MODE": "serve"},
        secret_env=[SecretEnv("TOKEN", "app-secret", "token")],
        mounts=[Mount("config", {"configMap": {"name": "app"}}, "/etc/app")],
        writable_paths=["/tmp", "/var/cache/app"],
    )
    spec = pod_spec([container], service_account_name="app")
    assert hardening_problems(spec, spec["containers"], token_allowed=False) == []
    wire = spec["containers"][0]
    assert wire["env"] == [
        {"name": "MODE", "value": "serve"},
        {"name": "TOKEN", "valueFrom": {"secretKeyRef": {"name": "app-secret", "key": "token"}}},
    ]
    assert {m["mountPath"]: m["readOnly"] for m in wire["volumeMounts"]} == {
        "/etc/app": True,
        "/tmp": False,
        "/var/cache/app": False,
    }
    assert {v["name"] for v in spec["volumes"]} == {"config", "app-tmp", "app-var-cache-app"}
    assert all(v["emptyDir"]["sizeLimit"] == "1Gi" for v in spec["volumes"] if "emptyDir" in v)
    assert spec["tolerations"] == [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]
    assert spec["automountServiceAccountToken"] is False and spec["enableServiceLinks"] is False


def test_root_is_refused():
    with pytest.raises(ValueError, match="non-root"):
        Container(name="x", image="x:1", resources=ComputeResources(), run_as_user=0)
    with pytest.raises(ValueError, match="non-root"):
        pod_spec(
            [Container(name="x", image="x:1", resources=ComputeResources())], service_account_name="x", run_as_user=0
        )
    with pytest.raises(ValueError, match="pin"):
        Container(name="x", image="x:latest", resources=ComputeResources())
