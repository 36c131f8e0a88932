"""Every examples/k8s program runs offline in dev and prod and renders a hardened, valid platform part."""

import pytest
from k8s_checks import secret_leaks, stack_hardening_problems, validate_core, validate_custom

from mlops_infra.engine import run_program
from mlops_infra.testing import required_tags_present

EXAMPLES = {
    "tenancy": "kubernetes:core/v1:ResourceQuota",
    "feature_store": "kubernetes:apps/v1:StatefulSet",
    "training_pipeline": "kubernetes:argoproj.io/v1alpha1:CronWorkflow",
    "model_registry": "kubernetes:apps/v1:Deployment",
    "endpoint": "kubernetes:serving.kserve.io/v1beta1:InferenceService",
    "monitoring": "kubernetes:monitoring.coreos.com/v1:PrometheusRule",
    "alert_routing": "kubernetes:monitoring.coreos.com/v1alpha1:AlertmanagerConfig",
}


@pytest.mark.parametrize("environment", ["dev", "prod"])
@pytest.mark.parametrize("example", sorted(EXAMPLES))
def test_example_runs(example, environment):
    stack = run_program(f"examples/k8s/{example}.py", "dev", [f"environment={environment}"])
    assert stack.by_type(EXAMPLES[example])
    assert stack.environment() == environment
    assert required_tags_present(stack) == []
    assert validate_core(stack, "1.33.0") == []
    assert validate_custom(stack) == []
    assert stack_hardening_problems(stack) == []
    assert secret_leaks(stack) == []
    assert stack.outputs
    for claim in stack.by_type("kubernetes:core/v1:PersistentVolumeClaim"):
        assert claim.protect == (environment == "prod")


def test_endpoint_example_differs_by_environment():
    dev = run_program("examples/k8s/endpoint.py", "dev", [])
    prod = run_program("examples/k8s/endpoint.py", "dev", ["environment=prod"])
    kind = EXAMPLES["endpoint"]
    assert dev.by_type(kind)[0].inputs["spec"]["predictor"]["minReplicas"] == 0
    prod_predictor = prod.by_type(kind)[0].inputs["spec"]["predictor"]
    assert prod_predictor["minReplicas"] == 2 and prod_predictor["canaryTrafficPercent"] == 10


def test_training_example_without_argo_uses_cron_jobs():
    stack = run_program("examples/k8s/training_pipeline.py", "dev", ["argoEnabled=false"])
    assert len(stack.by_type("kubernetes:batch/v1:CronJob")) == 2
    assert stack.outputs["trigger"] == "cronjob/training-pipeline-dev-training-on-demand"  # project = file stem
