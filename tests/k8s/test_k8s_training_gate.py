"""The Kubernetes training gate: train -> evaluate -> register only when the metric passes (Argo steps).

The rendered WorkflowTemplate is checked step by step (order, parameters, the ``when`` expression,
the hardened pods), and the evaluate/register script runs against a fake MLflow REST API on 127.0.0.1.
"""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pydantic
import pytest
from k8s_checks import custom_problems, manifest, stack_hardening_problems
from k8s_samples import training_args

from mlops_infra.engine import ProgramError
from mlops_infra.k8s import TrainingPipeline, TrainingPipelineArgs
from mlops_infra.k8s import training_gate_step as step
from mlops_infra.k8s.training_pipeline import gate_step_source
from mlops_infra.testing import one, plan

WORKFLOW_TEMPLATE = "kubernetes:argoproj.io/v1alpha1:WorkflowTemplate"
GATE = {
    "metric": "auc",
    "threshold": 0.8,
    "direction": "maximize",
    "tracking_uri": "http://churn-prod-registry.churn-ns.svc.cluster.local:5000",
    "registered_model": "churn",
    "approval_mode": "manual",
    "approved_alias": "champion",
}


def _template(gate=GATE):
    stack = plan(lambda: TrainingPipeline("training", training_args(argo_enabled=True, gate=gate)), environment="prod")
    return stack, one(stack, WORKFLOW_TEMPLATE)


@pytest.fixture(scope="module")
def gated():
    return _template()


def _env(container):
    return {e["name"]: e["value"] for e in container["env"] if "value" in e}


def test_steps_run_train_then_evaluate_then_register_when_the_metric_passes(gated):
    stack, template = gated
    spec = template.inputs["spec"]
    assert spec["entrypoint"] == "train-evaluate-register"
    templates = {t["name"]: t for t in spec["templates"]}
    assert list(templates) == ["train-evaluate-register", "train", "evaluate", "register"]
    [train], [evaluate], [register] = templates["train-evaluate-register"]["steps"]
    assert (train["name"], evaluate["name"], register["name"]) == ("train", "evaluate", "register")
    run_id = {"name": "run-id", "value": "{{steps.train.outputs.parameters.run-id}}"}
    assert evaluate["arguments"]["parameters"] == [run_id]
    assert register["arguments"]["parameters"] == [
        run_id,
        {"name": "metric", "value": "{{steps.evaluate.outputs.parameters.metric}}"},
    ]
    assert register["when"] == "{{steps.evaluate.outputs.parameters.metric}} >= 0.8"
    assert "when" not in train and "when" not in evaluate
    # the run id and the metric travel as output parameters read from files the steps write
    assert templates["train"]["outputs"]["parameters"] == [
        {"name": "run-id", "valueFrom": {"path": "/tmp/mlops-run-id"}}
    ]
    assert _env(templates["train"]["container"])["MLOPS_RUN_ID_FILE"] == "/tmp/mlops-run-id"
    assert templates["evaluate"]["outputs"]["parameters"] == [
        {"name": "metric", "valueFrom": {"path": "/tmp/gate-metric"}}
    ]
    assert custom_problems(manifest(template)) == []  # hera's Argo models, lossless
    assert stack_hardening_problems(stack) == []  # the gate containers come from the same pod builder


def test_gate_steps_read_mlflow_and_register_with_the_approval_settings(gated):
    _, template = gated
    templates = {t["name"]: t for t in template.inputs["spec"]["templates"]}
    evaluate, register = templates["evaluate"]["container"], templates["register"]["container"]
    assert evaluate["image"] == register["image"] == "python:3.12.8-slim"
    assert evaluate["command"] == ["python3", "-c", gate_step_source(), "evaluate"]
    assert register["command"] == ["python3", "-c", gate_step_source(), "register"]
    assert _env(evaluate) | {"HOME": "/tmp"} == {
        "HOME": "/tmp",
        "PYTHONDONTWRITEBYTECODE": "1",
        "MLFLOW_TRACKING_URI": GATE["tracking_uri"],
        "GATE_METRIC": "auc",
        "RUN_ID": "{{inputs.parameters.run-id}}",
        "OUTPUT_FILE": "/tmp/gate-metric",
    }
    env = _env(register)
    assert (env["REGISTERED_MODEL"], env["APPROVAL_MODE"], env["APPROVED_ALIAS"]) == ("churn", "manual", "champion")
    assert env["GATE_VALUE"] == "{{inputs.parameters.metric}}"
    assert templates["register"]["inputs"]["parameters"] == [{"name": "run-id"}, {"name": "metric"}]


def test_a_metric_to_minimize_passes_at_or_below_the_threshold():
    _, template = _template({**GATE, "metric": "log_loss", "threshold": 0.35, "direction": "minimize"})
    steps = template.inputs["spec"]["templates"][0]["steps"]
    assert steps[2][0]["when"] == "{{steps.evaluate.outputs.parameters.metric}} <= 0.35"


def test_without_a_gate_the_template_is_the_training_step_alone():
    stack = plan(lambda: TrainingPipeline("training", training_args(argo_enabled=True)), environment="prod")
    spec = one(stack, WORKFLOW_TEMPLATE).inputs["spec"]
    assert spec["entrypoint"] == "train" and [t["name"] for t in spec["templates"]] == ["train"]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"argo_enabled": False, "gate": GATE}, "gate"),
        ({"argo_enabled": True, "gate": {**GATE, "direction": "up"}}, "gate"),
        ({"argo_enabled": True, "gate": {**GATE, "metric": "a b"}}, "gate"),
        ({"argo_enabled": True, "gate": {**GATE, "image": "python:latest"}}, "gate"),
    ],
)
def test_bad_gates_name_the_field_and_register_nothing(overrides, field):
    with pytest.raises(pydantic.ValidationError) as info:
        TrainingPipelineArgs.model_validate(training_args(**overrides))
    assert info.value.errors()[0]["loc"][0] == field
    with pytest.raises(ProgramError, match=field) as error:
        plan(lambda: TrainingPipeline("training", training_args(**overrides)))
    assert error.value.registered == []


# --- the script against a fake MLflow -------------------------------------------------------------


class FakeMlflow:
    def __init__(self, metrics):
        self.metrics = metrics
        self.models: set[str] = set()
        self.versions: list[dict] = []
        self.aliases: dict[str, str] = {}
        self.calls: list[tuple[str, str, dict]] = []

    def handle(self, method, path, query, body):
        self.calls.append((method, path, body))
        if path == "/api/2.0/mlflow/runs/get":
            run_id = query["run_id"][0]
            return 200, {
                "run": {
                    "info": {"run_id": run_id, "artifact_uri": f"s3://bucket/mlflow/1/{run_id}/artifacts"},
                    "data": {"metrics": [{"key": k, "value": v} for k, v in self.metrics.items()]},
                }
            }
        if path == "/api/2.0/mlflow/registered-models/create":
            if body["name"] in self.models:
                return 400, {"error_code": "RESOURCE_ALREADY_EXISTS"}
            self.models.add(body["name"])
            return 200, {"registered_model": {"name": body["name"]}}
        if path == "/api/2.0/mlflow/model-versions/create":
            self.versions.append(body)
            return 200, {"model_version": {"version": str(len(self.versions))}}
        if path == "/api/2.0/mlflow/registered-models/alias":
            self.aliases[body["alias"]] = body["version"]
            return 200, {}
        return 404, {"error_code": "ENDPOINT_NOT_FOUND"}


@pytest.fixture
def mlflow(monkeypatch, tmp_path):
    fake = FakeMlflow({"auc": 0.83, "accuracy": 0.9})

    class Handler(BaseHTTPRequestHandler):
        def _serve(self):
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length)) if length else {}
            status, payload = fake.handle(self.command, parts.path, parse_qs(parts.query), body)
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = _serve

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"http://127.0.0.1:{server.server_address[1]}")
    monkeypatch.setenv("RUN_ID", "run-42")
    monkeypatch.setenv("GATE_METRIC", "auc")
    monkeypatch.setenv("OUTPUT_FILE", str(tmp_path / "metric"))
    monkeypatch.setenv("REGISTERED_MODEL", "churn")
    monkeypatch.setenv("GATE_VALUE", "0.83")
    monkeypatch.setenv("APPROVED_ALIAS", "champion")
    yield fake, tmp_path / "metric"
    server.shutdown()
    server.server_close()


def test_evaluate_writes_the_runs_metric_for_the_when(mlflow):
    fake, out = mlflow
    assert step.evaluate() == 0.83
    assert out.read_text() == "0.83"  # what {{steps.evaluate.outputs.parameters.metric}} becomes
    assert fake.calls == [("GET", "/api/2.0/mlflow/runs/get", {})]


def test_evaluate_fails_when_the_run_logged_no_metric(mlflow, monkeypatch):
    monkeypatch.setenv("GATE_METRIC", "f1")
    with pytest.raises(SystemExit, match="logged no metric 'f1'"):
        step.evaluate()
    assert not mlflow[1].exists()


def test_register_creates_a_version_and_leaves_approval_to_a_person(mlflow, monkeypatch):
    fake, _ = mlflow
    monkeypatch.setenv("APPROVAL_MODE", "manual")
    assert step.register() == "1"
    assert fake.versions == [
        {
            "name": "churn",
            "source": "s3://bucket/mlflow/1/run-42/artifacts/model",
            "run_id": "run-42",
            "tags": [{"key": "gate.auc", "value": "0.83"}],
        }
    ]
    assert fake.aliases == {}
    # a second registration finds the model already there and adds a version
    assert step.register() == "2"


def test_register_moves_the_alias_in_automatic_approval(mlflow, monkeypatch):
    fake, _ = mlflow
    monkeypatch.setenv("APPROVAL_MODE", "automatic")
    step.register()
    assert fake.aliases == {"champion": "1"}
