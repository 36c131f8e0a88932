"""TrainingPipeline: Argo CronWorkflow + WorkflowTemplate, or CronJobs; schedule, limits, GPUs."""

import pydantic
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from k8s_checks import stack_hardening_problems
from k8s_samples import training_args

from mlops_infra.engine import ProgramError
from mlops_infra.k8s import TrainingPipeline, TrainingPipelineArgs
from mlops_infra.spec import Schedule
from mlops_infra.testing import one, plan, required_tags_present

CRON_WORKFLOW = "kubernetes:argoproj.io/v1alpha1:CronWorkflow"
WORKFLOW_TEMPLATE = "kubernetes:argoproj.io/v1alpha1:WorkflowTemplate"


@pytest.fixture(scope="module")
def argo():
    return plan(
        lambda: TrainingPipeline(
            "training", training_args(argo_enabled=True, backoff_limit=3, active_deadline_seconds=7200)
        ),
        environment="prod",
    )


@pytest.fixture(scope="module")
def cron():
    return plan(
        lambda: TrainingPipeline("training", training_args(resources={"gpus": 2}, failed_history_limit=2)),
        environment="prod",
    )


def test_cron_workflow_schedule_and_limits(argo):
    spec = one(argo, CRON_WORKFLOW).inputs["spec"]
    assert spec["schedules"] == ["0 3 * * 1"] and spec["timezone"] == "Europe/Berlin"
    assert spec["concurrencyPolicy"] == "Forbid"
    assert spec["startingDeadlineSeconds"] == 600
    assert (spec["successfulJobsHistoryLimit"], spec["failedJobsHistoryLimit"]) == (3, 5)
    assert spec["workflowSpec"] == {"workflowTemplateRef": {"name": "churn-prod-training"}}
    assert not argo.by_type("kubernetes:batch/v1:CronJob")


def test_workflow_template_retries_deadline_and_gpu(argo):
    spec = one(argo, WORKFLOW_TEMPLATE).inputs["spec"]
    assert spec["activeDeadlineSeconds"] == 7200
    (step,) = spec["templates"]
    assert step["retryStrategy"] == {"limit": "3", "retryPolicy": "OnFailure"}
    assert step["container"]["resources"]["limits"]["nvidia.com/gpu"] == "1"
    assert step["tolerations"][0]["key"] == "nvidia.com/gpu"
    assert spec["serviceAccountName"] == "churn-prod-training"
    assert spec["podMetadata"]["labels"]["app.kubernetes.io/component"] == "training"
    assert stack_hardening_problems(argo) == []


def test_argo_service_account_is_namespaced_and_minimal(argo):
    sa = one(argo, "kubernetes:core/v1:ServiceAccount").inputs
    assert sa["automountServiceAccountToken"] is True  # the Argo executor reports results through the API
    role = one(argo, "kubernetes:rbac.authorization.k8s.io/v1:Role").inputs
    assert role["rules"] == [
        {"apiGroups": ["argoproj.io"], "resources": ["workflowtaskresults"], "verbs": ["create", "patch"]}
    ]
    binding = one(argo, "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding").inputs
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "churn-prod-training", "namespace": "churn-ns"}]
    assert not argo.by_type("kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding")


def test_cron_job_schedule_limits_and_gpus(cron):
    jobs = {j.inputs["metadata"]["name"]: j.inputs["spec"] for j in cron.by_type("kubernetes:batch/v1:CronJob")}
    scheduled, on_demand = jobs["churn-prod-training"], jobs["churn-prod-training-on-demand"]
    assert scheduled["schedule"] == "0 3 * * 1" and scheduled["timeZone"] == "Europe/Berlin"
    assert scheduled["concurrencyPolicy"] == "Forbid" and scheduled["suspend"] is False
    assert (scheduled["successfulJobsHistoryLimit"], scheduled["failedJobsHistoryLimit"]) == (3, 2)
    job = scheduled["jobTemplate"]["spec"]
    assert job["backoffLimit"] == 2 and job["activeDeadlineSeconds"] == 14400
    pod = job["template"]["spec"]
    assert pod["restartPolicy"] == "Never" and pod["automountServiceAccountToken"] is False
    assert pod["containers"][0]["resources"]["limits"]["nvidia.com/gpu"] == "2"
    assert on_demand["suspend"] is True and on_demand["jobTemplate"] == scheduled["jobTemplate"]
    assert stack_hardening_problems(cron) == []
    assert required_tags_present(cron) == []


def test_trigger_points_at_the_on_demand_template(argo, cron):
    assert one(argo, "mlops-infra:k8s:TrainingPipeline").name == "training"
    trigger = {}

    def program():
        trigger["argo"] = TrainingPipeline("a", training_args(argo_enabled=True))
        trigger["cron"] = TrainingPipeline("c", training_args())

    plan(program)
    assert (trigger["argo"].trigger_kind, trigger["argo"].trigger_name) == ("workflowtemplate", "churn-dev-a")
    assert (trigger["cron"].trigger_kind, trigger["cron"].trigger_name) == ("cronjob", "churn-dev-c-on-demand")


def test_names_fit_the_cronjob_limit():
    stack = plan(lambda: TrainingPipeline("a-very-long-training-pipeline-name-for-the-churn-model", training_args()))
    for job in stack.by_type("kubernetes:batch/v1:CronJob"):
        assert len(job.inputs["metadata"]["name"]) <= 52


@pytest.mark.parametrize(
    "cron", ["0 3 * * 1", "*/15 * * * *", "0 0 1 JAN,JUL *", "30 2 * * MON-FRI", "0 0-23/2 * * 0-7"]
)
def test_valid_schedules(cron):
    args = TrainingPipelineArgs.model_validate(training_args(schedule={"cron": cron}))
    assert args.schedule == Schedule(cron=cron, time_zone="UTC")


def test_macros_are_refused_with_the_five_field_spelling():
    # One vocabulary on every cloud: the strict spec Schedule has no @daily (EventBridge, Vertex lack it too).
    with pytest.raises(pydantic.ValidationError) as info:
        TrainingPipelineArgs.model_validate(training_args(schedule={"cron": "@daily"}))
    assert info.value.errors()[0]["loc"] == ("schedule", "cron")
    assert "minute hour day-of-month month day-of-week" in info.value.errors()[0]["msg"]


@pytest.mark.parametrize(
    "schedule",
    [
        "",
        "0 3 * *",
        "60 * * * *",
        "0 24 * * *",
        "0 0 0 * *",
        "0 0 * 13 *",
        "* * * * 8",
        "0 5-1 * * *",
        "@every 1h",
        "CRON_TZ=UTC 0 3 * * *",
        "*/0 * * * *",
        "a b c d e",
        "0 0 31 2 *",
    ],
)
def test_bad_schedules_name_the_field(schedule):
    with pytest.raises(pydantic.ValidationError) as info:
        TrainingPipelineArgs.model_validate(training_args(schedule={"cron": schedule}))
    assert info.value.errors()[0]["loc"] == ("schedule", "cron")


@settings(max_examples=25, deadline=None)
@given(minute=st.integers(min_value=60, max_value=999), hour=st.integers(min_value=24, max_value=99))
def test_out_of_range_cron_fields_always_fail(minute, hour):
    for schedule in (f"{minute} * * * *", f"0 {hour} * * *"):
        with pytest.raises(pydantic.ValidationError) as info:
            TrainingPipelineArgs.model_validate(training_args(schedule={"cron": schedule}))
        assert info.value.errors()[0]["loc"] == ("schedule", "cron")


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"image": "ghcr.io/acme/churn-train:latest"}, "image"),
        ({"image": "ghcr.io/acme/churn-train"}, "image"),
        ({"schedule": {"cron": "0 3 * * *", "time_zone": "Mars/Olympus"}}, "schedule"),
        ({"schedule": {"cron": "0 3 * * *", "timezone": "UTC"}}, "schedule"),  # the old spelling is refused
        ({"backoff_limit": 50}, "backoff_limit"),
        ({"active_deadline_seconds": 10}, "active_deadline_seconds"),
        ({"env": {"BAD NAME": "x"}}, "env"),
        ({"resources": {"cpu_request": "8", "cpu_limit": "4"}}, "resources"),
    ],
)
def test_invalid_settings_register_nothing(overrides, field):
    with pytest.raises(pydantic.ValidationError) as info:
        TrainingPipelineArgs.model_validate(training_args(**overrides))
    assert info.value.errors()[0]["loc"][0] == field
    with pytest.raises(ProgramError, match=field):
        plan(lambda: TrainingPipeline("training", training_args(**overrides)))
