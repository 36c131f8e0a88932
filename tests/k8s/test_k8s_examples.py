"""Every examples/k8s program runs offline in dev and prod and renders a hardened, valid platform part."""

import pytest
from k8s_checks import secret_leaks, stack_hardening_problems, validate_core, validate_custom

from mlops_infra.engine import run_program
from mlops_infra.testing import required_tags_present

EXAMPLES = {
    "tenancy": "kubernetes:core/v1:ResourceQuota",
    "feature_store": "kubernetes:apps/v1:StatefulSet",
    "training_pipeline": "kubernetes:argoproj.io/v1alpha1:CronWorkflow",
    "kubeflow_training": "kubernetes:kubeflow.org/v1beta1:ScheduledWorkflow",
    "model_registry": "kubernetes:apps/v1:Deployment",
    "endpoint": "kubernetes:serving.kserve.io/v1beta1:InferenceService",
    "monitoring": "kubernetes:monitoring.coreos.com/v1:PrometheusRule",
    "alert_routing": "kubernetes:monitoring.coreos.com/v1alpha1:AlertmanagerConfig",
    "seldon_endpoint": "kubernetes:mlops.seldon.io/v1alpha1:Experiment",
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


def test_endpoint_example_closes_the_operations_loop():
    """Capture sink, drift alert on what the detector exports, guard in prod only, alerts routed."""
    for environment in ("dev", "prod"):
        stack = run_program("examples/k8s/endpoint.py", "dev", [f"environment={environment}"])
        (isvc,) = stack.by_type(EXAMPLES["endpoint"])
        (detector,) = stack.by_type("mlops-infra:k8s:DriftDetector")
        (service,) = [s for s in stack.by_type("kubernetes:core/v1:Service") if s.parent == detector.urn]
        name = service.inputs["metadata"]["name"]
        logger = isvc.inputs["spec"]["predictor"]["logger"]
        assert logger["url"] == f"http://{name}.churn-ml.svc.cluster.local:8080/"
        (deployment,) = [d for d in stack.by_type("kubernetes:apps/v1:Deployment") if d.parent == detector.urn]
        env = {e["name"]: e.get("value") for e in deployment.inputs["spec"]["template"]["spec"]["containers"][0]["env"]}
        rules = {
            r["alert"]: r
            for rule in stack.by_type("kubernetes:monitoring.coreos.com/v1:PrometheusRule")
            for r in rule.inputs["spec"]["groups"][0]["rules"]
        }
        drift = rules["EndpointFeatureDrift"]["expr"]
        assert env["DRIFT_METRIC"] == "model_feature_drift_score" and "model_feature_drift_score{" in drift
        assert env["FEATURE_THRESHOLDS"] == '{"monthly_charges": 0.15}' and env["THRESHOLD"] == "0.25"
        assert 'feature="monthly_charges"}) > 0.15' in drift and drift.endswith("> 0.25")
        assert all(r["labels"]["namespace"] == "churn-ml" for r in rules.values())  # routable
        (config,) = stack.by_type("kubernetes:monitoring.coreos.com/v1alpha1:AlertmanagerConfig")
        assert config.inputs["metadata"]["namespace"] == "churn-ml"
        guards = stack.by_type("mlops-infra:k8s:CanaryGuard")
        assert len(guards) == (environment == "prod")
        if guards:
            (cron,) = [c for c in stack.by_type("kubernetes:batch/v1:CronJob") if c.parent == guards[0].urn]
            annotations = cron.inputs["metadata"]["annotations"]
            assert annotations["mlops-infra/guards-inference-services"] == isvc.inputs["metadata"]["name"]


def test_training_example_registers_only_through_the_gate():
    stack = run_program("examples/k8s/training_pipeline.py", "dev", ["environment=prod"])
    (template,) = stack.by_type("kubernetes:argoproj.io/v1alpha1:WorkflowTemplate")
    spec = template.inputs["spec"]
    assert spec["entrypoint"] == "train-evaluate-register"
    (steps,) = [t for t in spec["templates"] if t["name"] == "train-evaluate-register"]
    assert [s[0]["name"] for s in steps["steps"]] == ["train", "evaluate", "register"]
    assert steps["steps"][2][0]["when"] == "{{steps.evaluate.outputs.parameters.metric}} >= 0.8"
