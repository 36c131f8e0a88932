"""Vertex AI batch prediction on a schedule: replicas x node-hours x runs, priced on the workflow that runs it.

:class:`mlops_infra.gcp.batch_prediction.BatchPrediction` creates each run's ``BatchPredictionJob`` from a
Cloud Workflow that Cloud Scheduler executes, and cancels it at the workflow's deadline
(``sys.now() + max_runtime_seconds``). Per month:

- worst case: runs x ``maxReplicaCount`` x max runtime hours x the machine's hourly rate;
- expected: runs x ``startingReplicaCount`` x max runtime hours x the hourly rate (a run that ends early
  costs less: the estimator cannot know the data volume, so the runtime bound is the basis).

Custom-model batch prediction is billed per node-hour of its machines; the estimator uses the
``vertex.prediction`` node-hour rates of the catalogue for it (the same machine table as online
prediction, docs/cost-model.md).
"""

from __future__ import annotations

import functools
import re
from typing import Any

import yaml

from mlops_infra.cost.model import Pricer, Unreadable, number, read_bool, read_count, read_mapping, read_text
from mlops_infra.cost.runs import ScheduleError, runs_per_month
from mlops_infra.cost.vertex import machine_hourly
from mlops_infra.engine.captured import CapturedResource
from mlops_infra.engine.yaml_load import safe_load

T_SCHEDULER_JOB = "gcp:cloudscheduler/job:Job"
T_WORKFLOW = "gcp:workflows/workflow:Workflow"

_WORKFLOW_EXECUTIONS = re.compile(r"/locations/([^/]+)/workflows/([^/]+)/executions$")
_DEADLINE = re.compile(r"sys\.now\(\)\s*\+\s*([0-9]+)")


def price_vertex_batch(p: Pricer) -> None:
    triggers: dict[str, list[CapturedResource]] = {}
    for job in p.stack.by_type(T_SCHEDULER_JOB):
        http = job.inputs.get("httpTarget")
        uri = http.get("uri") if isinstance(http, dict) else None
        if isinstance(uri, str) and (match := _WORKFLOW_EXECUTIONS.search(uri)):
            triggers.setdefault(match.group(2), []).append(job)
    for workflow in p.stack.by_type(T_WORKFLOW):
        p.guarded(workflow, functools.partial(_price_workflow, p, workflow, triggers))


def _batch_jobs(document: Any) -> list[dict[str, Any]]:
    """Every BatchPredictionJob body (``inputConfig`` + ``outputConfig``) inside a workflow definition."""
    if isinstance(document, dict):
        if "inputConfig" in document and "outputConfig" in document:
            return [document]
        return [job for value in document.values() for job in _batch_jobs(value)]
    if isinstance(document, list):
        return [job for value in document for job in _batch_jobs(value)]
    return []


def _price_workflow(p: Pricer, workflow: CapturedResource, triggers: dict[str, list[CapturedResource]]) -> None:
    source = read_text(workflow.inputs.get("sourceContents"), "sourceContents", default="")
    try:
        document = safe_load(source) if source else None
    except yaml.YAMLError:
        return  # not a definition this pricer reads (vertex_pipelines reports it)
    jobs = _batch_jobs(document)
    if not jobs:
        return
    deadline = _DEADLINE.search(source)
    if deadline is None:
        raise Unreadable("it creates batch prediction jobs with no deadline, so a run's hours are unbounded")
    hours = int(deadline.group(1)) / 3600
    name = read_text(workflow.inputs.get("name"), "workflow name", default=workflow.name)
    region = read_text(workflow.inputs.get("region"), "region")
    started_by = triggers.get(name, [])
    if not started_by:
        raise Unreadable("no Cloud Scheduler job in this stack starts it, so its batch runs per month are unknown")
    active = [t for t in started_by if not read_bool(t.inputs.get("paused"), "paused", default=False)]
    expressions = [read_text(t.inputs.get("schedule"), "schedule of its Cloud Scheduler job") for t in active]
    try:
        runs = sum(runs_per_month(e) for e in expressions)
    except ScheduleError as exc:
        raise Unreadable(f"its schedule cannot be counted: {exc}") from None
    worst = expected = 0.0
    parts: list[str] = []
    for job in jobs:
        resources = read_mapping(job.get("dedicatedResources"), "dedicatedResources")
        machine = read_mapping(resources.get("machineSpec"), "machineSpec")
        high = read_count(resources.get("maxReplicaCount"), "max replica count", default=1)
        low = min(high, read_count(resources.get("startingReplicaCount"), "starting replica count", default=1))
        hourly, text = machine_hourly(
            p,
            "vertex.prediction",
            region,
            machine=read_text(machine.get("machineType"), "machine type"),
            accelerators=read_count(machine.get("acceleratorCount"), "accelerator count", default=0),
            accelerator_type=machine.get("acceleratorType"),
        )
        worst += runs * high * hours * hourly
        expected += runs * low * hours * hourly
        when = f"{number(runs)} runs ({' + '.join(expressions) or 'paused'})"
        parts.append(f"{when} x {high} (expected {low}) x ({text}) x {number(hours)} h max runtime")
    p.item(workflow, worst, expected, "; ".join(parts) + f" (max/starting replica count, batch prediction, {region})")
