"""Vertex AI Pipelines: the run fee x scheduled runs, plus the steps' compute when the graph states it.

The product starts Vertex pipeline runs three ways, and each is priced on the resource that starts them:

- a Cloud Scheduler job whose HTTP target is ``.../pipelineJobs`` (the default continuous-training
  trigger; the PipelineJob is the base64 ``body``);
- a Vertex AI Schedule, pulumi-gcp's ``gcp.colab.Schedule`` (``cron`` with an optional ``TZ=...``
  prefix, ``createPipelineJobRequest.pipelineJob`` with ``pipelineSpec`` as JSON text, ``desiredState``),
  or the superseded ``VertexSchedule`` dynamic resource still in older stacks (``pipeline_job``);
- a Cloud Workflow (drift retraining) whose definition submits a PipelineJob, started by the Cloud
  Scheduler jobs that call its ``executions`` endpoint: worst case, every execution starts a run.

Step compute per run (:mod:`mlops_infra.cost.vertex_pipeline_steps`): CustomJob steps, native or
google-cloud-pipeline-components', state a machine and ``scheduling.timeout`` and are priced at
``vertex.training`` rates x the timeout; a plain container step states neither a machine nor a max
runtime, so its compute is listed as unpriced with that reason, next to the priced fee.
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
    read_mapping,
    read_text,
)
from mlops_infra.cost.runs import ScheduleError, runs_per_month
from mlops_infra.cost.vertex import gcp_rate
from mlops_infra.cost.vertex_pipeline_steps import steps_per_run
from mlops_infra.engine.captured import CapturedResource
from mlops_infra.engine.yaml_load import safe_load

T_SCHEDULER_JOB = "gcp:cloudscheduler/job:Job"
T_VERTEX_SCHEDULE = "pulumi-python:dynamic/vertex:VertexSchedule"
T_COLAB_SCHEDULE = "gcp:colab/schedule:Schedule"
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
    for schedule in p.stack.by_type(T_COLAB_SCHEDULE):
        p.guarded(schedule, functools.partial(_price_colab_schedule, p, schedule))
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


def _price_colab_schedule(p: Pricer, schedule: CapturedResource) -> None:
    request = read_mapping(schedule.inputs.get("createPipelineJobRequest"), "createPipelineJobRequest")
    job = dict(read_mapping(request.get("pipelineJob"), "createPipelineJobRequest.pipelineJob"))
    spec = job.get("pipelineSpec")
    if isinstance(spec, str):
        try:
            job["pipelineSpec"] = json.loads(spec)
        except ValueError:
            raise Unreadable("its pipelineJob.pipelineSpec is not JSON the estimator can read") from None
    cron = read_text(schedule.inputs.get("cron"), "cron")
    expression = re.sub(r"^(CRON_TZ|TZ)=\S+\s+", "", cron.strip())
    region = read_text(schedule.inputs.get("location"), "location")
    state = read_text(schedule.inputs.get("desiredState"), "desiredState", default="ACTIVE")
    _price_runs(p, schedule, job, region, expression, paused=state.upper() == "PAUSED", drift=False)


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
        document = safe_load(source) if source else None  # YAML is a superset of the JSON form
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
    step_usd, step_parts, unknown_steps = steps_per_run(p, job, region)
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
