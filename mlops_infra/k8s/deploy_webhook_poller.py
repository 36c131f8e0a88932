"""The deploy webhook's poller: when the MLflow approved alias names a version not yet served, call the webhook.

Shipped verbatim in a ConfigMap by :class:`mlops_infra.k8s.deploy_webhook.DeployWebhookPoller` and
run by its CronJob (``python3 /opt/deploy-webhook/poller.py``), Python 3 standard library only.
MLflow 2.x (the registry's image) has no registry webhooks, so each run asks instead:

1. MLflow ``GET /api/2.0/mlflow/registered-models/alias`` (the tracking port, in-cluster): the version
   holding the alias and its storage URI (``source``, else ``model-versions/get-download-uri``);
2. the Kubernetes API: the ``storageUri`` each InferenceService of the platform serves;
3. its own state ConfigMap: the version it last notified.

It POSTs the webhook (``REQUEST_TEMPLATE`` with ``<version>`` and ``<reference>`` filled in,
``Authorization: <AUTH_SCHEME> <token>``, the token from a Secret through the environment) only
when an InferenceService does not serve that URI and that version was not notified yet; after a
2xx it records the version. A failed call exits 1 and the next run tries again.
Every run logs one JSON line. No alias is not an error: nothing is approved yet.
"""

from __future__ import annotations

import json
import os
import ssl
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

SERVICE_ACCOUNT = "/var/run/secrets/kubernetes.io/serviceaccount"
STATE_KEY = "state.json"
TIMEOUT_SECONDS = 10
STORAGE_SCHEMES = ("s3", "gs", "pvc", "oci", "https")
ATTEMPTS = 3


class PollError(Exception):
    """The run could not decide or could not notify (it exits 1; the next run retries)."""


def env(name: str, default: str | None = None) -> str:
    value = os.environ.get(name, default)
    if value is None:
        raise PollError(f"environment variable {name} is not set")
    return value


class Config:
    """What the CronJob passes in its environment (test-only overrides are prefixed DEPLOY_WEBHOOK_)."""

    def __init__(self) -> None:
        self.namespace = env("NAMESPACE")
        self.services = [s for s in env("INFERENCE_SERVICES", "").split(",") if s]
        self.state_config_map = env("STATE_CONFIG_MAP")
        self.mlflow_url = env("MLFLOW_URL").rstrip("/")
        self.model_name = env("MODEL_NAME")
        self.alias = env("ALIAS")
        self.webhook_url = env("WEBHOOK_URL")
        self.scheme = env("AUTH_SCHEME")
        self.token = env("WEBHOOK_TOKEN")
        self.template = env("REQUEST_TEMPLATE")
        self.api_url = env("DEPLOY_WEBHOOK_API_URL", "https://kubernetes.default.svc").rstrip("/")
        self.token_path = env("DEPLOY_WEBHOOK_TOKEN_PATH", f"{SERVICE_ACCOUNT}/token")
        self.ca_path = env("DEPLOY_WEBHOOK_CA_PATH", f"{SERVICE_ACCOUNT}/ca.crt")
        allow_http = env("DEPLOY_WEBHOOK_ALLOW_HTTP", "false") == "true"  # tests only
        if not self.webhook_url.startswith("https://") and not allow_http:
            raise PollError("the deploy webhook must be called over https")
        if not self.api_url.startswith("https://") and not allow_http:
            raise PollError(f"the Kubernetes API must be reached over https, not {self.api_url}")


def log(decision: str, **fields: Any) -> None:
    print(json.dumps({"decision": decision, **fields}, sort_keys=True), flush=True)


def _open(request: urllib.request.Request, context: ssl.SSLContext | None = None) -> tuple[int, Any]:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), urllib.request.HTTPSHandler(context=context))
    try:
        with opener.open(request, timeout=TIMEOUT_SECONDS) as response:
            raw = response.read()
            return response.status, json.loads(raw) if raw else {}
    except urllib.error.HTTPError as exc:
        body = exc.read().decode("utf-8", "replace")
        return exc.code, {"error": body[:300]}


def mlflow_get(config: Config, method: str, **query: str) -> dict[str, Any] | None:
    """``GET /api/2.0/mlflow/{method}``; None when MLflow says it does not exist."""
    url = f"{config.mlflow_url}/api/2.0/mlflow/{method}?{urllib.parse.urlencode(query)}"
    status, body = _open(urllib.request.Request(url, headers={"Accept": "application/json"}))  # noqa: S310
    if status == 404 or "RESOURCE_DOES_NOT_EXIST" in json.dumps(body):
        return None
    if status != 200:
        raise PollError(f"MLflow {method} answered HTTP {status}")
    return dict(body)


def approved(config: Config) -> tuple[str, str] | None:
    """(version, storage URI) of the version holding the alias, or None."""
    found = mlflow_get(config, "registered-models/alias", name=config.model_name, alias=config.alias)
    if found is None:
        return None
    version = found.get("model_version") or {}
    number = str(version.get("version", ""))
    uri = str(version.get("source", ""))
    if uri.split("://", 1)[0] not in STORAGE_SCHEMES:
        download = mlflow_get(config, "model-versions/get-download-uri", name=config.model_name, version=number)
        uri = str((download or {}).get("artifact_uri", ""))
    return number, uri


class Kubernetes:
    """The two calls the poller makes, with its projected token."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.context = ssl.create_default_context(cafile=config.ca_path) if os.path.exists(config.ca_path) else None

    def call(self, method: str, path: str, body: Any = None, content_type: str = "application/json") -> Any:
        with open(self.config.token_path, encoding="utf-8") as handle:
            token = handle.read().strip()
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(  # noqa: S310 - https (checked), or http in tests
            f"{self.config.api_url}{path}",
            data=data,
            method=method,
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json", "Content-Type": content_type},
        )
        status, answer = _open(request, self.context)
        if status == 404 and method == "GET":
            return None
        if status >= 300:
            raise PollError(f"Kubernetes {method} {path} answered HTTP {status}")
        return answer

    def served(self) -> dict[str, str | None]:
        """InferenceService name -> the storageUri it serves (None: not deployed)."""
        config = self.config
        result: dict[str, str | None] = {}
        for name in config.services:
            path = f"/apis/serving.kserve.io/v1beta1/namespaces/{config.namespace}/inferenceservices/{name}"
            isvc = self.call("GET", path) or {}
            model = ((isvc.get("spec") or {}).get("predictor") or {}).get("model") or {}
            result[name] = model.get("storageUri")
        return result

    def state(self) -> dict[str, Any]:
        path = f"/api/v1/namespaces/{self.config.namespace}/configmaps/{self.config.state_config_map}"
        config_map = self.call("GET", path) or {}
        return dict(json.loads(((config_map.get("data") or {}).get(STATE_KEY)) or "{}"))

    def record(self, state: dict[str, Any]) -> None:
        path = f"/api/v1/namespaces/{self.config.namespace}/configmaps/{self.config.state_config_map}"
        patch = {"data": {STATE_KEY: json.dumps(state, sort_keys=True)}}
        self.call("PATCH", path, patch, content_type="application/merge-patch+json")


def request_body(template: str, version: str, reference: str) -> bytes:
    """The shared request (mlops_infra.registry.deploy_request) with this version's values."""

    def fill(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: fill(v) for k, v in value.items()}
        if value == "<version>":
            return version
        if value == "<reference>":
            return reference
        return value

    return json.dumps(fill(json.loads(template))).encode()


def notify(config: Config, version: str, reference: str) -> int:
    """POST the webhook (a few quick retries on 429/5xx/connection errors); the HTTP status."""
    request = urllib.request.Request(  # noqa: S310 - https (checked)
        config.webhook_url,
        data=request_body(config.template, version, reference),
        method="POST",
        headers={
            "Authorization": f"{config.scheme} {config.token}",
            "Accept": "application/json",
            "Content-Type": "application/json",
            "User-Agent": "mlops-infra-deploy-webhook",
        },
    )
    status = 0
    for attempt in range(ATTEMPTS):
        try:
            status, _ = _open(request)
        except (urllib.error.URLError, OSError):
            status = 0
        if 200 <= status < 300 or (status not in (0, 429) and status < 500):  # success, or not worth retrying
            return status
        time.sleep(2**attempt)
    return status


def run(config: Config) -> str:
    """One poll; returns the decision it logged."""
    found = approved(config)
    if found is None:
        log("none-approved", model=config.model_name, alias=config.alias)
        return "none-approved"
    version, uri = found
    kube = Kubernetes(config)
    served = kube.served()
    if served and all(value == uri for value in served.values()):
        log("served", version=version, uri=uri)
        return "served"
    state = kube.state()
    if state.get("notified") == version:
        log("already-notified", version=version, uri=uri, served=served)
        return "already-notified"
    status = notify(config, version, uri)
    if not 200 <= status < 300:
        raise PollError(f"the deploy webhook answered HTTP {status} for version {version}")
    kube.record({"notified": version, "uri": uri, "at": int(time.time())})
    log("notified", version=version, uri=uri, status=status)
    return "notified"


def main() -> int:
    try:
        run(Config())
    except (PollError, urllib.error.URLError, OSError, ValueError) as exc:
        log("error", error=str(exc))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
