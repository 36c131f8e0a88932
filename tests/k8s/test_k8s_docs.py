"""The Kubernetes component pages (docs/components/k8s-*.md) document every arg and keep a runnable example."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from pydantic import BaseModel

from mlops_infra.k8s.alert_routing import AlertRoutingArgs, PagerDutyReceiver, SlackReceiver
from mlops_infra.k8s.batch_inference import BatchInferenceArgs
from mlops_infra.k8s.canary_guard import CanaryGuardArgs
from mlops_infra.k8s.drift_detector import DriftDetectorArgs
from mlops_infra.k8s.endpoint import EndpointArgs
from mlops_infra.k8s.kubeflow_pipeline import KubeflowTrainingPipelineArgs
from mlops_infra.k8s.monitoring import MonitoringArgs
from mlops_infra.k8s.prerequisites import ClusterPrerequisitesArgs
from mlops_infra.k8s.seldon import SeldonChallenger, SeldonEndpointArgs
from mlops_infra.k8s.storage_class import EncryptedStorageClassArgs
from mlops_infra.k8s.traffic_router import TrafficRouterArgs
from mlops_infra.k8s.training_pipeline import SecretRef, TrainingGate, TrainingPipelineArgs

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs" / "components"
PAGES: dict[str, list[type[BaseModel]]] = {
    "k8s-alert-routing.md": [AlertRoutingArgs, PagerDutyReceiver, SlackReceiver],
    "k8s-batch-inference.md": [BatchInferenceArgs],
    "k8s-canary-guard.md": [CanaryGuardArgs],
    "k8s-cluster-prerequisites.md": [ClusterPrerequisitesArgs],
    "k8s-drift-detector.md": [DriftDetectorArgs],
    "k8s-encrypted-storage-class.md": [EncryptedStorageClassArgs],
    "k8s-endpoint.md": [EndpointArgs],
    "k8s-kubeflow-training-pipeline.md": [KubeflowTrainingPipelineArgs],
    "k8s-monitoring.md": [MonitoringArgs],
    "k8s-seldon.md": [SeldonEndpointArgs, SeldonChallenger],
    "k8s-traffic-router.md": [TrafficRouterArgs],
    "k8s-training-pipeline.md": [TrainingPipelineArgs, TrainingGate, SecretRef],
}
# A field is documented when its name appears as `code` or as a "quoted" key of an example.
_NAMES = re.compile(r"`([a-z_][a-z0-9_.]*)`|\"([a-z_][a-z0-9_]*)\"")
_EXAMPLE = re.compile(r"\]\(\.\./\.\./(examples/k8s/[a-z_]+\.py)\)")
_PYTHON = re.compile(r"```python\n(.*?)```", re.DOTALL)


def text(page: str) -> str:
    return (DOCS / page).read_text(encoding="utf-8")


@pytest.mark.parametrize(("page", "models"), PAGES.items(), ids=list(PAGES))
def test_every_args_field_is_documented(page, models):
    names: set[str] = set()
    for code, quoted in _NAMES.findall(text(page)):
        names.update((code or quoted).split("."))
    missing = {m.__name__: [f for f in m.model_fields if f not in names] for m in models}
    assert {model: fields for model, fields in missing.items() if fields} == {}


@pytest.mark.parametrize("page", sorted(PAGES))
def test_page_links_a_shipped_example_and_its_snippets_are_python(page):
    """The linked example runs in dev and prod (tests/k8s/test_k8s_examples.py, tests/examples)."""
    examples = _EXAMPLE.findall(text(page))
    assert examples, f"{page} links no examples/k8s program"
    assert all((ROOT / example).is_file() for example in examples)
    for snippet in _PYTHON.findall(text(page)):
        ast.parse(snippet)


def test_operations_loop_pieces_are_documented():
    assert "`pagerdutyIntegrationKey`" in text("k8s-alert-routing.md")
    assert "`slackWebhookUrl`" in text("k8s-alert-routing.md")
    assert "SecretKeySelector" in text("k8s-alert-routing.md")
    assert "mlops-infra/guards-inference-services" in text("k8s-canary-guard.md")
    assert "FEATURE_THRESHOLDS" in text("k8s-drift-detector.md")
    assert "`drift_feature_thresholds`" in text("k8s-monitoring.md")
    assert "train → evaluate → register" in text("k8s-training-pipeline.md")
    # Seldon Core v2's licence is stated with the version it changed in, so users choose knowingly.
    for fact in ("Business Source License 1.1", "v2.7.0", "commercial licence", "non-profit educational"):
        assert fact in text("k8s-seldon.md")
    assert "MLOPS_SHARD_INDEX" in text("k8s-batch-inference.md") and "RequestMirror" in text("k8s-traffic-router.md")
    for panel in ("Invocations (requests/s)", "Feature drift", "Namespace spend (USD/month, OpenCost)"):
        assert panel in text("k8s-monitoring.md")
