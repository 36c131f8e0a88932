"""Vertex AI Pipelines: the run fee x scheduled runs, plus the steps' compute when the graph states it.

The product starts Vertex pipeline runs three ways, and each is priced on the resource that starts them:

- a Cloud Scheduler job whose HTTP target is ``.../pipelineJobs`` (the default continuous-training
  trigger; the PipelineJob is the base64 ``body``);
- the ``VertexSchedule`` dynamic resource (``cron`` with an optional ``TZ=...`` prefix, ``pipeline_job``);
- a Cloud Workflow (drift retraining) whose definition submits a PipelineJob, started by the Cloud
  Scheduler jobs that call its ``executions`` endpoint: worst case, every execution starts a run.

Step compute: a step whose executor is a Vertex CustomJob with a machine type and
``scheduling.timeout`` is priced at ``vertex.training`` rates x the timeout; a plain container step
states neither a machine nor a max runtime (Vertex picks the machine at run time and stops a step
only at its own limit), so its compute is listed as unpriced with that reason, next to the priced fee.
"""

from __future__ import annotations

import base64
import functools
import json
import re
from typing import Any

import yaml

from mlops_infra.cost.model import (
    Pricer,
    Unreadable,
    money,
    number,
    read_bool,
    read_count,
    read_list,
    read_mapping,
    read_number,
    read_text,
)
from mlops_infra.cost.runs import ScheduleError, runs_per_month
from mlops_infra.cost.vertex import gcp_rate
from mlops_infra.engine.captured import CapturedResource

T_SCHEDULER_JOB = "gcp:cloudscheduler/job:Job"
T_VERTEX_SCHEDULE = "pulumi-python:dynamic/vertex:VertexSchedule"
T_WORKFLOW = "gcp:workflows/workflow:Workflow"

_WORKFLOW_EXECUTIONS = re.compile(r"/locations/([^/]+)/workflows/([^/]+)/executions$")
_DURATION = re.compile(r"^([0-9]+(?:\.[0-9]+)?)s$")


def price_vertex_pipelines(p: Pricer) -> None:
    workflow_triggers: dict[str, list[CapturedResource]] = {}
    for job in p.stack.by_type(T_SCHEDULER_JOB):
        http = _mapping_or_none(job.inputs.get("httpTarget"))
        if http is None or (http and not _is_text(http.get("uri"))):
            p.unpriced(job, "its HTTP target is unknown until apply, so whether it starts a Vertex pipeline is unknown")
            continue
        target = http.get("uri")
        if not isinstance(target, str):
            continue  # an App Engine or Pub/Sub target: the job itself is not estimated
        if target.endswith("/pipelineJobs"):
            p.guarded(job, functools.partial(_price_scheduler_job, p, job))
        elif match := _WORKFLOW_EXECUTIONS.search(target):
            workflow_triggers.setdefault(match.group(2), []).append(job)
    for schedule in p.stack.by_type(T_VERTEX_SCHEDULE):
        p.guarded(schedule, functools.partial(_price_vertex_schedule, p, schedule))
    for workflow in p.stack.by_type(T_WORKFLOW):
        p.guarded(workflow, functools.partial(_price_workflow, p, workflow, workflow_triggers))


def _is_text(value: Any) -> bool:
    try:
        read_text(value, "")
    except Unreadable:
        return False
    return True


def _mapping_or_none(value: Any) -> dict[str, Any] | None:
    try:
        return read_mapping(value, "")
    except Unreadable:
        return None


def _runs(expression: str) -> float:
    try:
        return runs_per_month(expression)
    except ScheduleError as exc:
        raise Unreadable(f"its schedule cannot be counted: {exc}") from None


def _price_scheduler_job(p: Pricer, job: CapturedResource) -> None:
    target = read_mapping(job.inputs.get("httpTarget"), "httpTarget")
    body = read_text(target.get("body"), "httpTarget body (the PipelineJob)")
    try:
        pipeline_job = json.loads(base64.b64decode(body, validate=True))
    except ValueError:
        raise Unreadable("its httpTarget body is not a base64 JSON PipelineJob the estimator can read") from None
    region = read_text(job.inputs.get("region"), "region")
    expression = read_text(job.inputs.get("schedule"), "schedule")
    paused = read_bool(job.inputs.get("paused"), "paused", default=False)
    _price_runs(p, job, read_mapping(pipeline_job, "PipelineJob"), region, expression, paused=paused, drift=False)


def _price_vertex_schedule(p: Pricer, schedule: CapturedResource) -> None:
    cron = read_text(schedule.inputs.get("cron"), "cron")
    expression = re.sub(r"^(CRON_TZ|TZ)=\S+\s+", "", cron.strip())
    region = read_text(schedule.inputs.get("region"), "region")
    paused = read_bool(schedule.inputs.get("paused"), "paused", default=False)
    job = read_mapping(schedule.inputs.get("pipeline_job"), "pipeline_job")
    _price_runs(p, schedule, job, region, expression, paused=paused, drift=False)


def _pipeline_jobs(document: Any) -> list[dict[str, Any]]:
    """Every PipelineJob (a mapping with ``pipelineSpec`` or ``templateUri``) inside a workflow definition."""
    if isinstance(document, dict):
        if "pipelineSpec" in document or "templateUri" in document:
            return [document]
        return [job for value in document.values() for job in _pipeline_jobs(value)]
    if isinstance(document, list):
        return [job for value in document for job in _pipeline_jobs(value)]
    return []


def _price_workflow(p: Pricer, workflow: CapturedResource, triggers: dict[str, list[CapturedResource]]) -> None:
    source = read_text(workflow.inputs.get("sourceContents"), "sourceContents", default="")
    try:
        document = yaml.safe_load(source) if source else None  # YAML is a superset of the JSON form
    except yaml.YAMLError:
        raise Unreadable("its sourceContents is not a workflow definition the estimator can read") from None
    jobs = _pipeline_jobs(document)
    if not jobs:
        return  # a workflow that starts no pipeline: its own step billing is not estimated (docs)
    name = read_text(workflow.inputs.get("name"), "workflow name", default=workflow.name)
    region = read_text(workflow.inputs.get("region"), "region")
    started_by = triggers.get(name, [])
    active = [t for t in started_by if not read_bool(t.inputs.get("paused"), "paused", default=False)]
    if not started_by:
        raise Unreadable("no Cloud Scheduler job in this stack starts it, so its pipeline runs per month are unknown")
    expressions = [read_text(t.inputs.get("schedule"), "schedule of its Cloud Scheduler job") for t in active]
    for job in jobs:
        _price_runs(p, workflow, job, region, " + ".join(expressions), paused=not active, drift=True)


def _price_runs(
    p: Pricer,
    resource: CapturedResource,
    job: dict[str, Any],
    region: str,
    expression: str,
    *,
    paused: bool,
    drift: bool,
) -> None:
    runs = 0.0 if paused else sum(_runs(e) for e in expression.split(" + "))
    fee = gcp_rate(p, "vertex.pipelines", "pipeline-run", region, "run")
    step_usd, step_parts, unknown_steps = _steps_per_run(p, job, region)
    per_run = fee + step_usd
    if paused:
        when = "paused: no scheduled runs"
    else:
        when = f"{number(runs)} runs ({expression})"
        if drift:
            when += ", worst case: every drift check starts a run"
    parts = [f"{when} x (run fee {money(fee)}" + "".join(f" + {s}" for s in step_parts) + ")"]
    if paused:
        parts.append(f"each run started by hand costs {money(per_run)}")
    if unknown_steps:
        parts.append("step compute not included, see unpriced: " + ", ".join(name for name, _ in unknown_steps))
    basis = "; ".join(parts) + "; expected = worst case"
    p.item(resource, runs * per_run, runs * per_run, basis)
    if unknown_steps:
        reasons: dict[str, list[str]] = {}
        for name, reason in unknown_steps:
            reasons.setdefault(reason, []).append(name)
        p.unpriced(
            resource,
            "compute of pipeline steps not priced: "
            + "; ".join(f"{', '.join(names)}: {reason}" for reason, names in reasons.items()),
        )


def _executors(job: dict[str, Any]) -> dict[str, Any]:
    spec = read_mapping(job.get("pipelineSpec"), "pipelineSpec")
    deployment = read_mapping(spec.get("deploymentSpec"), "pipelineSpec deploymentSpec")
    return read_mapping(deployment.get("executors"), "pipelineSpec executors")


def _steps_per_run(p: Pricer, job: dict[str, Any], region: str) -> tuple[float, list[str], list[tuple[str, str]]]:
    """USD per run of the steps that state their machine and max runtime, their bases, and the others."""
    if "pipelineSpec" not in job:
        uri = read_text(job.get("templateUri"), "templateUri")
        return 0.0, [], [("(all)", f"it runs the template {uri}, whose steps are not in this graph")]
    total, parts, unknown = 0.0, [], []
    for name, raw in sorted(_executors(job).items()):
        executor = read_mapping(raw, f"executor {name}")
        if "customJob" in executor:
            try:
                usd, text = _custom_job(p, read_mapping(executor["customJob"], "customJob"), region)
            except Unreadable as exc:
                unknown.append((name, exc.reason))
                continue
            total += usd
            parts.append(f"{name}: {text}")
        elif "container" in executor:
            container = read_mapping(executor["container"], "container")
            limits = read_mapping(container.get("resources"), "container resources")
            stated = ", ".join(
                f"{key} {limits[key]}" for key in ("resourceCpuLimit", "resourceMemoryLimit") if key in limits
            )
            accelerator = read_mapping(limits.get("accelerator"), "accelerator")
            if accelerator:
                stated += f", accelerator {accelerator.get('resourceType') or accelerator.get('type')}"
            unknown.append(
                (
                    f"{name} (limits: {stated})" if stated else name,
                    "the pipeline spec states no machine type and no max runtime for these container steps "
                    "(Vertex picks the machine at run time), so their compute is unknown offline",
                )
            )
        # importer / resolver executors run no billed compute
    return total, parts, unknown


def _custom_job(p: Pricer, custom: dict[str, Any], region: str) -> tuple[float, str]:
    """One run of a CustomJob step: replicas x (machine + accelerators) at vertex.training rates x timeout."""
    inner = read_mapping(custom.get("customJob"), "customJob") or custom
    spec = read_mapping(inner.get("jobSpec"), "jobSpec") or inner
    timeout = read_text(
        read_mapping(spec.get("scheduling"), "scheduling").get("timeout"), "CustomJob scheduling.timeout"
    )
    match = _DURATION.match(timeout.strip())
    if match is None:
        raise Unreadable(f"CustomJob scheduling.timeout {timeout!r} is not a duration like '7200s'")
    hours = read_number(match.group(1), "CustomJob scheduling.timeout") / 3600
    total, parts = 0.0, []
    for raw in read_list(spec.get("workerPoolSpecs"), "workerPoolSpecs"):
        pool = read_mapping(raw, "worker pool")
        if not pool:
            continue  # an empty pool spec (a placeholder position) runs nothing
        machine_spec = read_mapping(pool.get("machineSpec"), "machineSpec")
        machine = read_text(machine_spec.get("machineType"), "machine type")
        replicas = read_count(pool.get("replicaCount"), "replica count", default=1)
        hourly = gcp_rate(p, "vertex.training", machine, region, "node-hour")
        text = f"{machine} {money(hourly)}"
        accelerators = read_count(machine_spec.get("acceleratorCount"), "accelerator count", default=0)
        if accelerators:
            accelerator = read_text(machine_spec.get("acceleratorType"), "accelerator type")
            acc = gcp_rate(p, "vertex.training", accelerator, region, "accelerator-hour")
            hourly += accelerators * acc
            text += f" + {accelerators} x {accelerator} {money(acc)}"
        total += replicas * hours * hourly
        parts.append(f"{replicas} x ({text}) x {number(hours)} h max")
    if not parts:
        raise Unreadable("the CustomJob has no worker pool with a machine")
    return total, " + ".join(parts)
