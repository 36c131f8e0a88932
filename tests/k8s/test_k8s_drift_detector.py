"""DriftDetector: the manifests under the offline engine, and the shipped server against a fake API.

The server tests run the script text taken from the planned ConfigMap (exactly what ships): its
two HTTP servers listen on 127.0.0.1 (ephemeral ports) and a fake Kubernetes API (an
``http.server`` on 127.0.0.1) stands in for the cluster; all are started and stopped here, and
plain http to the API is allowed only through the test-only switch.
"""

from __future__ import annotations

import json
import random
import threading
import types
import urllib.error
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pydantic
import pytest
from k8s_checks import (
    KUBERNETES_VERSIONS,
    hardening_problems,
    pod_specs,
    stack_hardening_problems,
    validate_core,
    validate_custom,
)

from mlops_infra.engine import CapturedStack
from mlops_infra.k8s import DriftDetector, DriftDetectorArgs
from mlops_infra.k8s.drift_detector import evaluation_seconds, ingest_url, server_source
from mlops_infra.spec.schedule import Schedule
from mlops_infra.testing import one, plan

DEPLOYMENT = "kubernetes:apps/v1:Deployment"
CONFIG_MAP = "kubernetes:core/v1:ConfigMap"
SERVICE = "kubernetes:core/v1:Service"
MONITOR = "kubernetes:monitoring.coreos.com/v1:ServiceMonitor"
ROLE = "kubernetes:rbac.authorization.k8s.io/v1:Role"
BINDING = "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding"
POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
SERVICE_ACCOUNT = "kubernetes:core/v1:ServiceAccount"
NS = "team-ns"
BASE = "churn-prod-drift"
TEMPLATE = "churn-prod-training"
CRON = "churn-prod-training-on-demand"
FEATURES = ["tenure", "charges", "contract"]
REQUEST = "org.kubeflow.serving.inference.request"


def detector_args(**overrides: Any) -> dict[str, Any]:
    return {
        "namespace": NS,
        "features": FEATURES,
        "threshold": 0.2,
        "retrain_on_drift": True,
        "retrain_trigger": f"workflowtemplate/{TEMPLATE}",
        "selector_labels": {"release": "kube-prometheus-stack"},
        **overrides,
    }


def planned(**overrides: Any) -> CapturedStack:
    return plan(lambda: DriftDetector("drift", detector_args(**overrides)), environment="prod")


@pytest.fixture(scope="module")
def stack() -> CapturedStack:
    return planned()


@pytest.fixture(scope="module")
def cron_stack() -> CapturedStack:
    return planned(retrain_trigger=f"cronjob/{CRON}")


def config_map(stack: CapturedStack, suffix: str) -> Any:
    (found,) = [r for r in stack.custom_resources() if r.type == CONFIG_MAP and r.name.endswith(suffix)]
    return found


def container_env(stack: CapturedStack) -> dict[str, str]:
    (container,) = one(stack, DEPLOYMENT).inputs["spec"]["template"]["spec"]["containers"]
    return {e["name"]: e["value"] for e in container["env"]}


# --- manifests ----------------------------------------------------------------------------------


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_core_objects_match_the_official_schemas(stack, version):
    assert validate_core(stack, version) == []


def test_service_monitor_matches_its_crd(stack):
    assert validate_custom(stack) == []


def test_pod_is_hardened_and_reaches_the_api_with_a_projected_token_only(stack):
    assert stack_hardening_problems(stack) == []
    deployment = one(stack, DEPLOYMENT).inputs
    assert deployment["spec"]["replicas"] == 1
    ((pod, containers, _),) = pod_specs(one(stack, DEPLOYMENT))
    assert hardening_problems(pod, containers, token_allowed=False) == []
    assert pod["automountServiceAccountToken"] is False
    (container,) = containers
    assert container["image"] == "python:3.12.8-slim"
    assert container["command"] == ["python3", "/opt/drift-detector/server.py"]
    assert {p["containerPort"] for p in container["ports"]} == {8080, 9090}
    assert container["readinessProbe"]["httpGet"]["path"] == "/healthz"
    volumes = {v["name"]: v for v in pod["volumes"]}
    sources = volumes["api-token"]["projected"]["sources"]
    assert sources[0]["serviceAccountToken"]["expirationSeconds"] <= 3600
    assert sources[1]["configMap"]["name"] == "kube-root-ca.crt"
    assert all(m["readOnly"] for m in container["volumeMounts"] if not m["name"].endswith("-tmp"))
    assert one(stack, SERVICE_ACCOUNT).inputs["automountServiceAccountToken"] is False


def test_environment_carries_the_spec_and_no_test_switch(stack):
    env = container_env(stack)
    assert json.loads(env["FEATURES"]) == FEATURES
    assert (env["THRESHOLD"], env["RETRAIN"], env["COOLDOWN_SECONDS"]) == ("0.2", "true", "21600")
    assert (env["TRIGGER_KIND"], env["TRIGGER_NAME"]) == ("workflowtemplate", TEMPLATE)
    assert env["EVALUATION_SECONDS"] == "300" and env["DRIFT_METRIC"] == "model_feature_drift_score"
    assert env["STATE_CONFIG_MAP"] == f"{BASE}-state" and env["NAMESPACE"] == NS
    assert not any(key.startswith("DRIFT_DETECTOR_") for key in env)  # test-only switches never ship


def test_argo_role_creates_workflows_and_touches_only_its_own_state(stack):
    assert one(stack, ROLE).inputs["rules"] == [
        {"apiGroups": ["argoproj.io"], "resources": ["workflows"], "verbs": ["create"]},
        {"apiGroups": [""], "resources": ["configmaps"], "resourceNames": [f"{BASE}-state"], "verbs": ["get", "patch"]},
    ]
    binding = one(stack, BINDING).inputs
    assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": BASE}
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": BASE, "namespace": NS}]


def test_cron_job_role_reads_the_one_cron_job_and_creates_jobs(cron_stack):
    assert one(cron_stack, ROLE).inputs["rules"] == [
        {"apiGroups": ["batch"], "resources": ["cronjobs"], "resourceNames": [CRON], "verbs": ["get"]},
        {"apiGroups": ["batch"], "resources": ["jobs"], "verbs": ["create"]},
        {"apiGroups": [""], "resources": ["configmaps"], "resourceNames": [f"{BASE}-state"], "verbs": ["get", "patch"]},
    ]


def test_without_retraining_the_role_only_keeps_state():
    rules = one(planned(retrain_on_drift=False, retrain_trigger=None), ROLE).inputs["rules"]
    assert rules == [
        {"apiGroups": [""], "resources": ["configmaps"], "resourceNames": [f"{BASE}-state"], "verbs": ["get", "patch"]}
    ]


def test_network_admits_predictors_and_prometheus_and_reaches_dns_and_the_api_only(stack):
    spec = one(stack, POLICY).inputs["spec"]
    assert spec["policyTypes"] == ["Ingress", "Egress"]
    assert spec["ingress"] == [
        {
            "from": [
                {
                    "podSelector": {
                        "matchExpressions": [{"key": "serving.kserve.io/inferenceservice", "operator": "Exists"}]
                    }
                }
            ],
            "ports": [{"port": 8080, "protocol": "TCP"}],
        },
        {
            "from": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}],
            "ports": [{"port": 9090, "protocol": "TCP"}],
        },
    ]
    ports = [sorted(p["port"] for p in rule["ports"]) for rule in spec["egress"]]
    assert ports == [[53, 53], [443, 6443]]
    pod_labels = one(stack, DEPLOYMENT).inputs["spec"]["template"]["metadata"]["labels"]
    assert spec["podSelector"]["matchLabels"].items() <= pod_labels.items()


def test_service_and_monitor_expose_events_and_metrics(stack):
    service = one(stack, SERVICE).inputs
    assert service["metadata"]["name"] == BASE and service["spec"]["type"] == "ClusterIP"
    assert {(p["name"], p["port"], p["targetPort"]) for p in service["spec"]["ports"]} == {
        ("http-events", 8080, 8080),
        ("http-metrics", 9090, 9090),
    }
    monitor = one(stack, MONITOR).inputs
    assert monitor["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    (endpoint,) = monitor["spec"]["endpoints"]
    assert (endpoint["port"], endpoint["path"], endpoint["honorLabels"]) == ("http-metrics", "/metrics", True)
    assert monitor["spec"]["selector"]["matchLabels"].items() <= service["spec"]["selector"].items()
    assert ingest_url(BASE, NS) == f"http://{BASE}.{NS}.svc.cluster.local:8080/"


def test_script_and_state_config_maps(stack):
    assert config_map(stack, "-script").inputs["data"]["server.py"] == server_source()
    assert config_map(stack, "-state").inputs["data"] == {"state.json": "{}"}  # the server owns it after


def test_a_baseline_config_map_is_mounted_as_the_fixed_reference():
    stack = planned(baseline_config_map="churn-baseline")
    assert container_env(stack)["BASELINE_FILE"] == "/etc/drift-baseline/baseline.json"
    ((pod, _, _),) = pod_specs(one(stack, DEPLOYMENT))
    assert {"name": "churn-baseline", "defaultMode": 0o444} in [v.get("configMap") for v in pod["volumes"]]


@pytest.mark.parametrize(
    ("cron", "seconds"),
    [("0 * * * *", 3600), ("*/15 * * * *", 900), ("30 */6 * * *", 21_600), ("0 3 * * *", 86_400), ("0 3 * * 1", 300)],
)
def test_the_drift_schedule_becomes_the_evaluation_period(cron, seconds):
    assert evaluation_seconds(Schedule(cron=cron)) == seconds


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"threshold": 0}, "threshold"),
        ({"threshold": 1.5}, "threshold"),
        ({"features": []}, "features"),
        ({"retrain_trigger": "job/x"}, "retrain_trigger"),
        ({"retrain_trigger": None}, None),
        ({"min_samples": 5000}, None),
        ({"features": ["a", "a"]}, None),
        ({"features": ['bad"name']}, None),
        ({"image": "python:latest"}, "image"),
        ({"cooldown_seconds": 10}, "cooldown_seconds"),
    ],
)
def test_invalid_args_are_refused(overrides, field):
    with pytest.raises(pydantic.ValidationError) as info:
        DriftDetectorArgs.model_validate(detector_args(**overrides))
    if field is not None:
        assert info.value.errors()[0]["loc"][0] == field


# --- the server, against a fake Kubernetes API --------------------------------------------------


class FakeApi:
    """The state ConfigMap, the on-demand CronJob, and what was created."""

    def __init__(self) -> None:
        self.state: dict[str, Any] = {"metadata": {"name": f"{BASE}-state"}, "data": {"state.json": "{}"}}
        self.cron_job = {
            "metadata": {"name": CRON},
            "spec": {
                "suspend": True,
                "jobTemplate": {
                    "metadata": {"labels": {"app.kubernetes.io/component": "training"}},
                    "spec": {"backoffLimit": 2, "template": {"spec": {"containers": [{"name": "train"}]}}},
                },
            },
        }
        self.created: list[tuple[str, dict[str, Any]]] = []
        self.fail_status = 0

    def names(self) -> list[str]:
        return [body["metadata"]["name"] for _, body in self.created]


def _api_handler(fake: FakeApi) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def _send(self, status: int, body: Any) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _guard(self) -> bool:
            if self.headers["Authorization"] != "Bearer test-token":
                self._send(401, {"kind": "Status", "code": 401})
                return False
            if fake.fail_status:
                self._send(fake.fail_status, {"kind": "Status", "code": fake.fail_status})
                return False
            return True

        def do_GET(self) -> None:
            if not self._guard():
                return
            path = urlsplit(self.path).path
            if path == f"/api/v1/namespaces/{NS}/configmaps/{BASE}-state":
                self._send(200, fake.state)
            elif path == f"/apis/batch/v1/namespaces/{NS}/cronjobs/{CRON}":
                self._send(200, fake.cron_job)
            else:
                self._send(404, {"kind": "Status", "code": 404})

        def do_POST(self) -> None:
            if not self._guard():
                return
            url = urlsplit(self.path)
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            assert parse_qs(url.query)["fieldManager"] == ["mlops-drift-detector"]
            if body["metadata"]["name"] in fake.names():
                self._send(409, {"kind": "Status", "code": 409, "reason": "AlreadyExists"})
                return
            fake.created.append((url.path, body))
            self._send(201, body)

        def do_PATCH(self) -> None:
            if not self._guard():
                return
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            assert self.headers["Content-Type"] == "application/merge-patch+json"
            fake.state.setdefault("data", {}).update(body["data"])
            self._send(200, fake.state)

    return Handler


@pytest.fixture(scope="module")
def server(stack) -> types.ModuleType:
    """The script exactly as the planned ConfigMap ships it, loaded as a module."""
    module = types.ModuleType("drift_detector_shipped")
    exec(compile(config_map(stack, "-script").inputs["data"]["server.py"], "server.py", "exec"), module.__dict__)
    return module


class Running:
    """A running detector (both servers on 127.0.0.1) plus the fake API it talks to."""

    def __init__(self, server: types.ModuleType, fake: FakeApi) -> None:
        self.module = server
        self.fake = fake
        self.detector = server.Detector(server.Config())
        self.servers = server.start(self.detector)
        self.ingest, self.metrics_url = (f"http://127.0.0.1:{s.server_address[1]}" for s in self.servers)
        self.kube = server.Kubernetes(self.detector.config)

    def post(self, body: Any, model: str = "scoring", source: str = "", ce_type: str = REQUEST, **headers: str) -> int:
        data = json.dumps(body).encode()
        request_headers = {
            "Content-Type": "application/json",
            "Ce-Specversion": "1.0",
            "Ce-Id": "1",
            "Ce-Type": ce_type,
            "Ce-Source": source or f"http://localhost:9081/{model}-predictor-00001-deployment-abc",
            "Ce-Inferenceservicename": model,
            "Ce-Namespace": NS,
            "Ce-Endpoint": "default",
            **headers,
        }
        request = urllib.request.Request(self.ingest, data=data, method="POST", headers=request_headers)
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                return int(response.status)
        except urllib.error.HTTPError as error:
            return error.code

    def scrape(self) -> dict[tuple[str, ...], float]:
        with urllib.request.urlopen(f"{self.metrics_url}/metrics", timeout=5) as response:
            text = response.read().decode()
        values: dict[tuple[str, ...], float] = {}
        for line in text.splitlines():
            if line.startswith("model_feature_drift_score{"):
                labels, value = line[len("model_feature_drift_score{") :].split("} ")
                parsed = dict(item.split("=", 1) for item in labels.split(","))
                assert set(parsed) == {"namespace", "model", "revision", "feature"}
                key = tuple(parsed[k].strip('"') for k in ("namespace", "model", "revision", "feature"))
                values[key] = float(value)
        return values

    def evaluate(self, now: float) -> str:
        return str(self.detector.evaluate(self.kube, now))

    def close(self) -> None:
        for s in self.servers:
            s.shutdown()
            s.server_close()


@pytest.fixture
def fake_api(monkeypatch, tmp_path) -> Iterator[tuple[FakeApi, str]]:
    fake = FakeApi()
    api = ThreadingHTTPServer(("127.0.0.1", 0), _api_handler(fake))
    thread = threading.Thread(target=api.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    token = tmp_path / "token"
    token.write_text("test-token\n")
    monkeypatch.setenv("DRIFT_DETECTOR_API_URL", f"http://127.0.0.1:{api.server_address[1]}")
    monkeypatch.setenv("DRIFT_DETECTOR_ALLOW_HTTP", "true")
    monkeypatch.setenv("DRIFT_DETECTOR_TOKEN_PATH", str(token))
    monkeypatch.setenv("DRIFT_DETECTOR_CA_PATH", str(tmp_path / "no-ca.crt"))
    yield fake, str(tmp_path)
    api.shutdown()
    api.server_close()


def _running(server, stack, fake_api, monkeypatch, **env: str) -> Iterator[Running]:
    for key, value in container_env(stack).items():
        monkeypatch.setenv(key, value)
    # small windows keep the tests fast; both servers on ephemeral loopback ports
    settings = {"REFERENCE_SIZE": "300", "WINDOW_SIZE": "300", "MIN_SAMPLES": "100", "INGEST_PORT": "0"}
    for key, value in {**settings, "METRICS_PORT": "0", "BIND_ADDRESS": "127.0.0.1", **env}.items():
        monkeypatch.setenv(key, value)
    running = Running(server, fake_api[0])
    yield running
    running.close()


@pytest.fixture
def argo(server, stack, fake_api, monkeypatch) -> Iterator[Running]:
    yield from _running(server, stack, fake_api, monkeypatch)


@pytest.fixture
def cron(server, cron_stack, fake_api, monkeypatch) -> Iterator[Running]:
    yield from _running(server, cron_stack, fake_api, monkeypatch)


def rows(n: int, shift: float = 0.0, contract: str = "monthly", seed: int = 1) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    return [
        {"tenure": rng.gauss(24 + shift, 6), "charges": rng.gauss(70, 10), "contract": contract, "extra": 1}
        for _ in range(n)
    ]


def send_v1_objects(d: Running, data: list[dict[str, Any]], batch: int = 50, **kw: Any) -> None:
    for start in range(0, len(data), batch):
        assert d.post({"instances": data[start : start + batch]}, **kw) == 202


def test_no_drift_reads_near_zero_and_starts_nothing(argo, capsys):
    send_v1_objects(argo, rows(300, seed=1))  # the reference
    send_v1_objects(argo, rows(300, seed=2))  # the same distribution
    assert argo.evaluate(1_000_000) == "none"
    metrics = argo.scrape()
    revision = "scoring-predictor-00001"
    assert set(metrics) == {(NS, "scoring", revision, f) for f in FEATURES}
    assert metrics[(NS, "scoring", revision, "tenure")] < 0.15
    assert metrics[(NS, "scoring", revision, "contract")] == 0
    assert argo.fake.created == []
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["decision"] == "none"


def test_too_few_samples_export_no_gauge(argo):
    send_v1_objects(argo, rows(350))
    argo.evaluate(1_000_000)
    assert argo.scrape() == {}  # 50 current instances: under MIN_SAMPLES, no number it cannot know


def test_a_shifted_distribution_breaches_and_starts_one_workflow(argo, capsys):
    send_v1_objects(argo, rows(300, seed=1))
    send_v1_objects(argo, rows(300, shift=12, seed=2))  # two standard deviations
    assert argo.evaluate(1_000_000) == "retrain"
    metrics = argo.scrape()
    assert metrics[(NS, "scoring", "scoring-predictor-00001", "tenure")] > 0.2
    assert metrics[(NS, "scoring", "scoring-predictor-00001", "charges")] < 0.2
    ((path, body),) = argo.fake.created
    assert path == f"/apis/argoproj.io/v1alpha1/namespaces/{NS}/workflows"
    assert body["kind"] == "Workflow" and body["spec"] == {"workflowTemplateRef": {"name": TEMPLATE}}
    state = json.loads(argo.fake.state["data"]["state.json"])
    assert state["lastTriggered"] == 1_000_000 and state["run"] == body["metadata"]["name"]
    log = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert log["decision"] == "retrain" and "scoring/scoring-predictor-00001/tenure" in log["drift"]
    # within the cooldown: nothing more, even from a fresh process reading the persisted state
    assert argo.evaluate(1_000_000 + 3600) == "cooldown"
    restarted = argo.module.Detector(argo.module.Config())
    restarted.models = argo.detector.models
    assert restarted.evaluate(argo.kube, 1_000_000 + 7200) == "cooldown"
    assert len(argo.fake.created) == 1
    # after the cooldown, the still-drifting model is retrained again
    assert argo.evaluate(1_000_000 + 21_600 + 1) == "retrain"
    assert len(argo.fake.created) == 2
    assert (
        "mlops_drift_retrain_triggers_total 2" in urllib.request.urlopen(f"{argo.metrics_url}/metrics").read().decode()
    )


def test_categorical_drift_is_the_largest_frequency_gap(argo):
    send_v1_objects(argo, rows(300, contract="monthly"))
    send_v1_objects(argo, rows(150, contract="monthly") + rows(150, contract="yearly"))
    argo.evaluate(1_000_000)
    assert argo.scrape()[(NS, "scoring", "scoring-predictor-00001", "contract")] == pytest.approx(0.5)


def test_v1_lists_follow_the_declared_feature_order(argo):
    lists = [[r["tenure"], r["charges"], r["contract"]] for r in rows(300, seed=1)]
    shifted = [[r["tenure"], r["charges"], r["contract"]] for r in rows(300, shift=12, seed=2)]
    for data in (lists, shifted):
        for start in range(0, 300, 100):
            assert argo.post({"instances": data[start : start + 100]}) == 202
    argo.evaluate(1_000_000)
    metrics = argo.scrape()
    assert metrics[(NS, "scoring", "scoring-predictor-00001", "tenure")] > 0.2
    assert metrics[(NS, "scoring", "scoring-predictor-00001", "charges")] < 0.2


def _v2_matrix(data: list[dict[str, Any]]) -> dict[str, Any]:
    matrix = [[r["tenure"], r["charges"]] for r in data]
    return {"inputs": [{"name": "input-0", "shape": [len(matrix), 2], "datatype": "FP64", "data": matrix}]}


def _v2_named(data: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "inputs": [
            {
                "name": f,
                "shape": [len(data)],
                "datatype": "BYTES" if f == "contract" else "FP64",
                "data": [r[f] for r in data],
            }
            for f in FEATURES
        ]
    }


@pytest.mark.parametrize("shape", [_v2_matrix, _v2_named])
def test_v2_inputs_are_read(argo, shape):
    for data in (rows(300, seed=1), rows(300, shift=12, seed=2)):
        for start in range(0, 300, 100):
            assert argo.post(shape(data[start : start + 100])) == 202
    argo.evaluate(1_000_000)
    metrics = argo.scrape()
    assert metrics[(NS, "scoring", "scoring-predictor-00001", "tenure")] > 0.2
    assert metrics[(NS, "scoring", "scoring-predictor-00001", "charges")] < 0.2


def test_structured_cloudevents_are_read(argo):
    for data in (rows(300, seed=1), rows(300, seed=2)):
        event = {
            "specversion": "1.0",
            "id": "x",
            "type": REQUEST,
            "source": "scoring-predictor-00001",
            "inferenceservicename": "scoring",
            "data": {"instances": data},
        }
        assert argo.post(event, **{"Content-Type": "application/cloudevents+json", "Ce-Type": ""}) == 202
    argo.evaluate(1_000_000)
    assert argo.scrape()[(NS, "scoring", "scoring-predictor-00001", "tenure")] < 0.15


def test_responses_and_bad_events_are_not_measured(argo):
    assert argo.post({"predictions": [1]}, ce_type="org.kubeflow.serving.inference.response") == 202
    assert argo.post({"instances": rows(5)}, model="Not A Name") == 400
    assert argo.post({"neither": 1}) == 400
    assert argo.post("just a string") == 400
    request = urllib.request.Request(argo.ingest, data=b"{}", method="POST", headers={"Content-Length": "x"})
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=5)
    assert refused.value.code == 411
    assert argo.detector.samples == {}


def test_a_new_revision_gets_its_own_reference(argo):
    send_v1_objects(argo, rows(600, seed=1), source="scoring-predictor-00001")
    # the new revision serves a shifted population from its start: its reference is that population
    send_v1_objects(argo, rows(600, shift=12, seed=2), source="scoring-predictor-00002-deployment-7d9f-x2")
    argo.evaluate(1_000_000)
    metrics = argo.scrape()
    assert metrics[(NS, "scoring", "scoring-predictor-00001", "tenure")] < 0.15
    assert metrics[(NS, "scoring", "scoring-predictor-00002", "tenure")] < 0.15
    assert argo.fake.created == []


def test_a_baseline_file_is_the_reference(server, stack, fake_api, monkeypatch, tmp_path):
    baseline = tmp_path / "baseline.json"
    reference = rows(300, seed=1)
    baseline.write_text(json.dumps({f: [r[f] for r in reference] for f in FEATURES}))
    gen = _running(server, stack, fake_api, monkeypatch, BASELINE_FILE=str(baseline))
    running = next(gen)
    try:
        send_v1_objects(running, rows(300, shift=12, seed=2))  # every instance is current traffic
        assert running.evaluate(1_000_000) == "retrain"
        assert running.scrape()[(NS, "scoring", "scoring-predictor-00001", "tenure")] > 0.2
    finally:
        running.close()


def test_retraining_off_only_alerts(server, stack, fake_api, monkeypatch):
    gen = _running(server, stack, fake_api, monkeypatch, RETRAIN="false")
    running = next(gen)
    try:
        send_v1_objects(running, rows(300, seed=1))
        send_v1_objects(running, rows(300, shift=12, seed=2))
        assert running.evaluate(1_000_000) == "alert-only"
        assert running.fake.created == []
        assert running.scrape()[(NS, "scoring", "scoring-predictor-00001", "tenure")] > 0.2
    finally:
        running.close()


def test_cron_job_mode_creates_one_job_from_the_template(cron, capsys):
    send_v1_objects(cron, rows(300, seed=1))
    send_v1_objects(cron, rows(300, shift=12, seed=2))
    assert cron.evaluate(1_000_000) == "retrain"
    ((path, body),) = cron.fake.created
    assert path == f"/apis/batch/v1/namespaces/{NS}/jobs"
    assert body["kind"] == "Job"
    assert body["spec"] == cron.fake.cron_job["spec"]["jobTemplate"]["spec"]
    assert body["metadata"]["annotations"] == {"cronjob.kubernetes.io/instantiate": "manual"}
    assert body["metadata"]["labels"]["app.kubernetes.io/component"] == "training"
    assert len(body["metadata"]["name"]) <= 63
    assert cron.evaluate(1_000_000 + 60) == "cooldown"
    assert len(cron.fake.created) == 1


def test_an_api_error_is_logged_not_fatal_and_retried(argo, capsys):
    send_v1_objects(argo, rows(300, seed=1))
    send_v1_objects(argo, rows(300, shift=12, seed=2))
    argo.fake.fail_status = 500
    assert argo.evaluate(1_000_000) == "error"
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["decision"] == "error"
    assert argo.post({"instances": rows(5)}) == 202  # still serving
    assert argo.scrape()  # and still exporting
    argo.fake.fail_status = 0
    assert argo.evaluate(1_000_000 + 300) == "retrain"
    assert len(argo.fake.created) == 1


def test_a_lost_state_write_does_not_start_a_twin(argo):
    send_v1_objects(argo, rows(300, seed=1))
    send_v1_objects(argo, rows(300, shift=12, seed=2))
    argo.fake.created.append(("/earlier", {"metadata": {"name": argo.module.run_name(TEMPLATE, 1_000_000, 21_600)}}))
    assert argo.evaluate(1_000_000) == "retrain"  # the API answers 409: the earlier run is this one
    assert len(argo.fake.created) == 1
    assert json.loads(argo.fake.state["data"]["state.json"])["lastTriggered"] == 1_000_000


def test_plain_http_to_the_api_is_refused_without_the_test_switch(server, stack, monkeypatch):
    for key, value in container_env(stack).items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("DRIFT_DETECTOR_API_URL", "http://127.0.0.1:1")
    monkeypatch.delenv("DRIFT_DETECTOR_ALLOW_HTTP", raising=False)
    with pytest.raises(server.DetectorError):
        server.Config()


def test_distance_is_the_l_infinity_gap(server):
    assert server.distance([1, 2, 3, 4], [1, 2, 3, 4]) == 0
    assert server.distance([1, 2], [3, 4]) == 1
    assert server.distance([1, 2, 3, 4], [3, 4, 5, 6]) == pytest.approx(0.5)
    assert server.distance(["a", "a", "b", "b"], ["a", "a", "a", "a"]) == pytest.approx(0.5)


def test_a_feature_threshold_overrides_the_threshold_for_that_feature(server, stack, fake_api, monkeypatch):
    # tenure may move up to 0.9 (DriftSpec.threshold_for): the same two-sigma shift no longer retrains
    env = container_env(planned(feature_thresholds={"tenure": 0.9}))
    assert json.loads(env["FEATURE_THRESHOLDS"]) == {"tenure": 0.9}
    running = next(_running(server, stack, fake_api, monkeypatch, FEATURE_THRESHOLDS=env["FEATURE_THRESHOLDS"]))
    try:
        send_v1_objects(running, rows(300, seed=1))
        send_v1_objects(running, rows(300, shift=12, seed=2))
        assert running.evaluate(1_000_000) == "none"
        assert running.scrape()[(NS, "scoring", "scoring-predictor-00001", "tenure")] > 0.2  # measured, not a breach
        assert running.fake.created == []
    finally:
        running.close()
    # a stricter threshold on another feature breaches where the default would not
    running = next(_running(server, stack, fake_api, monkeypatch, FEATURE_THRESHOLDS='{"charges": 0.01}'))
    try:
        send_v1_objects(running, rows(300, seed=1))
        send_v1_objects(running, rows(300, seed=2))
        assert running.evaluate(1_000_000) == "retrain"
    finally:
        running.close()


def test_feature_thresholds_must_name_watched_features():
    with pytest.raises(pydantic.ValidationError, match="feature_thresholds names 'age'"):
        DriftDetectorArgs.model_validate(detector_args(feature_thresholds={"age": 0.3}))
