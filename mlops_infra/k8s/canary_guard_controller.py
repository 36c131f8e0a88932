"""The canary guard's controller: one decision per run, Python 3 standard library only.

Shipped verbatim in a ConfigMap by :class:`mlops_infra.k8s.canary_guard.CanaryGuard` and run by
its CronJob (``python3 /opt/canary-guard/controller.py``). Each run reads one KServe
InferenceService, asks Prometheus for the canary revision's error rate (percent) and p95 latency
(ms), and decides:

- no canary in progress (no new revision, ``canaryTrafficPercent`` unset, 0 or 100): nothing;
- the canary breaches a threshold: roll back (``canaryTrafficPercent: 0``);
- healthy for ``BAKE_SECONDS`` at its current share: promote (canary: 100; linear: + step);
- otherwise (baking, no data, Prometheus or API errors): nothing. It never promotes on doubt.

Bake time needs a memory across runs: the revision, its share and when the guard first saw that
pair live in one key of the guard's own state ConfigMap (annotations on the InferenceService
would be copied into a new Knative revision). Every run logs one JSON line.
Exit status: 0 when the run decided (even "nothing"), 1 when it could not (an error).
"""

from __future__ import annotations

import json
import math
import os
import ssl
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

SERVICE_ACCOUNT = "/var/run/secrets/kubernetes.io/serviceaccount"
FIELD_MANAGER = "mlops-canary-guard"
STATE_KEY = "state.json"
TIMEOUT_SECONDS = 10


class GuardError(Exception):
    """The run cannot decide safely (an API or Prometheus failure)."""


def env(name: str, default: str | None = None) -> str:
    value = os.environ.get(name, default)
    if value is None:
        raise GuardError(f"environment variable {name} is not set")
    return value


class Config:
    """What the CronJob passes in its environment (test-only overrides are prefixed CANARY_GUARD_)."""

    def __init__(self) -> None:
        self.namespace = env("NAMESPACE")
        self.service = env("INFERENCE_SERVICE")
        self.state_config_map = env("STATE_CONFIG_MAP")
        self.prometheus_url = env("PROMETHEUS_URL").rstrip("/")
        self.error_rate_percent = float(env("ERROR_RATE_PERCENT"))
        self.p95_latency_ms = float(env("P95_LATENCY_MS"))
        self.strategy = env("STRATEGY", "canary")
        self.step_percent = int(env("STEP_PERCENT", "25"))
        self.bake_seconds = int(env("BAKE_SECONDS", "600"))
        self.rollback = env("ROLLBACK_ON_ALARMS", "true") == "true"
        self.window = env("WINDOW", "5m")
        self.request_counter = env("REQUEST_COUNTER", "revision_app_request_count")
        self.latency_histogram = env("LATENCY_HISTOGRAM", "revision_app_request_latencies_bucket")
        self.error_matcher = env("ERROR_MATCHER", 'response_code_class="5xx"')
        self.latency_unit_ms = float(env("LATENCY_UNIT_MS", "1"))
        self.api_url = env("CANARY_GUARD_API_URL", "https://kubernetes.default.svc").rstrip("/")
        self.token_path = env("CANARY_GUARD_TOKEN_PATH", f"{SERVICE_ACCOUNT}/token")
        self.ca_path = env("CANARY_GUARD_CA_PATH", f"{SERVICE_ACCOUNT}/ca.crt")
        allow_http = env("CANARY_GUARD_ALLOW_HTTP", "false") == "true"  # tests only
        if not self.api_url.startswith("https://") and not allow_http:
            raise GuardError(f"the Kubernetes API must be reached over https, not {self.api_url}")
        if not self.prometheus_url.startswith(("http://", "https://")):
            raise GuardError(f"PROMETHEUS_URL must be an http(s) URL, not {self.prometheus_url}")
        if self.strategy not in ("canary", "linear"):
            raise GuardError(f"unknown strategy {self.strategy!r} (canary or linear)")


def log(decision: str, **fields: Any) -> None:
    """One JSON line per run on stdout."""
    record = {"time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "decision": decision, **fields}
    print(json.dumps(record, sort_keys=True), flush=True)


class Kubernetes:
    """GET and merge-PATCH with the pod's projected token, verified against the cluster CA."""

    def __init__(self, config: Config) -> None:
        self.config = config
        with open(config.token_path, encoding="utf-8") as handle:  # re-read each run: the token rotates
            self.token = handle.read().strip()
        self.context = ssl.create_default_context(cafile=config.ca_path) if config.api_url.startswith("https") else None

    def request(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        url = f"{self.config.api_url}{path}"
        headers = {"Authorization": f"Bearer {self.token}", "Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/merge-patch+json"
            url += "?" + urllib.parse.urlencode({"fieldManager": FIELD_MANAGER})
        req = urllib.request.Request(url, data=data, method=method, headers=headers)  # noqa: S310 - https or test http
        try:
            with urllib.request.urlopen(req, timeout=TIMEOUT_SECONDS, context=self.context) as response:  # noqa: S310
                parsed: dict[str, Any] = json.loads(response.read() or b"{}")
                return parsed
        except (urllib.error.URLError, OSError, ValueError) as error:
            raise GuardError(f"Kubernetes API {method} {path}: {error}") from error

    def isvc_path(self) -> str:
        c = self.config
        return f"/apis/serving.kserve.io/v1beta1/namespaces/{c.namespace}/inferenceservices/{c.service}"

    def state_path(self) -> str:
        c = self.config
        return f"/api/v1/namespaces/{c.namespace}/configmaps/{c.state_config_map}"


class Prometheus:
    """Instant queries over the HTTP API; any failure is an error, an empty or NaN answer is None."""

    def __init__(self, config: Config) -> None:
        self.config = config

    def query(self, promql: str) -> float | None:
        url = f"{self.config.prometheus_url}/api/v1/query?" + urllib.parse.urlencode({"query": promql})
        try:
            with urllib.request.urlopen(url, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310 - in-cluster http(s)
                payload = json.loads(response.read())
        except (urllib.error.URLError, OSError, ValueError) as error:
            raise GuardError(f"Prometheus query failed: {error}") from error
        if not isinstance(payload, dict) or payload.get("status") != "success":
            raise GuardError(f"Prometheus answered {str(payload)[:200]}")
        result = (payload.get("data") or {}).get("result") or []
        if not result:
            return None
        try:
            value = float(result[0]["value"][1])
        except (KeyError, IndexError, TypeError, ValueError) as error:
            raise GuardError(f"Prometheus answered an unexpected shape: {str(result)[:200]}") from error
        return None if math.isnan(value) or math.isinf(value) else value


def selector(config: Config, revision: str) -> str:
    # The shape of the endpoint's alert rules (mlops_infra.k8s.monitoring), narrowed to one revision.
    return f'namespace="{config.namespace}", service=~"{config.service}-predictor.*", revision_name="{revision}"'


def error_rate_query(config: Config, revision: str) -> str:
    """Percent of the revision's requests that failed (5xx) over the window."""
    sel = selector(config, revision)
    counter, window = config.request_counter, config.window
    return (
        f"(sum(rate({counter}{{{sel}, {config.error_matcher}}}[{window}])) or vector(0))"
        f" / sum(rate({counter}{{{sel}}}[{window}])) * 100"
    )


def p95_query(config: Config, revision: str) -> str:
    """The revision's 95th-percentile latency in milliseconds over the window."""
    sel = selector(config, revision)
    return (
        f"histogram_quantile(0.95, sum by (le) (rate({config.latency_histogram}{{{sel}}}[{config.window}])))"
        f" * {config.latency_unit_ms:g}"
    )


def canary_in_progress(isvc: dict[str, Any]) -> tuple[str | None, int | None, str]:
    """(canary revision, its traffic percent, why not) from the InferenceService's spec and status."""
    percent = ((isvc.get("spec") or {}).get("predictor") or {}).get("canaryTrafficPercent")
    status = ((isvc.get("status") or {}).get("components") or {}).get("predictor") or {}
    latest = status.get("latestCreatedRevision")
    rolled_out = status.get("latestRolledoutRevision")
    if percent is None or int(percent) >= 100:
        return None, None, "no canary: all traffic goes to the latest revision"
    if int(percent) <= 0:
        return None, None, "no canary: rolled back (canaryTrafficPercent 0)"
    if not latest or latest == rolled_out:
        return None, None, "no canary: no new revision beside the rolled-out one"
    if status.get("latestReadyRevision") != latest:
        return None, None, "no canary yet: the new revision is not ready"
    return str(latest), int(percent), ""


def step_started(kube: Kubernetes, revision: str, percent: int, now: float) -> float:
    """When the guard first saw ``revision`` at ``percent`` (recorded now when it is new)."""
    state_map = kube.request("GET", kube.state_path())
    try:
        state = json.loads((state_map.get("data") or {}).get(STATE_KEY) or "{}")
    except ValueError:
        state = {}
    if state.get("revision") == revision and state.get("percent") == percent and "since" in state:
        return float(state["since"])
    record = {"revision": revision, "percent": percent, "since": now}
    kube.request("PATCH", kube.state_path(), {"data": {STATE_KEY: json.dumps(record, sort_keys=True)}})
    return now


def decide(config: Config, kube: Kubernetes, prometheus: Prometheus, now: float) -> None:
    isvc = kube.request("GET", kube.isvc_path())
    revision, percent, why = canary_in_progress(isvc)
    base: dict[str, Any] = {"namespace": config.namespace, "inferenceService": config.service}
    if revision is None or percent is None:
        log("none", reason=why, **base)
        return
    base |= {"revision": revision, "canaryTrafficPercent": percent}
    error_rate = prometheus.query(error_rate_query(config, revision))
    p95 = prometheus.query(p95_query(config, revision))
    metrics = {"errorRatePercent": error_rate, "p95LatencyMs": p95}
    breaches = []
    if error_rate is not None and error_rate > config.error_rate_percent:
        breaches.append(f"error rate {error_rate:.3g}% > {config.error_rate_percent:g}%")
    if p95 is not None and p95 > config.p95_latency_ms:
        breaches.append(f"p95 latency {p95:.4g} ms > {config.p95_latency_ms:g} ms")
    if breaches:
        if not config.rollback:
            log("hold", reason="breach, but rollback_on_alarms is off: " + "; ".join(breaches), **base, **metrics)
            return
        kube.request("PATCH", kube.isvc_path(), {"spec": {"predictor": {"canaryTrafficPercent": 0}}})
        log("rollback", reason="; ".join(breaches), newPercent=0, **base, **metrics)
        return
    if error_rate is None or p95 is None:
        log("none", reason="no data for the canary revision yet", **base, **metrics)
        return
    baked = now - step_started(kube, revision, percent, now)
    if baked < config.bake_seconds:
        log("hold", reason=f"baking: {baked:.0f} of {config.bake_seconds} s", **base, **metrics)
        return
    target = 100 if config.strategy == "canary" else min(100, percent + config.step_percent)
    kube.request("PATCH", kube.isvc_path(), {"spec": {"predictor": {"canaryTrafficPercent": target}}})
    log("promote", reason=f"healthy for {baked:.0f} s", newPercent=target, **base, **metrics)


def main() -> int:
    try:
        config = Config()
        decide(config, Kubernetes(config), Prometheus(config), time.time())
    except (GuardError, OSError, ValueError) as error:
        log("error", reason=str(error))  # never a promotion: the run stops here
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
