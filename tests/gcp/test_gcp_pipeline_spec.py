"""Pipeline specs: compiled files (JSON/YAML), kfp functions compiled at program time, the built-in template."""

import json
import re

import pydantic
import pytest
import yaml
from kfp import dsl

from mlops_infra.gcp.pipeline_spec import (
    SpecFile,
    SpecFunction,
    SpecTemplate,
    check_parameter_values,
    compile_pipeline,
    load_pipeline_spec,
    root_parameters,
)

IMAGE = "us-central1-docker.pkg.dev/acme-ml/images/trainer@sha256:" + "c" * 64


@dsl.component(base_image="python:3.11-slim")
def add(a: float, b: float) -> float:
    return a + b


@dsl.pipeline(name="adder")
def adder(a: float, b: float = 2.0) -> None:
    add(a=a, b=b)


def test_function_compiles_offline_to_a_pipeline_spec():
    spec = compile_pipeline(adder)
    assert spec["pipelineInfo"]["name"] == "adder"
    assert root_parameters(spec) == {
        "a": {"parameterType": "NUMBER_DOUBLE"},
        "b": {"defaultValue": 2.0, "isOptional": True, "parameterType": "NUMBER_DOUBLE"},
    }
    assert load_pipeline_spec(SpecFunction(function=adder)) == spec


@pytest.mark.parametrize("suffix", [".json", ".yaml"])
def test_compiled_file_is_read_in_either_format(tmp_path, suffix):
    spec = compile_pipeline(adder)
    path = tmp_path / f"pipeline{suffix}"
    path.write_text(json.dumps(spec) if suffix == ".json" else yaml.safe_dump(spec))
    assert load_pipeline_spec(SpecFile(path=str(path))) == spec


def test_pipeline_job_wrapper_is_unwrapped(tmp_path):
    spec = compile_pipeline(adder)
    path = tmp_path / "job.json"
    path.write_text(json.dumps({"pipelineSpec": spec, "runtimeConfig": {}}))
    assert load_pipeline_spec(SpecFile(path=str(path)))["pipelineInfo"]["name"] == "adder"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not valid JSON/YAML"),
        ('{"root": {}}', "missing ['pipelineInfo', 'schemaVersion']"),
        ("[]", "not a PipelineSpec"),
    ],
)
def test_bad_files_fail_with_the_reason(tmp_path, content, message):
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(ValueError, match=re.escape(message)):
        load_pipeline_spec(SpecFile(path=str(path)))


def test_missing_file_is_named(tmp_path):
    with pytest.raises(ValueError, match=r"nope\.yaml"):
        load_pipeline_spec(SpecFile(path=str(tmp_path / "nope.yaml")))


def test_template_gates_registration_on_the_metric():
    spec = load_pipeline_spec(SpecTemplate(image=IMAGE, name="churn-training", metric_threshold=0.85))
    tasks = spec["root"]["dag"]["tasks"]
    assert set(tasks) == {"preprocess", "train", "evaluate", "condition-1"}
    assert tasks["train"]["dependentTasks"] == ["preprocess"]
    assert set(tasks["evaluate"]["dependentTasks"]) == {"preprocess", "train"}
    gate = tasks["condition-1"]
    assert gate["taskInfo"]["name"] == "metric-meets-threshold"
    assert gate["triggerPolicy"]["condition"] == (
        "inputs.parameter_values['pipelinechannel--evaluate-metric'] >= "
        "inputs.parameter_values['pipelinechannel--metric_threshold']"
    )
    inner = spec["components"]["comp-condition-1"]["dag"]["tasks"]
    assert set(inner) == {"register"}
    params = root_parameters(spec)
    assert params["metric_threshold"]["defaultValue"] == 0.85
    assert params["model_alias"]["defaultValue"] == "challenger"
    # Every step is a Vertex CustomJob running the trainer image.
    pools = {name: _job_input(spec, name, "worker_pool_specs")[0] for name in ("preprocess", "train", "evaluate")}
    assert {p["container_spec"]["image_uri"] for p in pools.values()} == {IMAGE}
    assert pools["train"]["container_spec"]["command"] == ["python", "-m", "trainer.train"]


def _job_input(spec, step, name):
    """A CustomJob input of ``step`` (google-cloud-pipeline-components compiles them as component defaults)."""
    components = {**spec["components"], **spec["components"]["comp-condition-1"].get("components", {})}
    return components[f"comp-{step}"]["inputDefinitions"]["parameters"][name]["defaultValue"]


def test_template_machine_runtime_capacity_and_disk_reach_the_train_step():
    spec = load_pipeline_spec(
        SpecTemplate(
            image=IMAGE, train_machine_type="n1-highmem-8", train_timeout_seconds=600, train_spot=True,
            train_boot_disk_gb=250, processing_machine_type="e2-standard-4", processing_timeout_seconds=900,
        )
    )  # fmt: skip
    (train,) = _job_input(spec, "train", "worker_pool_specs")
    assert train["machine_spec"] == {"machine_type": "n1-highmem-8"}
    assert train["disk_spec"] == {"boot_disk_type": "pd-ssd", "boot_disk_size_gb": 250}
    assert (_job_input(spec, "train", "timeout"), _job_input(spec, "train", "strategy")) == ("600s", "SPOT")
    for step in ("preprocess", "evaluate", "register"):
        (pool,) = _job_input(spec, step, "worker_pool_specs")
        assert pool["machine_spec"] == {"machine_type": "e2-standard-4"}
        assert (_job_input(spec, step, "timeout"), _job_input(spec, step, "strategy")) == ("900s", "STANDARD")


def test_template_custom_jobs_take_the_key_identity_and_network_from_the_pipeline():
    spec = load_pipeline_spec(SpecTemplate(image=IMAGE))
    wiring = {"encryption_spec_key_name": "kms_key_name", "service_account": "service_account", "network": "network"}
    tasks = spec["root"]["dag"]["tasks"]
    for step in ("preprocess", "train", "evaluate"):
        given = tasks[step]["inputs"]["parameters"]
        assert {k: given[k]["componentInputParameter"] for k in wiring} == wiring
    register = spec["components"]["comp-condition-1"]["dag"]["tasks"]["register"]["inputs"]["parameters"]
    assert register["encryption_spec_key_name"] == {"componentInputParameter": "pipelinechannel--kms_key_name"}
    assert _job_input(spec, "train", "timeout") == "7200s"
    assert _job_input(spec, "train", "worker_pool_specs")[0]["disk_spec"]["boot_disk_size_gb"] == 100


def test_template_refuses_step_limits_and_unknown_machines():
    with pytest.raises(pydantic.ValidationError, match="train_machine_type"):
        SpecTemplate(image=IMAGE, train_cpu_limit="8")
    with pytest.raises(pydantic.ValidationError) as info:
        SpecTemplate(image=IMAGE, train_machine_type="huge")
    assert info.value.errors()[0]["loc"] == ("train_machine_type",)


def test_template_refuses_a_latest_image():
    with pytest.raises(ValueError, match="latest"):
        SpecTemplate(image="gcr.io/acme/trainer:latest")


def test_parameter_values_are_checked_against_the_spec():
    spec = compile_pipeline(adder)
    check_parameter_values(spec, {"a": 1.5})
    with pytest.raises(ValueError, match=r"unknown pipeline parameters \['c'\]"):
        check_parameter_values(spec, {"a": 1.0, "c": 3})
    with pytest.raises(ValueError, match=r"missing values for required pipeline parameters \['a'\]"):
        check_parameter_values(spec, {})
    with pytest.raises(ValueError, match="'a' must be NUMBER_DOUBLE, got str"):
        check_parameter_values(spec, {"a": "one"})
    with pytest.raises(ValueError, match="got a boolean"):
        check_parameter_values(spec, {"a": True})


def _gate_condition(spec):
    tasks = spec["root"]["dag"]["tasks"]
    return tasks["condition-1"]["triggerPolicy"]["condition"]


def test_template_gate_direction_and_gpu_train_step():
    maximize = load_pipeline_spec(SpecTemplate(image=IMAGE))
    assert " >= " in _gate_condition(maximize)
    minimize = load_pipeline_spec(
        SpecTemplate(
            image=IMAGE,
            metric_name="rmse",
            metric_direction="minimize",
            train_accelerator_type="NVIDIA_TESLA_T4",
            train_accelerator_count=1,
        )
    )
    assert " <= " in _gate_condition(minimize)
    (pool,) = _job_input(minimize, "train", "worker_pool_specs")
    assert pool["machine_spec"]["accelerator_type"] == "NVIDIA_TESLA_T4"
    assert pool["machine_spec"]["accelerator_count"] == 1


@pytest.mark.parametrize(
    ("change", "location"),
    [
        ({"train_accelerator_type": "NVIDIA_TESLA_T4"}, ()),
        ({"train_accelerator_type": "T4", "train_accelerator_count": 1}, ("train_accelerator_type",)),
        ({"metric_direction": "lower"}, ("metric_direction",)),
        ({"image": "trainer"}, ("image",)),
    ],
)
def test_template_settings_name_the_field(change, location):
    with pytest.raises(pydantic.ValidationError) as info:
        SpecTemplate.model_validate({"image": IMAGE, **change})
    assert info.value.errors()[0]["loc"] == location
