"""The drift detector's server: KServe logger CloudEvents in, drift gauges out, retraining on drift.

Python 3 standard library only. Shipped verbatim in a ConfigMap by
:class:`mlops_infra.k8s.drift_detector.DriftDetector` and run by its Deployment
(``python3 /opt/drift-detector/server.py``). One process serves a namespace:

- ``INGEST_PORT`` (8080): ``POST`` of KServe's logger CloudEvents (binary mode: ``Ce-Type``,
  ``Ce-Source``, ``Ce-Id``, ``Ce-Inferenceservicename`` headers; structured mode
  ``application/cloudevents+json`` too). Only ``org.kubeflow.serving.inference.request`` events
  are read; their body is a v1 ``{"instances": [...]}`` (objects keyed by feature name, or lists
  in the declared feature order) or a v2 ``{"inputs": [...]}`` request (one tensor per feature,
  named after it, or one ``[rows, features]`` tensor in the declared order).
- ``METRICS_PORT`` (9090): ``GET /metrics`` in Prometheus text format.

Per model (InferenceService) and Knative revision (``<isvc>-predictor-NNNNN``, read from
``Ce-Source``), each watched feature has a reference window (the first ``REFERENCE_SIZE``
instances the detector sees for that revision, or the baseline file when one is mounted) and a
current window (the last ``WINDOW_SIZE`` instances after it). Every ``EVALUATION_SECONDS`` the
drift of a feature is the L-infinity distance between the two windows: the largest gap between
their empirical CDFs for numbers, the largest gap between category frequencies otherwise, 0-1.
A window under ``MIN_SAMPLES`` values reports nothing (no gauge), never a 0 it cannot know.

When a drift exceeds ``THRESHOLD`` and ``RETRAIN`` is on, it starts the training trigger once per
``COOLDOWN_SECONDS`` (the last start is kept in its own state ConfigMap, so a restart does not
start another): an Argo ``Workflow`` from the WorkflowTemplate, or a ``Job`` from the suspended
CronJob's job template. Run names are derived from the cooldown period, so a retried creation
finds its earlier run (409) instead of starting a second one. An API error is logged and retried
at the next evaluation; it never stops the server. Every evaluation logs one JSON line.
"""

from __future__ import annotations

import bisect
import collections
import json
import math
import os
import re
import signal
import ssl
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

SERVICE_ACCOUNT = "/var/run/secrets/kubernetes.io/serviceaccount"
REQUEST_TYPE = "org.kubeflow.serving.inference.request"
FIELD_MANAGER = "mlops-drift-detector"
STATE_KEY = "state.json"
TIMEOUT_SECONDS = 10
MAX_MODELS = 50
REVISIONS_PER_MODEL = 3  # a canary and its stable revision, plus one being replaced
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
_REVISION = re.compile(r"([a-z0-9]([-a-z0-9]*[a-z0-9])?-predictor(-default)?-[0-9]{5})")


class DetectorError(Exception):
    """A configuration or Kubernetes API failure (logged; never fatal once the server runs)."""


def env(name: str, default: str | None = None) -> str:
    value = os.environ.get(name, default)
    if value is None:
        raise DetectorError(f"environment variable {name} is not set")
    return value


class Config:
    """What the Deployment passes in its environment (test-only overrides are prefixed DRIFT_DETECTOR_)."""

    def __init__(self) -> None:
        self.namespace = env("NAMESPACE")
        self.features: list[str] = json.loads(env("FEATURES"))
        if not self.features or not all(isinstance(f, str) and f for f in self.features):
            raise DetectorError("FEATURES must be a JSON list of feature names")
        self.threshold = float(env("THRESHOLD", "0.2"))
        # per-feature overrides of THRESHOLD, same 0-1 unit (the spec's DriftSpec.threshold_for)
        self.feature_thresholds: dict[str, float] = {
            str(k): float(v) for k, v in json.loads(env("FEATURE_THRESHOLDS", "{}")).items()
        }
        self.drift_metric = env("DRIFT_METRIC", "model_feature_drift_score")
        self.reference_size = int(env("REFERENCE_SIZE", "1000"))
        self.window_size = int(env("WINDOW_SIZE", "1000"))
        self.min_samples = int(env("MIN_SAMPLES", "200"))
        self.evaluation_seconds = float(env("EVALUATION_SECONDS", "300"))
        self.retrain = env("RETRAIN", "false") == "true"
        self.trigger_kind = env("TRIGGER_KIND", "")
        self.trigger_name = env("TRIGGER_NAME", "")
        self.cooldown_seconds = int(env("COOLDOWN_SECONDS", "21600"))
        self.state_config_map = env("STATE_CONFIG_MAP")
        self.ingest_port = int(env("INGEST_PORT", "8080"))
        self.metrics_port = int(env("METRICS_PORT", "9090"))
        self.bind = env("BIND_ADDRESS", "0.0.0.0")  # noqa: S104 - a pod listens on its own address
        self.baseline_file = env("BASELINE_FILE", "")
        self.max_body_bytes = int(env("MAX_BODY_BYTES", str(4 * 1024 * 1024)))
        self.api_url = env("DRIFT_DETECTOR_API_URL", "https://kubernetes.default.svc").rstrip("/")
        self.token_path = env("DRIFT_DETECTOR_TOKEN_PATH", f"{SERVICE_ACCOUNT}/token")
        self.ca_path = env("DRIFT_DETECTOR_CA_PATH", f"{SERVICE_ACCOUNT}/ca.crt")
        allow_http = env("DRIFT_DETECTOR_ALLOW_HTTP", "false") == "true"  # tests only
        if not self.api_url.startswith("https://") and not allow_http:
            raise DetectorError(f"the Kubernetes API must be reached over https, not {self.api_url}")
        if not 0 < self.threshold <= 1:
            raise DetectorError(f"THRESHOLD must be in (0, 1], not {self.threshold}")
        for feature, value in self.feature_thresholds.items():
            if feature not in self.features or not 0 < value <= 1:
                raise DetectorError(f"FEATURE_THRESHOLDS[{feature!r}] must name a feature and be in (0, 1]")
        if self.min_samples < 1 or self.min_samples > min(self.reference_size, self.window_size):
            raise DetectorError("MIN_SAMPLES must be between 1 and both window sizes")
        if self.retrain and (self.trigger_kind not in ("workflowtemplate", "cronjob") or not self.trigger_name):
            raise DetectorError("RETRAIN needs TRIGGER_KIND (workflowtemplate or cronjob) and TRIGGER_NAME")


def log(decision: str, **fields: Any) -> None:
    """One JSON line per decision on stdout."""
    record = {"time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "decision": decision, **fields}
    print(json.dumps(record, sort_keys=True, default=str), flush=True)


# --- the distance ---------------------------------------------------------------------------------


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def distance(reference: Iterable[Any], current: Iterable[Any]) -> float:
    """L-infinity distance (0-1): empirical CDFs of numbers, category frequencies of anything else."""
    ref, cur = list(reference), list(current)
    if not ref or not cur:
        raise ValueError("both windows need values")
    if all(is_number(v) for v in ref) and all(is_number(v) for v in cur):
        a, b = sorted(float(v) for v in ref), sorted(float(v) for v in cur)
        gap = 0.0
        for x in sorted(set(a) | set(b)):
            gap = max(gap, abs(bisect.bisect_right(a, x) / len(a) - bisect.bisect_right(b, x) / len(b)))
        return gap
    ca = collections.Counter(category(v) for v in ref)
    cb = collections.Counter(category(v) for v in cur)
    return max(abs(ca[k] / len(ref) - cb[k] / len(cur)) for k in set(ca) | set(cb))


def category(value: Any) -> str:
    return json.dumps(value, sort_keys=True) if not isinstance(value, str) else value


# --- reading CloudEvents --------------------------------------------------------------------------


def flatten(data: Any) -> list[Any]:
    if isinstance(data, list):
        return [item for element in data for item in flatten(element)]
    return [data]


def rows_of(body: Any, features: list[str]) -> list[dict[str, Any]]:
    """The instances of a v1 or v2 inference request as {feature: value} (watched features only)."""
    if not isinstance(body, dict):
        raise ValueError("the request body is not a JSON object")
    rows: list[dict[str, Any]] = []
    if isinstance(body.get("instances"), list):
        for instance in body["instances"]:
            if isinstance(instance, dict):
                rows.append({f: instance[f] for f in features if f in instance})
            elif isinstance(instance, list):
                rows.append(dict(zip(features, instance, strict=False)))
        return rows
    inputs = body.get("inputs")
    if not isinstance(inputs, list) or not all(isinstance(t, dict) for t in inputs):
        raise ValueError("neither v1 instances nor v2 inputs")
    named = {t.get("name"): t for t in inputs if t.get("name") in features}
    if named:  # one tensor per feature, one value per row
        columns = {name: flatten(tensor.get("data")) for name, tensor in named.items()}
        for index in range(max(len(c) for c in columns.values())):
            rows.append({name: c[index] for name, c in columns.items() if index < len(c)})
        return rows
    if not inputs:
        return rows
    tensor = inputs[0]  # one [rows, features] tensor in the declared order
    values = flatten(tensor.get("data"))
    shape = tensor.get("shape") or [len(values)]
    width = int(shape[-1]) if len(shape) > 1 else 1
    if width < 1:
        return rows
    for start in range(0, len(values) - width + 1, width):
        rows.append(dict(zip(features, values[start : start + width], strict=False)))
    return rows


def revision_of(source: str) -> str:
    """The Knative revision in the event source (a revision or pod name), else ``unknown``."""
    match = _REVISION.search(source or "")
    return match.group(1) if match else "unknown"


# --- the windows ----------------------------------------------------------------------------------


class Windows:
    """One model revision's reference and current windows, per feature."""

    def __init__(self, config: Config, baseline: dict[str, list[Any]] | None) -> None:
        self.fixed = baseline is not None
        self.reference: dict[str, list[Any]] = {f: list((baseline or {}).get(f, [])) for f in config.features}
        self.reference_rows = config.reference_size if self.fixed else 0
        self.current: dict[str, collections.deque[Any]] = {
            f: collections.deque(maxlen=config.window_size) for f in config.features
        }
        self.reference_size = config.reference_size
        self.seen = time.monotonic()

    def add(self, row: dict[str, Any]) -> None:
        target: Any = self.reference if self.reference_rows < self.reference_size else self.current
        self.reference_rows = min(self.reference_size, self.reference_rows + (target is self.reference))
        for feature, value in row.items():
            if value is not None and feature in target and (is_number(value) or not isinstance(value, float)):
                target[feature].append(value)


class Detector:
    """The shared state of both servers and the evaluation loop."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.lock = threading.Lock()
        self.models: dict[str, dict[str, Windows]] = {}
        self.samples: collections.Counter[str] = collections.Counter()
        self.rejected: collections.Counter[str] = collections.Counter()
        self.drift: dict[tuple[str, str, str], float] = {}
        self.triggers = 0
        self.trigger_errors = 0
        self.last_evaluation = 0.0
        self.baseline = self._baseline()
        self.stop = threading.Event()

    def _baseline(self) -> dict[str, list[Any]] | None:
        path = self.config.baseline_file
        if not path or not os.path.exists(path):
            return None
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
        if not isinstance(data, dict) or not all(isinstance(v, list) for v in data.values()):
            raise DetectorError("the baseline file must map feature names to lists of values")
        return {f: data.get(f, []) for f in self.config.features}

    def ingest(self, model: str, source: str, body: Any) -> int:
        rows = rows_of(body, self.config.features)
        revision = revision_of(source)
        with self.lock:
            revisions = self.models.get(model)
            if revisions is None:
                if len(self.models) >= MAX_MODELS:
                    raise ValueError(f"more than {MAX_MODELS} models")
                revisions = self.models[model] = {}
            windows = revisions.get(revision)
            if windows is None:
                if len(revisions) >= REVISIONS_PER_MODEL:  # forget the revision heard from least recently
                    oldest = min(revisions, key=lambda r: revisions[r].seen)
                    del revisions[oldest]
                    self.drift = {k: v for k, v in self.drift.items() if k[:2] != (model, oldest)}
                windows = revisions[revision] = Windows(self.config, self.baseline)
            windows.seen = time.monotonic()
            for row in rows:
                windows.add(row)
            self.samples[model] += len(rows)
        return len(rows)

    def measure(self) -> dict[tuple[str, str, str], float]:
        """Drift per (model, revision, feature) whose windows both hold MIN_SAMPLES values."""
        need = self.config.min_samples
        with self.lock:
            pairs = [
                ((model, revision, feature), list(w.reference[feature]), list(w.current[feature]))
                for model, revisions in self.models.items()
                for revision, w in revisions.items()
                for feature in self.config.features
            ]
        drift: dict[tuple[str, str, str], float] = {}
        for key, reference, current in pairs:
            if len(reference) >= need and len(current) >= need:
                try:
                    drift[key] = distance(reference, current)
                except (ValueError, TypeError):
                    continue
        with self.lock:
            self.drift = drift
        return drift

    def evaluate(self, kube: Kubernetes, now: float) -> str:
        """Measure, then start retraining on a breach (at most once per cooldown). Returns the decision."""
        c = self.config
        drift = self.measure()
        self.last_evaluation = now
        breaches = {
            f"{m}/{r}/{f}": round(v, 4)
            for (m, r, f), v in drift.items()
            if v > c.feature_thresholds.get(f, c.threshold)
        }
        base = {"namespace": c.namespace, "measured": len(drift), "threshold": c.threshold}
        if not breaches:
            log("none", reason="no feature above the threshold", **base)
            return "none"
        if not c.retrain:
            log("alert-only", reason="drift, but retrain_on_drift is off", drift=breaches, **base)
            return "alert-only"
        try:
            decision = self._retrain(kube, now, breaches, base)
        except DetectorError as error:
            self.trigger_errors += 1
            log("error", reason=str(error), drift=breaches, **base)
            return "error"
        return decision

    def _retrain(self, kube: Kubernetes, now: float, breaches: dict[str, float], base: dict[str, Any]) -> str:
        c = self.config
        state = kube.state()
        last = state.get("lastTriggered")
        if isinstance(last, (int, float)) and now - last < c.cooldown_seconds:
            left = c.cooldown_seconds - (now - last)
            log(
                "cooldown",
                reason=f"retrained {state.get('run')} {now - last:.0f} s ago; {left:.0f} s left",
                drift=breaches,
                **base,
            )
            return "cooldown"
        run = run_name(c.trigger_name, now, c.cooldown_seconds)
        created = kube.start_run(run)
        record = {"lastTriggered": now, "run": run, "kind": c.trigger_kind, "drift": breaches}
        kube.save_state(record)
        self.triggers += created
        log("retrain", reason="drift above the threshold", run=run, created=bool(created), drift=breaches, **base)
        return "retrain"

    def metrics(self) -> str:
        c = self.config
        ns = escape(c.namespace)
        lines = [
            f"# HELP {c.drift_metric} L-infinity distance (0-1) between a feature's reference and current window.",
            f"# TYPE {c.drift_metric} gauge",
        ]
        with self.lock:
            drift = dict(self.drift)
            samples = dict(self.samples)
            rejected = dict(self.rejected)
            references = {
                (m, r): w.reference_rows for m, revisions in self.models.items() for r, w in revisions.items()
            }
        for (model, revision, feature), value in sorted(drift.items()):
            labels = (
                f'namespace="{ns}",model="{escape(model)}",revision="{escape(revision)}",feature="{escape(feature)}"'
            )
            lines.append(f"{c.drift_metric}{{{labels}}} {value:.6g}")
        lines += [
            "# HELP mlops_drift_samples_total Instances read from inference requests.",
            "# TYPE mlops_drift_samples_total counter",
        ]
        lines += [
            f'mlops_drift_samples_total{{namespace="{ns}",model="{escape(m)}"}} {n}' for m, n in sorted(samples.items())
        ]
        lines += [
            "# HELP mlops_drift_reference_instances Instances in the reference window.",
            "# TYPE mlops_drift_reference_instances gauge",
        ]
        lines += [
            f'mlops_drift_reference_instances{{namespace="{ns}",model="{escape(m)}",revision="{escape(r)}"}} {n}'
            for (m, r), n in sorted(references.items())
        ]
        lines += [
            "# HELP mlops_drift_events_rejected_total Events that could not be read.",
            "# TYPE mlops_drift_events_rejected_total counter",
        ]
        lines += [f'mlops_drift_events_rejected_total{{reason="{r}"}} {n}' for r, n in sorted(rejected.items())]
        lines += [
            "# TYPE mlops_drift_retrain_triggers_total counter",
            f"mlops_drift_retrain_triggers_total {self.triggers}",
            "# TYPE mlops_drift_retrain_errors_total counter",
            f"mlops_drift_retrain_errors_total {self.trigger_errors}",
            "# TYPE mlops_drift_last_evaluation_timestamp_seconds gauge",
            f"mlops_drift_last_evaluation_timestamp_seconds {self.last_evaluation:.0f}",
        ]
        return "\n".join(lines) + "\n"


def escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def run_name(trigger: str, now: float, cooldown_seconds: int) -> str:
    """A run name per cooldown period: a retried creation meets its own earlier run (409), not a twin."""
    return f"{trigger[:48].rstrip('-')}-d{int(now // cooldown_seconds)}"


# --- the Kubernetes API ---------------------------------------------------------------------------


class Kubernetes:
    """JSON requests with the pod's projected token (re-read each call: it rotates), verified by the cluster CA."""

    def __init__(self, config: Config) -> None:
        self.config = config

    def request(self, method: str, path: str, body: dict[str, Any] | None = None, patch: bool = False) -> Any:
        c = self.config
        try:
            with open(c.token_path, encoding="utf-8") as handle:
                token = handle.read().strip()
            context = ssl.create_default_context(cafile=c.ca_path) if c.api_url.startswith("https") else None
        except (OSError, ssl.SSLError) as error:
            raise DetectorError(f"cannot read the API credentials: {error}") from error
        url = f"{c.api_url}{path}"
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/merge-patch+json" if patch else "application/json"
            url += f"?fieldManager={FIELD_MANAGER}"
        req = urllib.request.Request(url, data=data, method=method, headers=headers)  # noqa: S310 - https or test http
        try:
            with urllib.request.urlopen(req, timeout=TIMEOUT_SECONDS, context=context) as response:  # noqa: S310
                return json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as error:
            raise ApiStatusError(error.code, f"Kubernetes API {method} {path}: HTTP {error.code}") from error
        except (urllib.error.URLError, OSError, ValueError) as error:
            raise DetectorError(f"Kubernetes API {method} {path}: {error}") from error

    def state_path(self) -> str:
        c = self.config
        return f"/api/v1/namespaces/{c.namespace}/configmaps/{c.state_config_map}"

    def state(self) -> dict[str, Any]:
        data = (self.request("GET", self.state_path()).get("data") or {}).get(STATE_KEY) or "{}"
        try:
            state = json.loads(data)
        except ValueError:
            return {}
        return state if isinstance(state, dict) else {}

    def save_state(self, record: dict[str, Any]) -> None:
        self.request("PATCH", self.state_path(), {"data": {STATE_KEY: json.dumps(record, sort_keys=True)}}, patch=True)

    def start_run(self, name: str) -> int:
        """Create the run; 1 when created, 0 when it already existed (an earlier try got through)."""
        c = self.config
        labels = {"app.kubernetes.io/managed-by": "mlops-drift-detector", "mlops-infra/trigger": "drift"}
        if c.trigger_kind == "workflowtemplate":
            path = f"/apis/argoproj.io/v1alpha1/namespaces/{c.namespace}/workflows"
            body: dict[str, Any] = {
                "apiVersion": "argoproj.io/v1alpha1",
                "kind": "Workflow",
                "metadata": {"name": name, "namespace": c.namespace, "labels": labels},
                "spec": {"workflowTemplateRef": {"name": c.trigger_name}},
            }
        else:
            cron = self.request("GET", f"/apis/batch/v1/namespaces/{c.namespace}/cronjobs/{c.trigger_name}")
            template = (cron.get("spec") or {}).get("jobTemplate") or {}
            if not template.get("spec"):
                raise DetectorError(f"cronjob/{c.trigger_name} has no job template")
            meta = template.get("metadata") or {}
            path = f"/apis/batch/v1/namespaces/{c.namespace}/jobs"
            body = {
                "apiVersion": "batch/v1",
                "kind": "Job",
                "metadata": {
                    "name": name,
                    "namespace": c.namespace,
                    "labels": {**(meta.get("labels") or {}), **labels},
                    # what `kubectl create job --from=cronjob/...` marks its Jobs with
                    "annotations": {**(meta.get("annotations") or {}), "cronjob.kubernetes.io/instantiate": "manual"},
                },
                "spec": template["spec"],
            }
        try:
            self.request("POST", path, body)
        except ApiStatusError as error:
            if error.status == 409:
                return 0
            raise
        return 1


class ApiStatusError(DetectorError):
    """The API answered with an HTTP error status."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


# --- the servers ----------------------------------------------------------------------------------


def _ingest_handler(detector: Detector) -> type[BaseHTTPRequestHandler]:
    class Ingest(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def _reply(self, status: int, message: str = "") -> None:
            data = message.encode()
            self.send_response(status)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _reject(self, status: int, reason: str) -> None:
            with detector.lock:
                detector.rejected[reason] += 1
            self._reply(status, reason)

        def do_GET(self) -> None:
            self._reply(200, "ok") if self.path in ("/healthz", "/readyz") else self._reply(404)

        def do_POST(self) -> None:
            declared = self.headers.get("Content-Length") or ""
            length = int(declared) if declared.isdigit() else -1
            if length < 0:
                self._reject(411, "no-length")
                return
            if length > detector.config.max_body_bytes:
                self._reject(413, "too-large")
                return
            raw = self.rfile.read(length)
            try:
                body = json.loads(raw or b"null")
            except ValueError:
                self._reject(400, "not-json")
                return
            headers = {k.lower(): v for k, v in self.headers.items()}
            if (headers.get("content-type") or "").startswith("application/cloudevents+json") and isinstance(
                body, dict
            ):
                headers |= {f"ce-{k}".lower(): str(v) for k, v in body.items() if k != "data"}
                body = body.get("data")
            if headers.get("ce-type") != REQUEST_TYPE:
                self._reply(202, "ignored")  # responses and other events: nothing to measure
                return
            model = headers.get("ce-inferenceservicename") or ""
            if not _DNS_LABEL.fullmatch(model):
                self._reject(400, "no-model")
                return
            try:
                detector.ingest(model, headers.get("ce-source") or "", body)
            except ValueError:
                self._reject(400, "unreadable")
                return
            self._reply(202, "accepted")

    return Ingest


def _metrics_handler(detector: Detector) -> type[BaseHTTPRequestHandler]:
    class Metrics(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            if self.path.split("?")[0] not in ("/metrics", "/healthz"):
                self.send_response(404)
                self.end_headers()
                return
            data = (detector.metrics() if self.path.startswith("/metrics") else "ok").encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return Metrics


def start(detector: Detector) -> list[ThreadingHTTPServer]:
    """Both servers, serving on daemon threads."""
    c = detector.config
    servers = [
        ThreadingHTTPServer((c.bind, c.ingest_port), _ingest_handler(detector)),
        ThreadingHTTPServer((c.bind, c.metrics_port), _metrics_handler(detector)),
    ]
    for server in servers:
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True).start()
    return servers


def main() -> int:
    try:
        config = Config()
        detector = Detector(config)
    except (DetectorError, OSError, ValueError) as error:
        log("error", reason=f"cannot start: {error}")
        return 1
    servers = start(detector)
    signal.signal(signal.SIGTERM, lambda *_: detector.stop.set())
    kube = Kubernetes(config)
    log("started", namespace=config.namespace, features=config.features, retrain=config.retrain)
    while not detector.stop.wait(config.evaluation_seconds):
        try:
            detector.evaluate(kube, time.time())
        except Exception as error:  # noqa: BLE001 - the server outlives any evaluation
            log("error", reason=f"evaluation failed: {error}")
    for server in servers:
        server.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
