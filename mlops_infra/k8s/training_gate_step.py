"""The evaluate and register steps of the Kubernetes training gate (standard library only).

Shipped as ``python3 -c <this source> evaluate|register`` in the WorkflowTemplate's gate steps
(:mod:`mlops_infra.k8s.training_pipeline`); it talks to MLflow's REST API (``/api/2.0/mlflow``).

- ``evaluate``: reads ``RUN_ID``'s metric ``GATE_METRIC`` from MLflow (``runs/get``) and writes it to
  ``OUTPUT_FILE`` (the step's output parameter the ``register`` step's ``when`` compares). A run
  without the metric fails the step: no metric, no registration.
- ``register``: creates the registered model ``REGISTERED_MODEL`` if missing, a version from the
  run's ``MODEL_ARTIFACT_PATH`` (tagged with the gate metric), and with ``APPROVAL_MODE=automatic`` points
  ``APPROVED_ALIAS`` at it; otherwise the version waits for a model approver.
"""

from __future__ import annotations

import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

TIMEOUT_SECONDS = 30


def _call(method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    base = os.environ["MLFLOW_TRACKING_URI"].rstrip("/")
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(  # noqa: S310 - the in-cluster tracking URI (http)
        f"{base}/api/2.0/mlflow/{path}", data=data, method=method, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
        result: dict[str, Any] = json.loads(response.read() or b"{}")
        return result


def _run(run_id: str) -> dict[str, Any]:
    run: dict[str, Any] = _call("GET", "runs/get?" + urllib.parse.urlencode({"run_id": run_id}))["run"]
    return run


def evaluate() -> float:
    """The gate metric of ``RUN_ID``, written to ``OUTPUT_FILE``."""
    metric = os.environ["GATE_METRIC"]
    metrics = {m["key"]: float(m["value"]) for m in _run(os.environ["RUN_ID"])["data"].get("metrics", [])}
    if metric not in metrics:
        raise SystemExit(f"run {os.environ['RUN_ID']} logged no metric {metric!r}: the gate cannot pass")
    value = metrics[metric]
    with open(os.environ["OUTPUT_FILE"], "w", encoding="utf-8") as out:
        out.write(repr(value))
    print(f"{metric}={value!r}")
    return value


def register() -> str:
    """Register the run's model as a new version; the approved alias too in auto approval. Returns the version."""
    name, run_id = os.environ["REGISTERED_MODEL"], os.environ["RUN_ID"]
    try:
        _call("POST", "registered-models/create", {"name": name})
    except urllib.error.HTTPError as error:
        if error.code != 400 or b"RESOURCE_ALREADY_EXISTS" not in error.read():
            raise
    source = f"{_run(run_id)['info']['artifact_uri'].rstrip('/')}/{os.environ.get('MODEL_ARTIFACT_PATH', 'model')}"
    tags = [{"key": f"gate.{os.environ['GATE_METRIC']}", "value": os.environ["GATE_VALUE"]}]
    created = _call("POST", "model-versions/create", {"name": name, "source": source, "run_id": run_id, "tags": tags})
    version = str(created["model_version"]["version"])
    if os.environ.get("APPROVAL_MODE") == "automatic":
        alias = os.environ["APPROVED_ALIAS"]
        _call("POST", "registered-models/alias", {"name": name, "alias": alias, "version": version})
    print(f"registered {name} version {version}")
    return version


if __name__ == "__main__":
    {"evaluate": evaluate, "register": register}[sys.argv[1]]()
