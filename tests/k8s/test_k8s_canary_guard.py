"""CanaryGuard: the manifests under the offline engine, and the shipped controller against fake APIs.

The controller tests run the script text taken from the planned ConfigMap (exactly what ships)
against a fake Prometheus and a fake Kubernetes API, both ``http.server`` instances on 127.0.0.1
started and stopped here; plain http to the API is allowed only through the test-only switch.
"""

from __future__ import annotations

import json
import socket
import threading
import time
import types
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pydantic
import pytest
from k8s_checks import KUBERNETES_VERSIONS, hardening_problems, pod_specs, stack_hardening_problems, validate_core

from mlops_infra.engine import CapturedStack
from mlops_infra.k8s import CanaryGuard, CanaryGuardArgs
from mlops_infra.k8s.canary_guard import controller_source
from mlops_infra.testing import one, plan

CRON = "kubernetes:batch/v1:CronJob"
CONFIG_MAP = "kubernetes:core/v1:ConfigMap"
ROLE = "kubernetes:rbac.authorization.k8s.io/v1:Role"
BINDING = "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding"
POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
SERVICE_ACCOUNT = "kubernetes:core/v1:ServiceAccount"
ISVC = "scoring"
NS = "team-ns"
BASE = "churn-prod-guard"


def guard_args(**overrides: Any) -> dict[str, Any]:
    return {
        "namespace": NS,
        "inference_service": ISVC,
        "error_rate_percent": 1,
        "p95_latency_ms": 300,
        "rollout": {"strategy": "canary", "canary_percent": 10, "bake_seconds": 600},
        **overrides,
    }


def planned(**overrides: Any) -> CapturedStack:
    return plan(lambda: CanaryGuard("guard", guard_args(**overrides)), environment="prod")


@pytest.fixture(scope="module")
def stack() -> CapturedStack:
    return planned()


def config_map(stack: CapturedStack, suffix: str) -> Any:
    (found,) = [r for r in stack.custom_resources() if r.type == CONFIG_MAP and r.name.endswith(suffix)]
    return found


# --- manifests ----------------------------------------------------------------------------------


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_core_objects_match_the_official_schemas(stack, version):
    assert validate_core(stack, version) == []


def test_pod_is_hardened_and_reaches_the_api_with_a_projected_token_only(stack):
    assert stack_hardening_problems(stack) == []
    ((pod, containers, _),) = pod_specs(one(stack, CRON))
    assert hardening_problems(pod, containers, token_allowed=False) == []
    assert pod["automountServiceAccountToken"] is False and pod["restartPolicy"] == "Never"
    (container,) = containers
    assert container["image"] == "python:3.12.8-slim"
    assert container["command"] == ["python3", "/opt/canary-guard/controller.py"]
    volumes = {v["name"]: v for v in pod["volumes"]}
    sources = volumes["api-token"]["projected"]["sources"]
    assert sources[0]["serviceAccountToken"]["expirationSeconds"] <= 3600
    assert sources[1]["configMap"]["name"] == "kube-root-ca.crt"
    assert all(m["readOnly"] for m in container["volumeMounts"] if m["name"] != "guard-tmp")
    assert one(stack, SERVICE_ACCOUNT).inputs["automountServiceAccountToken"] is False


def test_cron_job_runs_every_minute_one_at_a_time(stack):
    spec = one(stack, CRON).inputs["spec"]
    assert spec["schedule"] == "* * * * *" and spec["concurrencyPolicy"] == "Forbid"
    assert spec["jobTemplate"]["spec"]["backoffLimit"] == 0
    env = {e["name"]: e["value"] for e in spec["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["INFERENCE_SERVICE"] == ISVC and env["NAMESPACE"] == NS
    assert env["ERROR_RATE_PERCENT"] == "1" and env["P95_LATENCY_MS"] == "300"
    assert env["STRATEGY"] == "canary" and env["BAKE_SECONDS"] == "600"
    assert env["PROMETHEUS_URL"] == "http://prometheus-operated.monitoring.svc:9090"
    assert env["STATE_CONFIG_MAP"] == f"{BASE}-state"
    assert not any(key.startswith("CANARY_GUARD_") for key in env)  # test-only switches never ship


def test_role_is_get_and_patch_on_the_one_service_and_its_own_state(stack):
    rules = one(stack, ROLE).inputs["rules"]
    assert rules == [
        {
            "apiGroups": ["serving.kserve.io"],
            "resources": ["inferenceservices"],
            "resourceNames": [ISVC],
            "verbs": ["get", "patch"],
        },
        {"apiGroups": [""], "resources": ["configmaps"], "resourceNames": [f"{BASE}-state"], "verbs": ["get", "patch"]},
    ]
    binding = one(stack, BINDING).inputs
    assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": BASE}
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": BASE, "namespace": NS}]


def test_egress_is_dns_api_server_and_prometheus_only(stack):
    spec = one(stack, POLICY).inputs["spec"]
    assert spec["policyTypes"] == ["Egress"]
    ports = [sorted(p["port"] for p in rule["ports"]) for rule in spec["egress"]]
    assert ports == [[53, 53], [443, 6443], [9090]]
    assert spec["egress"][2]["to"] == [
        {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}
    ]
    pod_labels = one(stack, CRON).inputs["spec"]["jobTemplate"]["spec"]["template"]["metadata"]["labels"]
    assert spec["podSelector"]["matchLabels"].items() <= pod_labels.items()


def test_external_prometheus_gets_its_port_only():
    spec = one(planned(prometheus_url="https://prom.example.com/"), POLICY).inputs["spec"]
    assert spec["egress"][2] == {
        "to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}],
        "ports": [{"port": 443, "protocol": "TCP"}],
    }


def test_script_config_map_ships_the_controller_verbatim(stack):
    assert config_map(stack, "-script").inputs["data"]["controller.py"] == controller_source()
    assert config_map(stack, "-state").inputs["data"] == {"state.json": "{}"}  # the controller owns it after


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"prometheus_url": "ftp://prom:9090"}, "prometheus_url"),
        ({"prometheus_url": "http://user:pw@prom:9090"}, "prometheus_url"),
        ({"error_rate_percent": 0}, "error_rate_percent"),
        ({"p95_latency_ms": -1}, "p95_latency_ms"),
        ({"image": "python:latest"}, "image"),
        ({"window": "five minutes"}, "window"),
        ({"rollout": {"strategy": "blue_green"}}, None),
        ({"rollout": {"strategy": "all_at_once"}}, None),
    ],
)
def test_invalid_args_are_refused(overrides, field):
    with pytest.raises(pydantic.ValidationError) as info:
        CanaryGuardArgs.model_validate(guard_args(**overrides))
    if field is not None:
        assert info.value.errors()[0]["loc"][0] == field


# --- the controller, against fake Prometheus and Kubernetes APIs --------------------------------


class Fake:
    """State shared by both fake servers: the InferenceService, the state ConfigMap, what came in."""

    def __init__(self) -> None:
        self.isvc: dict[str, Any] = {}
        self.state: dict[str, Any] = {"metadata": {"name": f"{BASE}-state"}}
        self.error_rate: float | None = 0.1
        self.p95: float | None = 120.0
        self.prometheus_status = 200
        self.queries: list[str] = []
        self.patches: list[tuple[str, dict[str, Any], str]] = []

    def isvc_patches(self) -> list[dict[str, Any]]:
        return [body for path, body, _ in self.patches if "/inferenceservices/" in path]


def canary(percent: int = 10) -> dict[str, Any]:
    return {
        "metadata": {"name": ISVC, "namespace": NS},
        "spec": {"predictor": {"canaryTrafficPercent": percent, "model": {"modelFormat": {"name": "sklearn"}}}},
        "status": {
            "components": {
                "predictor": {
                    "latestCreatedRevision": f"{ISVC}-predictor-00002",
                    "latestReadyRevision": f"{ISVC}-predictor-00002",
                    "latestRolledoutRevision": f"{ISVC}-predictor-00001",
                    "previousRolledoutRevision": f"{ISVC}-predictor-00001",
                    "traffic": [
                        {"revisionName": f"{ISVC}-predictor-00002", "percent": percent, "latestRevision": True},
                        {"revisionName": f"{ISVC}-predictor-00001", "percent": 100 - percent, "latestRevision": False},
                    ],
                }
            }
        },
    }


def _handler(fake: Fake, kind: str) -> type[BaseHTTPRequestHandler]:
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

        def do_GET(self) -> None:
            url = urlsplit(self.path)
            if kind == "prometheus":
                query = parse_qs(url.query)["query"][0]
                fake.queries.append(query)
                if fake.prometheus_status != 200:
                    self._send(fake.prometheus_status, {"status": "error", "error": "overloaded"})
                    return
                value = fake.p95 if query.startswith("histogram_quantile") else fake.error_rate
                result = [] if value is None else [{"metric": {}, "value": [time.time(), str(value)]}]
                self._send(200, {"status": "success", "data": {"resultType": "vector", "result": result}})
                return
            if self.headers["Authorization"] != "Bearer test-token":
                self._send(401, {"kind": "Status", "code": 401})
            elif url.path.endswith(f"/inferenceservices/{ISVC}"):
                self._send(200, fake.isvc)
            elif url.path.endswith(f"/configmaps/{BASE}-state"):
                self._send(200, fake.state)
            else:
                self._send(404, {"kind": "Status", "code": 404})

        def do_PATCH(self) -> None:
            url = urlsplit(self.path)
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            fake.patches.append((url.path, body, self.headers["Content-Type"]))
            assert parse_qs(url.query)["fieldManager"] == ["mlops-canary-guard"]
            if url.path.endswith(f"/inferenceservices/{ISVC}"):
                percent = body["spec"]["predictor"]["canaryTrafficPercent"]
                fake.isvc["spec"]["predictor"]["canaryTrafficPercent"] = percent
                self._send(200, fake.isvc)
            else:
                fake.state.setdefault("data", {}).update(body["data"])
                self._send(200, fake.state)

    return Handler


@pytest.fixture(scope="module")
def controller(stack) -> types.ModuleType:
    """The script exactly as the planned ConfigMap ships it, loaded as a module."""
    module = types.ModuleType("canary_guard_shipped")
    exec(
        compile(config_map(stack, "-script").inputs["data"]["controller.py"], "controller.py", "exec"), module.__dict__
    )
    return module


@pytest.fixture
def fake(monkeypatch, tmp_path, stack) -> Iterator[Fake]:
    fake = Fake()
    servers = [ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake, kind)) for kind in ("prometheus", "kubernetes")]
    threads = [threading.Thread(target=s.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True) for s in servers]
    for thread in threads:
        thread.start()
    token = tmp_path / "token"
    token.write_text("test-token\n")
    shipped = one(stack, CRON).inputs["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["env"]
    for item in shipped:
        monkeypatch.setenv(item["name"], item["value"])
    prometheus, kubernetes = (f"http://127.0.0.1:{s.server_address[1]}" for s in servers)
    monkeypatch.setenv("PROMETHEUS_URL", prometheus)
    monkeypatch.setenv("CANARY_GUARD_API_URL", kubernetes)
    monkeypatch.setenv("CANARY_GUARD_ALLOW_HTTP", "true")
    monkeypatch.setenv("CANARY_GUARD_TOKEN_PATH", str(token))
    monkeypatch.setenv("CANARY_GUARD_CA_PATH", str(tmp_path / "no-ca.crt"))
    yield fake
    for server in servers:
        server.shutdown()
        server.server_close()


def run(controller: types.ModuleType, capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, Any]]:
    code = controller.main()
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1, lines  # one JSON line per decision
    return code, json.loads(lines[0])


def baked(fake: Fake, percent: int = 10, seconds: float = 10_000) -> None:
    record = {"revision": f"{ISVC}-predictor-00002", "percent": percent, "since": time.time() - seconds}
    fake.state["data"] = {"state.json": json.dumps(record)}


def test_error_rate_breach_rolls_back(controller, fake, capsys):
    fake.isvc, fake.error_rate = canary(), 4.0
    code, line = run(controller, capsys)
    assert code == 0 and line["decision"] == "rollback" and line["newPercent"] == 0
    assert fake.isvc_patches() == [{"spec": {"predictor": {"canaryTrafficPercent": 0}}}]
    assert fake.patches[0][2] == "application/merge-patch+json"
    error_query = next(q for q in fake.queries if "response_code_class" in q)
    assert f'revision_name="{ISVC}-predictor-00002"' in error_query  # the canary revision only
    assert error_query.startswith("(sum(rate(revision_app_request_count{")


def test_p95_breach_rolls_back_even_before_the_bake_time(controller, fake, capsys):
    fake.isvc, fake.p95 = canary(), 450.0
    code, line = run(controller, capsys)
    assert code == 0 and line["decision"] == "rollback" and "p95" in line["reason"]
    assert fake.isvc_patches() == [{"spec": {"predictor": {"canaryTrafficPercent": 0}}}]
    p95_query = next(q for q in fake.queries if q.startswith("histogram_quantile(0.95"))
    assert "revision_app_request_latencies_bucket" in p95_query


def test_healthy_after_bake_promotes_to_all_traffic(controller, fake, capsys):
    fake.isvc = canary()
    baked(fake)
    code, line = run(controller, capsys)
    assert code == 0 and line["decision"] == "promote"
    assert fake.isvc_patches() == [{"spec": {"predictor": {"canaryTrafficPercent": 100}}}]


def test_linear_steps_up_by_step_percent(controller, fake, capsys, monkeypatch):
    monkeypatch.setenv("STRATEGY", "linear")
    fake.isvc = canary(25)
    baked(fake, percent=25)
    code, line = run(controller, capsys)
    assert code == 0 and line["newPercent"] == 50
    assert fake.isvc_patches() == [{"spec": {"predictor": {"canaryTrafficPercent": 50}}}]


def test_linear_step_restarts_the_bake_clock(controller, fake, capsys, monkeypatch):
    monkeypatch.setenv("STRATEGY", "linear")
    fake.isvc = canary(50)
    baked(fake, percent=25)  # the clock was for the previous step
    code, line = run(controller, capsys)
    assert code == 0 and line["decision"] == "hold" and fake.isvc_patches() == []
    assert json.loads(fake.state["data"]["state.json"])["percent"] == 50


def test_healthy_before_bake_holds_and_starts_the_clock(controller, fake, capsys):
    fake.isvc = canary()
    code, line = run(controller, capsys)
    assert code == 0 and line["decision"] == "hold" and "baking" in line["reason"]
    assert fake.isvc_patches() == []
    assert json.loads(fake.state["data"]["state.json"])["revision"] == f"{ISVC}-predictor-00002"
    code, line = run(controller, capsys)  # a minute later: still baking, the clock is not restarted
    assert line["decision"] == "hold" and fake.isvc_patches() == [] and len(fake.patches) == 1


def test_prometheus_error_never_promotes(controller, fake, capsys):
    fake.isvc, fake.prometheus_status = canary(), 503
    baked(fake)
    code, line = run(controller, capsys)
    assert code == 1 and line["decision"] == "error" and fake.patches == []


def test_prometheus_down_never_promotes(controller, fake, capsys, monkeypatch):
    fake.isvc = canary()
    baked(fake)
    with socket.socket() as closed:  # bound, never listening: connections are refused
        closed.bind(("127.0.0.1", 0))
        monkeypatch.setenv("PROMETHEUS_URL", f"http://127.0.0.1:{closed.getsockname()[1]}")
        code, line = run(controller, capsys)
    assert code == 1 and line["decision"] == "error" and fake.patches == []


@pytest.mark.parametrize(("error_rate", "p95"), [(None, None), (0.1, None), (None, 120.0)])
def test_no_data_never_promotes(controller, fake, capsys, error_rate, p95):
    fake.isvc, fake.error_rate, fake.p95 = canary(), error_rate, p95
    baked(fake)
    code, line = run(controller, capsys)
    assert code == 0 and line["decision"] == "none" and fake.patches == []


@pytest.mark.parametrize(
    "isvc",
    [
        {"metadata": {"name": ISVC}, "spec": {"predictor": {}}, "status": {}},  # no canary configured
        canary(100),  # promoted
        canary(0),  # rolled back
        {
            **canary(),
            "status": {
                "components": {
                    "predictor": {
                        "latestCreatedRevision": "r1",
                        "latestReadyRevision": "r1",
                        "latestRolledoutRevision": "r1",
                    }
                }
            },
        },
    ],
    ids=["unset", "promoted", "rolled-back", "first-revision"],
)
def test_no_canary_in_progress_does_nothing(controller, fake, capsys, isvc):
    fake.isvc, fake.error_rate = isvc, 50.0  # even bad metrics: there is nothing to roll back
    baked(fake)
    code, line = run(controller, capsys)
    assert code == 0 and line["decision"] == "none" and fake.patches == [] and fake.queries == []


def test_canary_not_ready_does_nothing(controller, fake, capsys):
    fake.isvc = canary()
    fake.isvc["status"]["components"]["predictor"]["latestReadyRevision"] = f"{ISVC}-predictor-00001"
    code, line = run(controller, capsys)
    assert code == 0 and line["decision"] == "none" and fake.patches == []


def test_a_second_run_after_rollback_does_nothing(controller, fake, capsys):
    fake.isvc, fake.error_rate = canary(), 4.0
    assert run(controller, capsys)[1]["decision"] == "rollback"
    code, line = run(controller, capsys)
    assert code == 0 and line["decision"] == "none" and len(fake.isvc_patches()) == 1


def test_a_second_run_after_promotion_does_nothing(controller, fake, capsys):
    fake.isvc = canary()
    baked(fake)
    assert run(controller, capsys)[1]["decision"] == "promote"
    code, line = run(controller, capsys)
    assert code == 0 and line["decision"] == "none" and len(fake.isvc_patches()) == 1


def test_rollback_switched_off_holds_on_breach(controller, fake, capsys, monkeypatch):
    monkeypatch.setenv("ROLLBACK_ON_ALARMS", "false")
    fake.isvc, fake.error_rate = canary(), 4.0
    baked(fake)
    code, line = run(controller, capsys)
    assert code == 0 and line["decision"] == "hold" and fake.patches == []


def test_plain_http_to_the_api_is_refused_without_the_test_switch(controller, fake, capsys, monkeypatch):
    monkeypatch.delenv("CANARY_GUARD_ALLOW_HTTP")
    fake.isvc, fake.error_rate = canary(), 4.0
    code, line = run(controller, capsys)
    assert code == 1 and "https" in line["reason"] and fake.patches == []


def test_a_wrong_token_is_an_error_not_a_decision(controller, fake, capsys, tmp_path, monkeypatch):
    (tmp_path / "other").write_text("stolen")
    monkeypatch.setenv("CANARY_GUARD_TOKEN_PATH", str(tmp_path / "other"))
    fake.isvc = canary()
    code, line = run(controller, capsys)
    assert code == 1 and line["decision"] == "error" and fake.patches == []
