"""The package schema: derived offline by Pulumi's analyzer, committed, and faithful to the pydantic models."""

import json
import typing
from pathlib import Path

import pytest
from pulumi.provider.experimental.analyzer import Analyzer
from pulumi.provider.experimental.util import camel_case
from pydantic import BaseModel, Field

import mlops_infra.aws
import mlops_infra.gcp
import mlops_infra.k8s
from mlops_infra.component import PlatformComponent
from mlops_infra.platform import TYPE_TOKEN as PLATFORM_TOKEN
from mlops_infra.spec import PlatformSpec

COMPONENTS_DIR = Path(__file__).resolve().parents[2] / "components"


def _public_components() -> dict[str, type[PlatformComponent]]:
    found = {}
    for prefix, module in (("Aws", mlops_infra.aws), ("Gcp", mlops_infra.gcp), ("K8s", mlops_infra.k8s)):
        for attribute in module.__all__:
            cls = getattr(module, attribute)
            if isinstance(cls, type) and issubclass(cls, PlatformComponent):
                found[f"{prefix}{attribute}"] = cls
    return found


@pytest.fixture(scope="module")
def schema():
    from mlops_infra_components.schema import package_schema

    return package_schema()


def test_generated_files_are_current(generator):
    for path, text in generator.render().items():
        assert path.read_text() == text, f"{path.name} is stale: run scripts/generate_components.py"


def test_committed_schema_is_what_the_analyzer_derives(schema):
    committed = json.loads((COMPONENTS_DIR / "schema.json").read_text())
    assert committed == json.loads(json.dumps(schema)), "components/schema.json is stale: run the generator"


def test_every_public_component_and_mlplatform_is_in_the_package(schema):
    expected = {f"mlops-infra:index:{name}" for name in _public_components()} | {PLATFORM_TOKEN}
    # + K8sEncryptedStorageClass, GcpBatchPrediction, K8sTrafficRouter, K8sBatchInference, K8sKubeflowTrainingPipeline,
    # K8sClusterPrerequisites, K8sSeldonEndpoint, AwsBatchTransform, and the governance and operations components:
    # Aws{AlertRouting,AuditTrail,CostAnomalyAlerts,ModelMonitor,OperationsDashboard,PersonaRoles,SlackChatbot,
    # TrackingServer}, Gcp{AlertChannels,AuditLogs,BudgetAlerts,DeployOnApproval,ExperimentTracking,OffHours},
    # K8s{DeployWebhookPoller,OffHours,SpendBudget}
    assert len(expected) == 53
    assert set(schema["resources"]) == expected
    assert schema["name"] == "mlops-infra"
    for token, resource in schema["resources"].items():
        assert resource["isComponent"] is True, token
        assert resource["inputProperties"], f"{token} takes no inputs"


def test_mlplatform_keeps_its_type_token():
    from mlops_infra_components import MlPlatform

    import mlops_infra.platform

    assert issubclass(MlPlatform, mlops_infra.platform.MlPlatform)
    assert PLATFORM_TOKEN == "mlops-infra:index:MlPlatform"


def _representable(generator, model: type[BaseModel]) -> tuple[set[str], set[str]]:
    """(all, required) field names the generator keeps: every field but optional Python-only callables."""
    emitter = generator.Emitter()
    names, required = set(), set()
    for fname, info in model.model_fields.items():
        try:
            emitter.annotation(info.annotation, "Probe", fname)
        except generator.UnrepresentableError:
            assert not info.is_required(), f"{model.__name__}.{fname} is required but has no schema type"
            continue
        names.add(camel_case(fname))
        if info.is_required():
            required.add(camel_case(fname))
    return names, required


def test_inputs_are_the_pydantic_fields_in_camel_case(schema, generator):
    models = {f"mlops-infra:index:{name}": cls.ARGS for name, cls in _public_components().items()}
    models[PLATFORM_TOKEN] = PlatformSpec
    for token, model in models.items():
        names, required = _representable(generator, model)
        resource = schema["resources"][token]
        assert set(resource["inputProperties"]) == names, token
        assert set(resource.get("requiredInputs", [])) == required, token


def test_outputs_are_what_the_real_component_registers(schema, generator):
    for target in generator.targets():
        properties = schema["resources"][f"mlops-infra:index:{target.wrapper}"]["properties"]
        assert {camel_case(generator._snake(k)) for k in target.outputs} == set(properties), target.wrapper
    assert set(schema["resources"][PLATFORM_TOKEN]["properties"]) == {"outputs"}


def test_wire_types_follow_the_models(schema):
    types = schema["types"]
    endpoint = schema["resources"]["mlops-infra:index:AwsEndpoint"]["inputProperties"]
    # A string another resource may supply is an Input (not plain); a validated knob is plain.
    assert endpoint["kmsKeyArn"] == {
        "type": "string",
        "description": "Key ARN for volumes and captured data; default: platform key.",
    }
    assert endpoint["logRetentionDays"]["type"] == "integer"
    assert endpoint["logRetentionDays"]["plain"] is True
    assert endpoint["variants"]["items"]["$ref"] == "#/types/mlops-infra:index:AwsVariantArgs"
    # A Literal becomes an enum of its values.
    kind = types["mlops-infra:index:GcpTrainingPipelineSpecKind"]
    assert [v["value"] for v in kind["enum"]] == ["file", "template"]
    # The Vertex spec union is one object; the kfp-function variant (a Python callable) is not offered.
    spec = types["mlops-infra:index:GcpTrainingPipelineSpec"]["properties"]
    assert "path" in spec and "image" in spec and "function" not in spec
    # The platform's clouds are the spec's Cloud enum.
    clouds = schema["resources"][PLATFORM_TOKEN]["inputProperties"]["clouds"]
    assert clouds["items"]["$ref"] == "#/types/mlops-infra:index:Cloud"
    assert {v["value"] for v in types["mlops-infra:index:Cloud"]["enum"]} == {"aws", "gcp", "k8s"}


def test_a_required_callable_is_not_representable(generator):
    class Probe(BaseModel):
        hook: typing.Callable[..., int] = Field(description="A Python function.")

    with pytest.raises(generator.UnrepresentableError, match="callable"):
        generator.Emitter().model(Probe)


def test_the_analyzer_rejects_what_the_real_components_take():
    """Why the wrappers exist: the pydantic-typed component itself is not analyzable."""

    import inspect

    assert isinstance(inspect.get_annotations(mlops_infra.aws.Endpoint.__init__)["args"], str)
    with pytest.raises(Exception):  # noqa: B017 - the analyzer raises AttributeError on a string annotation
        Analyzer("mlops-infra").analyze([mlops_infra.aws.Endpoint])
