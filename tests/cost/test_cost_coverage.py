"""Vertex pipeline runs, Vertex/SageMaker feature stores, Kubernetes Jobs/CronJobs/CronWorkflows and storage.

Expected figures are derived from catalogue rows (an override file in tmp_path where a packaged row may
still be grade N), never copied constants.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from mlops_infra.cost.catalogue import MONTH_HOURS, Catalogue, load_catalogue
from mlops_infra.cost.estimate import estimate_stack
from mlops_infra.cost.runs import cron_runs_per_month, runs_per_month
from mlops_infra.engine import CapturedStack
from mlops_infra.engine.captured import CapturedResource
from mlops_infra.gcp.pipeline_spec import SpecTemplate, compile_pipeline, load_pipeline_spec

REGION = "europe-west4"
IMAGE = "europe-west4-docker.pkg.dev/acme-ml/images/trainer@sha256:" + "e" * 64


def _stack(*resources: tuple[str, str, dict[str, Any]], config: dict[str, Any] | None = None) -> CapturedStack:
    captured = [
        CapturedResource(urn=f"urn:pulumi:s::p::{t}::{n}", type=t, name=n, parent=None, custom=True, inputs=i)
        for t, n, i in resources
    ]
    return CapturedStack(project="p", stack="s", config=config or {}, resources=captured, outputs={})


def _override(tmp_path: Path, rows: list[dict[str, Any]]) -> Catalogue:
    path = tmp_path / "prices.yaml"
    base = {"region": REGION, "source": "test", "source_date": "2026-12-01", "grade": "P"}
    path.write_text(json.dumps({"rows": [{**base, **row} for row in rows]}))
    return load_catalogue(path)


VERTEX_ROWS = [
    {"provider": "gcp", "service": "vertex.training", "sku": "n1-standard-4", "unit": "node-hour", "usd": 0.25},
    {"provider": "gcp", "service": "vertex.training", "sku": "NVIDIA_TESLA_T4", "unit": "accelerator-hour", "usd": 0.4},
    {"provider": "gcp", "service": "vertex.prediction", "sku": "n1-standard-2", "unit": "node-hour", "usd": 0.12},
    {
        "provider": "gcp",
        "service": "vertex.feature-store",
        "sku": "bigtable-online-serving-node",
        "unit": "node-hour",
        "usd": 0.9,
    },
    {
        "provider": "gcp",
        "service": "vertex.feature-store",
        "sku": "optimized-online-serving-node",
        "unit": "node-hour",
        "usd": 0.3,
    },
]


def _row(catalogue: Catalogue, service: str, sku: str, region: str = REGION) -> float:
    row = catalogue.price("gcp" if service.startswith("vertex") else "k8s", service, sku, region)
    assert row is not None and row.usd is not None
    return row.usd


def _custom_job_body() -> str:
    job = {
        "displayName": "train",
        "pipelineSpec": {
            "deploymentSpec": {
                "executors": {
                    "exec-train": {
                        "customJob": {
                            "customJob": {
                                "jobSpec": {
                                    "workerPoolSpecs": [
                                        {
                                            "machineSpec": {
                                                "machineType": "n1-standard-4",
                                                "acceleratorType": "NVIDIA_TESLA_T4",
                                                "acceleratorCount": 1,
                                            },
                                            "replicaCount": 2,
                                        }
                                    ],
                                    "scheduling": {"timeout": "7200s"},
                                }
                            }
                        }
                    },
                    "exec-import": {"importer": {"artifactUri": {"constant": "gs://x"}}},
                }
            }
        },
    }
    return base64.b64encode(json.dumps(job).encode()).decode()


def _scheduler_job(body: str, schedule: str = "0 3 * * 1", **extra: Any) -> dict[str, Any]:
    return {
        "region": REGION,
        "schedule": schedule,
        "timeZone": "Europe/Berlin",
        "httpTarget": {
            "uri": f"https://{REGION}-aiplatform.googleapis.com/v1/projects/x/locations/{REGION}/pipelineJobs",
            "body": body,
        },
        **extra,
    }


def test_vertex_pipeline_run_fee_and_custom_job_step_are_priced(tmp_path: Path) -> None:
    catalogue = _override(tmp_path, VERTEX_ROWS)
    stack = _stack(("gcp:cloudscheduler/job:Job", "retrain", _scheduler_job(_custom_job_body())))
    estimate = estimate_stack(stack, catalogue)
    assert estimate.unpriced == []
    (item,) = estimate.items
    fee = _row(catalogue, "vertex.pipelines", "pipeline-run")
    step = (
        2
        * (_row(catalogue, "vertex.training", "n1-standard-4") + _row(catalogue, "vertex.training", "NVIDIA_TESLA_T4"))
        * 2
    )
    runs = runs_per_month("0 3 * * 1")
    assert item.monthly_max == pytest.approx(runs * (fee + step))
    assert f"{runs:.4g} runs (0 3 * * 1)" in item.basis and "2 h max" in item.basis


def _gcpc_step_cost(catalogue: Catalogue, machine: str, hours: float, region: str, accelerator: str = "") -> float:
    """One GCPC CustomJob step: the job's machine (+ accelerator) for ``hours`` (its launcher is not priced)."""
    job = _row(catalogue, "vertex.training", machine, region)
    if accelerator:
        job += _row(catalogue, "vertex.training", accelerator, region)
    return hours * job


def test_the_platform_training_pipeline_steps_are_priced_from_their_custom_jobs(
    planned: Callable[[str, str], CapturedStack],
) -> None:
    """gcp-prod: medium (n1-standard-4) train step, 7200 s, Spot; processing steps n1-standard-4, 3600 s."""
    catalogue = load_catalogue()
    estimate = estimate_stack(planned("platform", "gcp-prod"), catalogue)
    region = "europe-west4"
    fee = _row(catalogue, "vertex.pipelines", "pipeline-run", "all")
    per_run = (
        fee
        + _gcpc_step_cost(catalogue, "n1-standard-4", 2, region)
        + 3 * _gcpc_step_cost(catalogue, "n1-standard-4", 1, region)
    )
    (schedule,) = [i for i in estimate.items if i.type == "gcp:cloudscheduler/job:Job"]
    assert schedule.monthly_max == pytest.approx(runs_per_month("0 3 * * 1") * per_run)
    assert "train: 1 x (n1-standard-4 " in schedule.basis and "x 2 h max (Spot requested" in schedule.basis
    (workflow,) = [i for i in estimate.items if i.type == "gcp:workflows/workflow:Workflow"]
    assert workflow.monthly_max == pytest.approx(runs_per_month("0 * * * *") * per_run)
    assert "every drift check starts a run" in workflow.basis
    pipeline_types = {"gcp:cloudscheduler/job:Job", "gcp:workflows/workflow:Workflow"}
    assert [u for u in estimate.unpriced if u.type in pipeline_types] == []


def _job_body(spec: dict[str, Any], **values: Any) -> str:
    job = {"pipelineSpec": spec, "runtimeConfig": {"parameterValues": values}}
    return base64.b64encode(json.dumps(job).encode()).decode()


def test_a_compiled_gcpc_custom_job_reads_its_inputs_from_the_spec(tmp_path: Path) -> None:
    """GPU train step, timeout and machine straight from the compiled component defaults; n1 rows only."""
    catalogue = _override(
        tmp_path,
        [
            *VERTEX_ROWS,
            {"provider": "gcp", "service": "vertex.training", "sku": "n1-standard-8", "unit": "node-hour", "usd": 0.5},
            {"provider": "gcp", "service": "vertex.training", "sku": "e2-standard-4", "unit": "node-hour", "usd": 0.17},
        ],
    )
    template = SpecTemplate(
        image=IMAGE,
        train_machine_type="n1-standard-8",
        train_accelerator_type="NVIDIA_TESLA_T4",
        train_accelerator_count=1,
        train_timeout_seconds=3 * 3600,
        processing_timeout_seconds=1800,
    )
    body = _job_body(load_pipeline_spec(template))
    estimate = estimate_stack(_stack(("gcp:cloudscheduler/job:Job", "retrain", _scheduler_job(body))), catalogue)
    assert estimate.unpriced == []
    (item,) = estimate.items
    per_run = (
        _row(catalogue, "vertex.pipelines", "pipeline-run")
        + _gcpc_step_cost(catalogue, "n1-standard-8", 3, REGION, "NVIDIA_TESLA_T4")
        + 3 * _gcpc_step_cost(catalogue, "n1-standard-4", 0.5, REGION)
    )
    assert item.monthly_max == pytest.approx(runs_per_month("0 3 * * 1") * per_run)
    assert "1 x NVIDIA_TESLA_T4" in item.basis and "Spot" not in item.basis


def test_a_gcpc_custom_job_timeout_given_at_run_time_is_unpriced_with_the_reason(tmp_path: Path) -> None:
    """A task whose CustomJob timeout is a pipeline parameter reads the PipelineJob's value, else says so."""
    catalogue = _override(
        tmp_path,
        [
            *VERTEX_ROWS,
            {"provider": "gcp", "service": "vertex.training", "sku": "e2-standard-4", "unit": "node-hour", "usd": 0.17},
        ],
    )
    spec = load_pipeline_spec(SpecTemplate(image=IMAGE))
    spec["root"]["dag"]["tasks"]["train"]["inputs"]["parameters"]["timeout"] = {"componentInputParameter": "limit"}
    spec["root"]["inputDefinitions"]["parameters"]["limit"] = {"parameterType": "STRING"}
    given = estimate_stack(
        _stack(("gcp:cloudscheduler/job:Job", "a", _scheduler_job(_job_body(spec, limit="36000s")))), catalogue
    )
    assert given.unpriced == [] and "x 10 h max" in given.items[0].basis
    missing = estimate_stack(_stack(("gcp:cloudscheduler/job:Job", "b", _scheduler_job(_job_body(spec)))), catalogue)
    (unpriced,) = missing.unpriced
    assert "train: its CustomJob timeout is set at run time (from limit)" in unpriced.reason


def test_plain_container_steps_keep_the_fee_and_list_the_compute_as_unpriced(tmp_path: Path) -> None:
    catalogue = _override(tmp_path, VERTEX_ROWS)
    spec = compile_pipeline(_plain_pipeline())
    estimate = estimate_stack(_stack(("gcp:cloudscheduler/job:Job", "a", _scheduler_job(_job_body(spec)))), catalogue)
    (item,) = estimate.items
    assert item.monthly_max == pytest.approx(
        runs_per_month("0 3 * * 1") * _row(catalogue, "vertex.pipelines", "pipeline-run")
    )
    (unpriced,) = estimate.unpriced
    assert "exec-hello (limits: resourceCpuLimit 4" in unpriced.reason
    assert "no machine type and no max runtime" in unpriced.reason


def _plain_pipeline() -> Callable[..., Any]:
    from kfp import dsl

    @dsl.container_component
    def hello():
        return dsl.ContainerSpec(image="python:3.11-slim", command=["echo"], args=["hi"])

    @dsl.pipeline(name="plain")
    def plain():
        hello().set_cpu_limit("4")

    return plain


def test_vertex_schedule_dynamic_resource_and_paused_jobs(tmp_path: Path) -> None:
    catalogue = _override(tmp_path, VERTEX_ROWS)
    job = json.loads(base64.b64decode(_custom_job_body()))
    stack = _stack(
        (
            "pulumi-python:dynamic/vertex:VertexSchedule",
            "vs",
            {"region": REGION, "cron": "TZ=Europe/Berlin 0 3 * * *", "pipeline_job": job, "paused": False},
        ),
        ("gcp:cloudscheduler/job:Job", "paused", _scheduler_job(_custom_job_body(), paused=True)),
    )
    estimate = estimate_stack(stack, catalogue)
    assert estimate.unpriced == []
    items = {i.urn.rsplit("::", 1)[-1]: i for i in estimate.items}
    scheduled, paused = items["vs"], items["paused"]
    assert scheduled.monthly_max == pytest.approx(cron_runs_per_month("0 3 * * *") * paused_run_cost(catalogue))
    assert (
        paused.monthly_max == 0
        and "paused: no scheduled runs" in paused.basis
        and "each run started by hand" in paused.basis
    )


def test_vertex_colab_schedule_prices_its_pipeline_job_runs(tmp_path: Path) -> None:
    """gcp.colab.Schedule: pipelineSpec is JSON text inside createPipelineJobRequest; PAUSED runs nothing."""
    catalogue = _override(tmp_path, VERTEX_ROWS)
    job = json.loads(base64.b64decode(_custom_job_body()))
    native = {**job, "pipelineSpec": json.dumps(job["pipelineSpec"])}
    request = {"parent": f"projects/p/locations/{REGION}", "pipelineJob": native}

    def schedule(state: str) -> dict[str, Any]:
        return {
            "location": REGION,
            "cron": "TZ=Europe/Berlin 0 3 * * *",
            "maxConcurrentRunCount": "1",
            "desiredState": state,
            "createPipelineJobRequest": request,
        }

    stack = _stack(
        ("gcp:colab/schedule:Schedule", "active", schedule("ACTIVE")),
        ("gcp:colab/schedule:Schedule", "paused", schedule("PAUSED")),
    )
    estimate = estimate_stack(stack, catalogue)
    assert estimate.unpriced == []
    items = {i.urn.rsplit("::", 1)[-1]: i for i in estimate.items}
    assert items["active"].monthly_max == pytest.approx(cron_runs_per_month("0 3 * * *") * paused_run_cost(catalogue))
    assert items["paused"].monthly_max == 0


def paused_run_cost(catalogue: Catalogue) -> float:
    return _row(catalogue, "vertex.pipelines", "pipeline-run") + 2 * 2 * (
        _row(catalogue, "vertex.training", "n1-standard-4") + _row(catalogue, "vertex.training", "NVIDIA_TESLA_T4")
    )


def test_vertex_feature_online_stores_bigtable_min_max_and_optimized_one_node(tmp_path: Path) -> None:
    catalogue = _override(tmp_path, VERTEX_ROWS)
    stack = _stack(
        (
            "gcp:vertex/aiFeatureOnlineStore:AiFeatureOnlineStore",
            "bt",
            {"region": REGION, "bigtable": {"autoScaling": {"minNodeCount": 1, "maxNodeCount": 3}}},
        ),
        ("gcp:vertex/aiFeatureOnlineStore:AiFeatureOnlineStore", "opt", {"region": REGION, "optimized": {}}),
    )
    bigtable, optimized = estimate_stack(stack, catalogue).items
    node = _row(catalogue, "vertex.feature-store", "bigtable-online-serving-node")
    assert bigtable.monthly_max == pytest.approx(3 * node * MONTH_HOURS)
    assert bigtable.monthly_expected == pytest.approx(1 * node * MONTH_HOURS)
    opt = _row(catalogue, "vertex.feature-store", "optimized-online-serving-node")
    assert optimized.monthly_max == optimized.monthly_expected == pytest.approx(opt * MONTH_HOURS)
    assert "1 node assumed" in optimized.basis


def test_vertex_deployment_prices_from_the_rows(tmp_path: Path) -> None:
    catalogue = _override(tmp_path, VERTEX_ROWS)
    stack = _stack(
        (
            "pulumi-python:dynamic/vertex:VertexModelDeployment",
            "d",
            {
                "region": REGION,
                "deployments": [
                    {
                        "machine_type": "n1-standard-2",
                        "min_replica_count": 2,
                        "max_replica_count": 4,
                        "accelerator_count": 0,
                    }
                ],
            },
        )
    )
    (item,) = estimate_stack(stack, catalogue).items
    usd = _row(catalogue, "vertex.prediction", "n1-standard-2")
    assert item.monthly_max == pytest.approx(4 * usd * MONTH_HOURS)
    assert item.monthly_expected == pytest.approx(2 * usd * MONTH_HOURS)


FEATURE_GROUP = {
    "featureGroupName": "profiles",
    "onlineStoreConfig": {"enableOnlineStore": True, "storageType": "Standard"},
}


def test_sagemaker_feature_group_needs_assumptions_and_names_the_unit_rates() -> None:
    estimate = estimate_stack(
        _stack(("aws:sagemaker/featureGroup:FeatureGroup", "fg", FEATURE_GROUP)), load_catalogue()
    )
    (entry,) = estimate.unpriced
    assert "assumption rows for sagemaker.feature-store.online-read" in entry.reason
    assert "unit rates" in entry.reason and "online-write" in entry.reason


def test_sagemaker_feature_group_priced_from_assumption_rows(tmp_path: Path) -> None:
    rates = {
        "online-read": ("million-requests", 0.25),
        "online-write": ("million-requests", 1.25),
        "online-storage": ("GB-month", 0.45),
    }
    usage = {"online-read": 30.0, "online-write": 4.0, "online-storage": 12.0}
    rows = [
        {
            "provider": "aws",
            "service": "sagemaker.feature-store",
            "sku": sku,
            "unit": unit,
            "usd": usd,
            "region": "us-east-1",
        }
        for sku, (unit, usd) in rates.items()
    ]
    rows += [
        {
            "provider": "aws",
            "service": "assumption",
            "sku": f"sagemaker.feature-store.{sku}",
            "unit": rates[sku][0],
            "usd": quantity,
            "region": "all",
            "grade": "D",
        }
        for sku, quantity in usage.items()
    ]
    rows.append(
        {
            "provider": "aws",
            "service": "assumption",
            "sku": "sagemaker.feature-store.online-read/profiles",
            "unit": "million-requests",
            "usd": 50.0,
            "region": "all",
            "grade": "D",
        }
    )
    catalogue = _override(tmp_path, rows)
    stack = _stack(("aws:sagemaker/featureGroup:FeatureGroup", "fg", FEATURE_GROUP), config={"aws:region": "us-east-1"})
    (item,) = estimate_stack(stack, catalogue).items
    assert item.monthly_max == pytest.approx(50 * 0.25 + 4 * 1.25 + 12 * 0.45)  # the per-group read row wins
    assert "50 million read request units x $0.25" in item.basis


def _pod(cpu: str, memory: str) -> dict[str, Any]:
    return {"spec": {"containers": [{"name": "main", "resources": {"requests": {"cpu": cpu, "memory": memory}}}]}}


def test_kubernetes_batch_and_storage_are_priced_at_node_rates() -> None:
    catalogue = load_catalogue()
    cpu, ram, storage = (_row(catalogue, "opencost.default", s, "us-central1") for s in ("cpu", "ram", "storage"))
    pod = 2 * cpu + 8 * ram
    stack = _stack(
        ("kubernetes:batch/v1:Job", "once", {"spec": {"activeDeadlineSeconds": 900, "template": _pod("2", "8Gi")}}),
        (
            "kubernetes:batch/v1:CronJob",
            "weekly",
            {
                "spec": {
                    "schedule": "@weekly",
                    "jobTemplate": {
                        "spec": {"activeDeadlineSeconds": 7200, "parallelism": 2, "template": _pod("2", "8Gi")}
                    },
                }
            },
        ),
        (
            "kubernetes:batch/v1:CronJob",
            "nodeadline",
            {"spec": {"schedule": "0 3 * * 1", "jobTemplate": {"spec": {"template": _pod("2", "8Gi")}}}},
        ),
        (
            "kubernetes:argoproj.io/v1alpha1:WorkflowTemplate",
            "tpl",
            {
                "metadata": {"name": "train", "namespace": "ml"},
                "spec": {
                    "activeDeadlineSeconds": 3600,
                    "templates": [
                        {
                            "name": "train",
                            "container": {"name": "main", "resources": {"requests": {"cpu": "2", "memory": "8Gi"}}},
                        }
                    ],
                },
            },
        ),
        (
            "kubernetes:argoproj.io/v1alpha1:CronWorkflow",
            "cw",
            {
                "metadata": {"namespace": "ml"},
                "spec": {"schedules": ["0 3 * * 1"], "workflowSpec": {"workflowTemplateRef": {"name": "train"}}},
            },
        ),
        (
            "kubernetes:core/v1:PersistentVolumeClaim",
            "data",
            {"spec": {"resources": {"requests": {"storage": "20Gi"}}}},
        ),
    )
    estimate = estimate_stack(stack, catalogue)
    items = {i.urn.rsplit("::", 1)[-1]: i for i in estimate.items}
    assert items["once"].monthly_max == pytest.approx(pod * 0.25)
    assert items["weekly"].monthly_max == pytest.approx(cron_runs_per_month("0 0 * * 0") * 2 * pod * 2)
    assert items["cw"].monthly_max == pytest.approx(runs_per_month("0 3 * * 1") * pod * 1)
    assert items["data"].monthly_max == pytest.approx(20 * storage * MONTH_HOURS)
    (missing,) = estimate.unpriced
    assert missing.urn.endswith("nodeadline") and "activeDeadlineSeconds is not set" in missing.reason


def test_shipped_k8s_stacks_price_jobs_cronworkflows_pvcs_and_suspended_cronjobs(
    planned: Callable[[str, str], CapturedStack],
) -> None:
    estimate = estimate_stack(planned("platform", "k8s-dev"), load_catalogue())
    assert estimate.unpriced == []
    cronjobs = {i.urn.rsplit("::", 1)[-1]: i for i in estimate.items if i.type == "kubernetes:batch/v1:CronJob"}
    assert cronjobs["k8s-training-on-demand"].monthly_max == 0
    assert "suspended" in cronjobs["k8s-training-on-demand"].basis
    assert cronjobs["k8s-training-schedule"].monthly_max > 0
    prod = estimate_stack(planned("platform", "k8s-prod"), load_catalogue())
    types = {i.type for i in prod.items}
    assert {
        "kubernetes:argoproj.io/v1alpha1:CronWorkflow",
        "kubernetes:batch/v1:Job",
        "kubernetes:core/v1:PersistentVolumeClaim",
    } <= types
