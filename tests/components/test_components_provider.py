"""The plugin as Pulumi runs it: components/__main__.py serves the provider protocol on 127.0.0.1."""

import json
import os
import subprocess
import sys
from pathlib import Path

import grpc
import pytest
from fake_engine import FakeEngine, serve
from google.protobuf import any_pb2, json_format, struct_pb2
from google.protobuf.internal import decoder
from pulumi.runtime.proto import errors_pb2, provider_pb2, provider_pb2_grpc

COMPONENTS_DIR = Path(__file__).resolve().parents[2] / "components"
PROJECT, STACK = "churn", "prod"


@pytest.fixture(scope="module")
def engine():
    fake = FakeEngine(PROJECT, STACK)
    server, address = serve(fake)
    yield fake, address
    server.stop(grace=None)


@pytest.fixture(scope="module")
def provider(engine):
    """The plugin process, as `pulumi package add` starts it: its directory, the engine address; it prints its port."""
    _, address = engine
    process = subprocess.Popen(
        [sys.executable, str(COMPONENTS_DIR / "__main__.py"), address],
        cwd=COMPONENTS_DIR,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        line = process.stdout.readline().decode().strip()
        if not line.isdigit():
            process.kill()
            pytest.fail(f"the plugin printed {line!r}, not a port: {process.stderr.read().decode()[-3000:]}")
        channel = grpc.insecure_channel(f"127.0.0.1:{line}")
        yield provider_pb2_grpc.ResourceProviderStub(channel)
        channel.close()
    finally:
        process.terminate()
        process.wait(timeout=30)


def _status_details(blob: bytes) -> list[any_pb2.Any]:
    """The `details` (field 3) of a serialized google.rpc.Status.

    Decoded by hand: both google.rpc's and pulumi's status_pb2 register `google.rpc.Status` in the
    default descriptor pool under different file names, so importing either one here breaks every
    later import of the other in the same pytest process (kfp imports google.rpc's)."""
    details, position = [], 0
    while position < len(blob):
        tag, position = decoder._DecodeVarint(blob, position)
        field, wire_type = tag >> 3, tag & 7
        if wire_type == 0:
            _, position = decoder._DecodeVarint(blob, position)
        elif wire_type == 2:
            length, position = decoder._DecodeVarint(blob, position)
            if field == 3:
                details.append(any_pb2.Any.FromString(blob[position : position + length]))
            position += length
        else:
            raise AssertionError(f"unexpected wire type {wire_type} in a google.rpc.Status")
    return details


def _construct(stub, address, name, type_, inputs):
    request = provider_pb2.ConstructRequest(
        project=PROJECT,
        stack=STACK,
        config={f"{PROJECT}:owner": "ml-platform", f"{PROJECT}:costCenter": "cc-1234", f"{PROJECT}:environment": STACK},
        dryRun=True,
        name=name,
        type=type_,
        parent=f"urn:pulumi:{STACK}::{PROJECT}::pulumi:pulumi:Stack::{PROJECT}-{STACK}",
        inputs=json_format.ParseDict(inputs, struct_pb2.Struct()),
        monitorEndpoint=address,
    )
    return stub.Construct(request, timeout=120)


def test_get_schema_serves_the_committed_schema(provider):
    response = provider.GetSchema(provider_pb2.GetSchemaRequest(version=0), timeout=60)
    assert json.loads(response.schema) == json.loads((COMPONENTS_DIR / "schema.json").read_text())


TENANCY = {
    "team": "churn-ml",
    "quota": {"gpus": 2, "requestsCpu": "24", "limitsCpu": "48"},
    "groups": {"dataScientists": ["churn-ml-data-scientists"], "viewers": ["churn-ml-viewers"]},
    "serviceAccounts": ["notebooks"],
}


def test_construct_builds_the_real_component_under_the_wrapper(provider, engine):
    fake, address = engine
    response = _construct(provider, address, "team", "mlops-infra:index:K8sTenancy", TENANCY)

    assert response.urn == f"urn:pulumi:{STACK}::{PROJECT}::mlops-infra:index:K8sTenancy::team"
    by_urn = {r.urn: r for r in fake.registrations}
    [real] = [r for r in fake.registrations if r.type == "mlops-infra:k8s:Tenancy"]
    assert real.parent == response.urn and real.name == "team"
    # The conventions transform the component registers runs through the plugin's callback server:
    # the real component gets the stack's environment (from the config sent with Construct).
    assert fake.transforms, "the component registered no stack transform"
    assert real.inputs["environment"] == "prod" and real.inputs["protected"] is True
    under = [r for r in fake.registrations if r.custom and r.parent == real.urn]
    assert {r.type for r in under} >= {
        "kubernetes:core/v1:Namespace",
        "kubernetes:core/v1:ResourceQuota",
        "kubernetes:networking.k8s.io/v1:NetworkPolicy",
        "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding",
    }
    [namespace] = [r for r in under if r.type == "kubernetes:core/v1:Namespace"]
    assert namespace.inputs["metadata"]["labels"]["environment"] == "prod"
    # camelCase wire names reached the model's fields: the quota and the personas' groups.
    [quota] = [r for r in under if r.type == "kubernetes:core/v1:ResourceQuota"]
    assert quota.inputs["spec"]["hard"]["requests.nvidia.com/gpu"] == "2"
    assert quota.inputs["spec"]["hard"]["requests.cpu"] == "24"
    subjects = {
        s["name"]
        for r in under
        if r.type == "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding"
        for s in r.inputs.get("subjects", [])
    }
    assert {"churn-ml-data-scientists", "churn-ml-viewers"} <= subjects
    # The wrapper's outputs are the real component's, and it registered them.
    state = json_format.MessageToDict(response.state)
    assert set(state) == {"namespace", "roles"}
    assert response.urn in fake.outputs and by_urn[response.urn].type == "mlops-infra:index:K8sTenancy"


def test_construct_reports_a_bad_value_by_field_and_registers_nothing(provider, engine):
    fake, address = engine
    before = len(fake.registrations)
    with pytest.raises(grpc.RpcError) as caught:
        _construct(provider, address, "bad", "mlops-infra:index:K8sTenancy", {**TENANCY, "quota": {"gpus": -1}})
    assert "quota.gpus" in caught.value.details()
    assert "greater than or equal to 0" in caught.value.details()
    assert len(fake.registrations) == before


def test_construct_rejects_a_missing_required_input_by_name(provider, engine):
    _, address = engine
    with pytest.raises(grpc.RpcError) as caught:
        _construct(provider, address, "anon", "mlops-infra:index:K8sTenancy", {"quota": {"gpus": 1}})
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    # The property and the reason travel as an InputPropertiesError in the status details.
    [details] = [v for k, v in caught.value.trailing_metadata() if k == "grpc-status-details-bin"]
    error = errors_pb2.InputPropertiesError()
    assert _status_details(details)[0].Unpack(error)
    assert [(e.property_path, e.reason) for e in error.errors] == [
        ("team", "Missing required input 'team' on 'K8sTenancy'")
    ]


def test_the_plugin_process_serves_the_provider_and_loads_kfp():
    """pulumi.provider and kfp (GCP pipelines) in the plugin's one process: both register google.rpc.Status."""
    script = (
        "import mlops_infra_components, pulumi.provider.experimental.server as server, kfp.dsl;"
        "from google.rpc import status_pb2;"
        "status = server.status_pb2.Status(code=3, message='bad');"
        "assert status_pb2.Status.FromString(status.SerializeToString()).message == 'bad'"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], check=False, cwd=COMPONENTS_DIR, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr[-2000:]
