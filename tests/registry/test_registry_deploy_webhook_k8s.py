"""Kubernetes: a CronJob polls the MLflow approved alias and calls the deploy webhook.

The manifests are checked with the project's kubernetes-validate machinery (tests/k8s/k8s_checks.py),
the wiring resource by resource (RBAC, Secret, env, NetworkPolicies), and the poller script itself
runs against a fake MLflow, a fake Kubernetes API and a fake webhook, all on 127.0.0.1.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from fake_mlflow import FakeMlflowServer
from test_registry_deploy_webhook import SECRET_TOKEN, WEBHOOK, with_webhook
from test_registry_realize import realize

from mlops_infra.engine.captured import CapturedResource, CapturedStack
from mlops_infra.k8s import deploy_webhook_poller

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "k8s"))
from k8s_checks import KUBERNETES_VERSIONS, hardening_problems, pod_specs, validate_core

URI = "s3://acme-mlflow/1/abc/artifacts/model"
POLLER = Path(deploy_webhook_poller.__file__)


@pytest.fixture(scope="module")
def stack() -> CapturedStack:
    return realize("k8s", "prod", {"scoring": URI}, config=SECRET_TOKEN, **with_webhook())


def mine(stack: CapturedStack, kind: str) -> list[CapturedResource]:
    return [r for r in stack.by_type(kind) if "deploy-on-approval" in r.name]


def cron_job(stack: CapturedStack) -> CapturedResource:
    (found,) = mine(stack, "kubernetes:batch/v1:CronJob")
    return found


def env_of(stack: CapturedStack) -> dict[str, Any]:
    (container,) = cron_job(stack).inputs["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container["env"]}


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_the_manifests_are_valid_kubernetes(stack: CapturedStack, version: str) -> None:
    assert validate_core(stack, version) == []


def test_the_poller_pod_is_hardened_and_has_no_automounted_token(stack: CapturedStack) -> None:
    for pod, containers, _ in pod_specs(cron_job(stack)):
        assert hardening_problems(pod, containers, token_allowed=True) == []
        assert pod["automountServiceAccountToken"] is False


def test_the_role_reads_the_served_inference_service_and_its_own_state_only(stack: CapturedStack) -> None:
    (role,) = mine(stack, "kubernetes:rbac.authorization.k8s.io/v1:Role")
    isvc = next(r for r in stack.by_type("kubernetes:serving.kserve.io/v1beta1:InferenceService"))
    base = cron_job(stack).inputs["metadata"]["name"]
    assert role.inputs["rules"] == [
        {
            "apiGroups": ["serving.kserve.io"],
            "resources": ["inferenceservices"],
            "resourceNames": [isvc.inputs["metadata"]["name"]],
            "verbs": ["get"],
        },
        {"apiGroups": [""], "resources": ["configmaps"], "resourceNames": [f"{base}-state"], "verbs": ["get", "patch"]},
    ]


def test_the_token_comes_from_a_secret_and_the_request_is_the_shared_one(stack: CapturedStack) -> None:
    (secret,) = mine(stack, "kubernetes:core/v1:Secret")
    assert secret.inputs["stringData"] == "[secret]"
    env = env_of(stack)
    assert env["WEBHOOK_TOKEN"] == {"secretKeyRef": {"name": secret.inputs["metadata"]["name"], "key": "token"}}
    assert env["WEBHOOK_URL"] == WEBHOOK["url"] and env["AUTH_SCHEME"] == "Bearer"
    assert env["MODEL_NAME"] == "churn" and env["ALIAS"] == "champion"
    assert env["MLFLOW_URL"].endswith(".svc.cluster.local:5000")  # MLflow's own port, in-cluster
    assert json.loads(env["REQUEST_TEMPLATE"]) == {
        "event_type": "model-approved",
        "client_payload": {
            "cloud": "k8s",
            "stack": "prod",
            "registry": "churn",
            "version": "<version>",
            "reference": "<reference>",
        },
    }
    assert "Z2hwLXRlc3Q" not in json.dumps([r.inputs for r in stack.resources])


def test_network_policies_let_the_poller_reach_mlflow_and_the_webhook(stack: CapturedStack) -> None:
    (egress,) = mine(stack, "kubernetes:networking.k8s.io/v1:NetworkPolicy")
    rules = egress.inputs["spec"]["egress"]
    assert {"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}], "ports": [{"port": 443, "protocol": "TCP"}]} in rules
    assert any(r["ports"] == [{"port": 5000, "protocol": "TCP"}] for r in rules)
    # The registry admits the poller to its tracking port (ingress on MLflow's side).
    tracking_in = next(
        p for p in stack.by_type("kubernetes:networking.k8s.io/v1:NetworkPolicy") if p.name.endswith("tracking-ingress")
    )
    (source,) = tracking_in.inputs["spec"]["ingress"][0]["from"]
    (expression,) = source["podSelector"]["matchExpressions"]
    assert expression["values"] == ["deploy-webhook", "training"]


def test_no_webhook_leaves_mlflow_to_training_only() -> None:
    stack = realize("k8s", "prod", {"scoring": URI}, registry={"approval": {"serve": "latest_approved"}})
    assert [r for r in stack.by_type("kubernetes:batch/v1:CronJob") if "deploy-on-approval" in r.name] == []


# --- the poller script, against fakes on 127.0.0.1 ---------------------------------------------------


class FakeApiAndWebhook:
    """The Kubernetes API (one InferenceService, the state ConfigMap) and the webhook, on one loopback server."""

    def __init__(self) -> None:
        self.served_uri: str | None = "s3://acme-mlflow/1/old/artifacts/model"
        self.state: dict[str, Any] = {}
        self.webhook_status = 204
        self.posts: list[tuple[dict[str, Any], str | None]] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def reply(self, code: int, body: Any = None) -> None:
                payload = json.dumps(body or {}).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def do_GET(self) -> None:
                if self.path.endswith("/inferenceservices/churn-scoring"):
                    if fake.served_uri is None:
                        return self.reply(404)
                    return self.reply(200, {"spec": {"predictor": {"model": {"storageUri": fake.served_uri}}}})
                if "/configmaps/" in self.path:
                    return self.reply(200, {"data": {"state.json": json.dumps(fake.state)}})
                return self.reply(404)

            def do_PATCH(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                fake.state = json.loads(body["data"]["state.json"])
                self.reply(200, {})

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                fake.posts.append((body, self.headers.get("Authorization")))
                self.reply(fake.webhook_status, {})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


@pytest.fixture
def fakes(tmp_path: Path) -> Iterator[tuple[FakeMlflowServer, FakeApiAndWebhook, dict[str, str]]]:
    mlflow = FakeMlflowServer()
    api = FakeApiAndWebhook()
    token_file = tmp_path / "token"
    token_file.write_text("sa-token", encoding="utf-8")
    template = json.loads(realize_template())
    environment = {
        "PATH": os.environ.get("PATH", ""),
        "NAMESPACE": "churn-prod-churn-ml",
        "INFERENCE_SERVICES": "churn-scoring",
        "STATE_CONFIG_MAP": "poller-state",
        "MLFLOW_URL": mlflow.url,
        "MODEL_NAME": "churn",
        "ALIAS": "champion",
        "WEBHOOK_URL": f"{api.url}/dispatches",
        "AUTH_SCHEME": "Bearer",
        "WEBHOOK_TOKEN": "ghp-test",
        "REQUEST_TEMPLATE": json.dumps(template),
        "DEPLOY_WEBHOOK_API_URL": api.url,
        "DEPLOY_WEBHOOK_TOKEN_PATH": str(token_file),
        "DEPLOY_WEBHOOK_CA_PATH": str(tmp_path / "no-ca.crt"),
        "DEPLOY_WEBHOOK_ALLOW_HTTP": "true",
    }
    try:
        yield mlflow, api, environment
    finally:
        mlflow.stop()
        api.stop()


def realize_template() -> str:
    from mlops_infra.registry.deploy_request import ApprovedEvent, request_body
    from mlops_infra.spec.approval import DeployTrigger

    event = ApprovedEvent(cloud="k8s", stack="prod", registry="churn", version="<version>", reference="<reference>")
    return json.dumps(request_body(DeployTrigger.REPOSITORY_DISPATCH, event))


def poll(environment: dict[str, str]) -> tuple[int, dict[str, Any]]:
    done = subprocess.run(
        [sys.executable, str(POLLER)], env=environment, capture_output=True, text=True, timeout=60, check=False
    )
    return done.returncode, json.loads(done.stdout.strip().splitlines()[-1])


def test_a_new_approval_calls_the_webhook_once(fakes: Any) -> None:
    mlflow, api, environment = fakes
    mlflow.registry.models["churn"] = {"7": URI}
    mlflow.registry.aliases["churn"] = {"champion": "7"}

    code, line = poll(environment)
    assert (code, line["decision"]) == (0, "notified")
    ((body, authorization),) = api.posts
    assert authorization == "Bearer ghp-test"
    assert body == {
        "event_type": "model-approved",
        "client_payload": {"cloud": "k8s", "stack": "prod", "registry": "churn", "version": "7", "reference": URI},
    }
    assert api.state["notified"] == "7"
    assert "ghp-test" not in json.dumps(line)

    code, line = poll(environment)  # the CI has not deployed yet: no second call
    assert (code, line["decision"], len(api.posts)) == (0, "already-notified", 1)


def test_a_served_version_is_not_notified(fakes: Any) -> None:
    mlflow, api, environment = fakes
    mlflow.registry.models["churn"] = {"7": URI}
    mlflow.registry.aliases["churn"] = {"champion": "7"}
    api.served_uri = URI

    code, line = poll(environment)
    assert (code, line["decision"], api.posts) == (0, "served", [])


def test_no_alias_is_not_an_error(fakes: Any) -> None:
    _, api, environment = fakes
    code, line = poll(environment)
    assert (code, line["decision"], api.posts) == (0, "none-approved", [])


def test_a_failed_call_is_retried_by_the_next_run(fakes: Any) -> None:
    mlflow, api, environment = fakes
    mlflow.registry.models["churn"] = {"7": URI}
    mlflow.registry.aliases["churn"] = {"champion": "7"}
    api.webhook_status = 401  # not worth retrying within the run

    code, line = poll(environment)
    assert (code, line["decision"]) == (1, "error")
    assert "401" in line["error"] and api.state == {}
    api.webhook_status = 204
    assert poll(environment)[1]["decision"] == "notified"
