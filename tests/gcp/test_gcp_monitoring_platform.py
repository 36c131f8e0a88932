"""The platform spec's ``gcp.drift_engine: vertex_model_monitoring``: the shipped platform.yaml realized with it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pulumi
import pytest
import yaml

from mlops_infra.engine import ProgramError
from mlops_infra.engine.captured import CapturedStack
from mlops_infra.platform import MlPlatform
from mlops_infra.policy.evaluate import evaluate_stack
from mlops_infra.spec.load import deep_merge
from mlops_infra.testing import one, plan

SPEC_FILE = Path(__file__).resolve().parents[2] / "stacks" / "platform" / "platform.yaml"
CONFIG = {"gcp:project": "acme-churn", "gcp:region": "europe-west4"}
GCP = {"billing_account": "01A2B3-C4D5E6-F7A8B9", "group_domain": "example.com"}
JOB = "pulumi-python:dynamic/vertex:VertexModelMonitoringJob"


def realize(environment: str, **overrides: Any) -> CapturedStack:
    document = yaml.safe_load(SPEC_FILE.read_text(encoding="utf-8"))
    base = {"clouds": ["gcp"], "gcp": {**GCP, "drift_engine": "vertex_model_monitoring"}}
    spec = deep_merge(document, deep_merge(base, overrides))
    return plan(
        lambda: pulumi.export("platform", MlPlatform("churn", spec).outputs), environment=environment, config=CONFIG
    )


@pytest.fixture(scope="module")
def prod() -> CapturedStack:
    return realize(
        "prod",
        monitoring={"drift": {"feature_thresholds": {"tenure_months": 0.35}, "schedule": {"cron": "0 */3 * * *"}}},
    )


def test_the_serving_endpoint_gets_a_monitoring_job_instead_of_a_scheduled_query(prod):
    job = one(prod, JOB).inputs
    endpoint = one(prod, "gcp:vertex/aiEndpoint:AiEndpoint").inputs
    assert job["endpoint"] == f"projects/acme-churn/locations/europe-west4/endpoints/{endpoint['name']}"
    assert job["monitor_interval_hours"] == 3  # from monitoring.drift.schedule
    assert job["feature_thresholds"] == {"tenure_months": 0.35, "monthly_charges": 0.2, "contract_type": 0.2}
    assert job["default_threshold"] == 0.2
    assert job["baseline_table"].startswith("acme-churn.") and job["baseline_table"].endswith(".customer_profile")
    key = "projects/acme-churn/locations/europe-west4/keyRings/churn-prod-gcp-key/cryptoKeys/churn-prod-gcp-key"
    assert job["kms_key_name"] == key
    deployment = one(prod, "pulumi-python:dynamic/vertex:VertexModelDeployment")
    assert deployment.urn in one(prod, JOB).dependencies  # the deployed model ids come from the rollout
    assert [j.name for j in prod.by_type("gcp:cloudscheduler/job:Job") if "drift" in j.name] == []
    (topic,) = (t.inputs for t in prod.by_type("gcp:pubsub/topic:Topic") if t.name == "gcp-drift-anomalies")
    assert topic["kmsKeyName"] == key
    (trigger,) = (t.inputs for t in prod.by_type("gcp:eventarc/trigger:Trigger") if t.name == "gcp-drift-trigger")
    workflow = [w for w in prod.by_type("gcp:workflows/workflow:Workflow") if w.name == "gcp-drift-workflow"]
    retrain = json.loads(workflow[0].inputs["sourceContents"])["main"]["steps"][2]["retrain"]["args"]["body"]
    assert retrain["encryptionSpec"] == {"kmsKeyName": key}
    assert trigger["destination"]["workflow"].endswith(f"/workflows/{workflow[0].inputs['name']}")


def test_prod_passes_monitoring_required_with_the_vertex_engine(prod):
    assert [v for v in evaluate_stack(prod) if v.policy_id == "monitoring-required" and not v.note] == []


def test_a_cron_vertex_cannot_run_is_refused_naming_the_schedule():
    with pytest.raises(ProgramError, match=r"monitoring\.drift\.schedule[\s\S]*every N hours") as info:
        realize("prod", monitoring={"drift": {"schedule": {"cron": "30 2 * * 1"}}})
    assert info.value.registered == []
