"""Every examples/gcp program runs offline in dev and in prod and builds what it says."""

from pathlib import Path

import pytest

from mlops_infra.conventions import STATEFUL_TYPES
from mlops_infra.engine import run_program
from mlops_infra.policy.evaluate import evaluate_stack
from mlops_infra.policy.model import Enforcement
from mlops_infra.testing import required_tags_present

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "gcp"

# example -> (main resource type, output that must be set)
EXPECTED = {
    "budget.py": ("gcp:billing/budget:Budget", "budget"),
    "platform_key.py": ("gcp:kms/cryptoKey:CryptoKey", "keyName"),
    "secure_bucket.py": ("gcp:storage/bucket:Bucket", "bucketUrl"),
    "feature_store.py": ("gcp:vertex/aiFeatureOnlineStore:AiFeatureOnlineStore", "offlineDataset"),
    "training_pipeline.py": ("gcp:cloudscheduler/job:Job", "pipelineRoot"),
    "model_registry.py": ("pulumi-python:dynamic/vertex:VertexModel", "churnModel"),
    "endpoint.py": ("pulumi-python:dynamic/vertex:VertexModelDeployment", "endpoint"),
    "platform.py": ("mlops-infra:index:MlPlatform", "platform"),
    "ab_challenger.py": ("pulumi-python:dynamic/vertex:VertexModelDeployment", "platform"),
    "batch_inference.py": ("mlops-infra:gcp:BatchPrediction", "platform"),
    "batch_prediction.py": ("gcp:workflows/workflow:Workflow", "workflow"),
    "experiment_tracking.py": ("gcp:vertex/aiTensorboard:AiTensorboard", "tensorboard"),
    "audit_logs.py": ("gcp:projects/iAMAuditConfig:IAMAuditConfig", "auditedServices"),
    "airflow_training.py": ("gcp:composer/environment:Environment", "dagObject"),
    "off_hours.py": ("mlops-infra:index:MlPlatform", "platform"),
}


def test_every_example_is_covered():
    assert {p.name for p in EXAMPLES.glob("*.py")} == set(EXPECTED)


@pytest.mark.parametrize("environment", ["dev", "prod"])
@pytest.mark.parametrize("example", sorted(EXPECTED))
def test_example_runs(example, environment):
    overrides = [] if environment == "dev" else ["environment=prod"]
    stack = run_program(EXAMPLES / example, "dev", overrides)
    token, output = EXPECTED[example]
    assert stack.by_type(token), token
    assert stack.outputs[output]
    assert required_tags_present(stack) == []
    budget = stack.by_type("gcp:billing/budget:Budget")
    assert len(budget) == 1 and budget[0].inputs["thresholdRules"]  # every example declares a budget
    # A budget and a project's audit configs take no labels and hold no state.
    if example in ("budget.py", "audit_logs.py"):
        return
    # A notification channel's `labels` configure it (email_address); its resource labels are `userLabels`.
    channel = "gcp:monitoring/notificationChannel:NotificationChannel"
    labelled = [r for r in stack.resources if isinstance(r.inputs.get("labels"), dict) and r.type != channel]
    assert all(c.inputs["userLabels"]["environment"] == environment for c in stack.by_type(channel))
    assert labelled and all(r.inputs["labels"]["environment"] == environment for r in labelled)
    stateful = [r for r in stack.resources if r.type in STATEFUL_TYPES]
    assert stateful and all(r.protect == (environment == "prod") for r in stateful)


@pytest.mark.parametrize("example", sorted(EXPECTED))
def test_examples_pass_our_policies(example):
    # environment is passed as config: the policies cannot yet see init_platform's default (reported).
    for overrides in (["environment=dev"], ["environment=prod"]):
        stack = run_program(EXAMPLES / example, "dev", overrides)
        mandatory = [v for v in evaluate_stack(stack) if v.enforcement is Enforcement.MANDATORY]
        assert mandatory == [], (overrides, mandatory)


def test_the_serving_mode_examples_build_their_mode():
    ab = run_program(EXAMPLES / "ab_challenger.py", "dev", ["environment=prod"])
    [deployment] = ab.by_type("pulumi-python:dynamic/vertex:VertexModelDeployment")
    assert deployment.inputs["traffic_steps"] == [{"primary": 90, "challenger": 10}]
    assert [d["key"] for d in deployment.inputs["deployments"]] == ["primary", "challenger"]
    batch = run_program(EXAMPLES / "batch_inference.py", "dev", ["environment=prod"])
    [job] = [j for j in batch.by_type("gcp:cloudscheduler/job:Job") if j.name == "gcp-batch-nightly-schedule"]
    assert (job.inputs["schedule"], job.inputs["timeZone"]) == ("0 2 * * *", "Europe/Berlin")
    [workflow] = [w for w in batch.by_type("gcp:workflows/workflow:Workflow") if w.name == "gcp-batch-nightly-workflow"]
    assert '"kmsKeyName": "projects/' in workflow.inputs["sourceContents"]
    assert "sys.now() + 7200" in workflow.inputs["sourceContents"]


def test_the_off_hours_example_schedules_dev_only():
    dev = run_program(EXAMPLES / "off_hours.py", "dev", [])
    jobs = {j.name: j.inputs for j in dev.by_type("gcp:cloudscheduler/job:Job") if j.name.startswith("gcp-off-hours")}
    assert {(j["schedule"], j["timeZone"]) for j in jobs.values()} == {
        ("0 20 * * 1-5", "Europe/Berlin"),
        ("0 7 * * 1-5", "Europe/Berlin"),
    }
    assert dev.by_type("mlops-infra:gcp:OffHours")
    prod = run_program(EXAMPLES / "off_hours.py", "dev", ["environment=prod"])
    assert not prod.by_type("mlops-infra:gcp:OffHours")
