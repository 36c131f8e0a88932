"""Kubernetes batch work: Jobs, CronJobs and Argo CronWorkflows (requests x pods x runs x max duration).

A run's duration is its deadline (``activeDeadlineSeconds``): the most it can last, so the worst case.
Without a deadline the duration is unknown and the resource is unpriced with that reason: it is never
guessed. A suspended CronJob or CronWorkflow has no scheduled runs: it is an item of $0 whose basis
says what one run started by hand costs.
"""

from __future__ import annotations

import functools
from typing import Any

from mlops_infra.cost.kubernetes import node_rates, pod_hourly, pod_requests
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
from mlops_infra.cost.runs import ScheduleError, cron_runs_per_month
from mlops_infra.engine.captured import CapturedResource

T_JOB = "kubernetes:batch/v1:Job"
T_CRONJOB = "kubernetes:batch/v1:CronJob"
T_CRON_WORKFLOW = "kubernetes:argoproj.io/v1alpha1:CronWorkflow"
T_WORKFLOW_TEMPLATE = "kubernetes:argoproj.io/v1alpha1:WorkflowTemplate"

_NO_DEADLINE = "{what} is not set, so a run's duration is unknown (the estimator does not guess one)"


def price_k8s_batch(p: Pricer) -> None:
    rates = node_rates(p)
    for job in p.stack.by_type(T_JOB):
        p.guarded(job, functools.partial(_price_job, p, job, rates))
    for cronjob in p.stack.by_type(T_CRONJOB):
        p.guarded(cronjob, functools.partial(_price_cronjob, p, cronjob, rates))
    templates = _workflow_templates(p)
    for cron in p.stack.by_type(T_CRON_WORKFLOW):
        p.guarded(cron, functools.partial(_price_cron_workflow, p, cron, rates, templates))


def _runs(expressions: list[str]) -> float:
    try:
        return sum(cron_runs_per_month(e) for e in expressions)
    except ScheduleError as exc:
        raise Unreadable(f"its schedule cannot be counted: {exc}") from None


def _job_run(job_spec: dict[str, Any], rates: dict[str, float], what: str) -> tuple[float, str]:
    """USD and basis of one run of a Job spec: parallelism x pod requests x activeDeadlineSeconds."""
    deadline = job_spec.get("activeDeadlineSeconds")
    if deadline is None:
        raise Unreadable(_NO_DEADLINE.format(what=f"{what}.activeDeadlineSeconds"))
    hours = read_number(deadline, f"{what}.activeDeadlineSeconds") / 3600
    pods = read_count(job_spec.get("parallelism"), f"{what}.parallelism", default=1)
    template = read_mapping(job_spec.get("template"), f"{what}.template")
    containers = read_list(read_mapping(template.get("spec"), "pod spec").get("containers"), "containers")
    hourly, text = pod_hourly(pod_requests(containers), rates)
    return pods * hourly * hours, f"{pods} pod x ({text}) x {number(hours)} h deadline"


def _price_job(p: Pricer, job: CapturedResource, rates: dict[str, float]) -> None:
    usd, text = _job_run(read_mapping(job.inputs.get("spec"), "spec"), rates, "spec")
    p.item(job, usd, usd, f"1 run (a Job runs once, in the month it is created) x {text}; expected = worst case")


def _price_cronjob(p: Pricer, cronjob: CapturedResource, rates: dict[str, float]) -> None:
    spec = read_mapping(cronjob.inputs.get("spec"), "spec")
    job_template = read_mapping(spec.get("jobTemplate"), "jobTemplate")
    usd, text = _job_run(read_mapping(job_template.get("spec"), "jobTemplate.spec"), rates, "jobTemplate.spec")
    schedule = read_text(spec.get("schedule"), "schedule")
    _scheduled(p, cronjob, [schedule], usd, text, suspended=read_bool(spec.get("suspend"), "suspend", default=False))


def _scheduled(
    p: Pricer, resource: CapturedResource, schedules: list[str], per_run: float, text: str, *, suspended: bool
) -> None:
    if suspended:
        p.item(
            resource,
            0.0,
            0.0,
            f"suspended: no scheduled runs ({', '.join(schedules)}); each run started by hand costs "
            f"{money(per_run)} ({text})",
        )
        return
    runs = _runs(schedules)
    p.item(
        resource,
        runs * per_run,
        runs * per_run,
        f"{number(runs)} runs ({', '.join(schedules)}) x {text} (runs per 30.4-day month; expected = worst case)",
    )


def _workflow_templates(p: Pricer) -> dict[tuple[str, str], CapturedResource]:
    found: dict[tuple[str, str], CapturedResource] = {}
    for template in p.stack.by_type(T_WORKFLOW_TEMPLATE):
        meta = template.inputs.get("metadata")
        if isinstance(meta, dict) and isinstance(meta.get("name"), str):
            found[(str(meta.get("namespace") or ""), meta["name"])] = template
    return found


def _workflow_spec(
    cron: CapturedResource, spec: dict[str, Any], templates: dict[tuple[str, str], CapturedResource]
) -> dict[str, Any]:
    """The CronWorkflow's workflowSpec over the WorkflowTemplate it references (the template's spec as base)."""
    workflow_spec = read_mapping(spec.get("workflowSpec"), "workflowSpec")
    ref = read_mapping(workflow_spec.get("workflowTemplateRef"), "workflowTemplateRef")
    if not ref:
        return workflow_spec
    name = read_text(ref.get("name"), "workflowTemplateRef name")
    if read_bool(ref.get("clusterScope"), "workflowTemplateRef clusterScope", default=False):
        raise Unreadable(f"it runs the ClusterWorkflowTemplate {name}, which is not in this stack")
    meta = read_mapping(cron.inputs.get("metadata"), "metadata")
    namespace = meta.get("namespace") if isinstance(meta.get("namespace"), str) else ""
    template = templates.get((str(namespace), name)) or templates.get(("", name))
    if template is None:
        raise Unreadable(f"the WorkflowTemplate {name} it runs is not in this stack, so its pods are unknown")
    base = read_mapping(template.inputs.get("spec"), "WorkflowTemplate spec")
    return {**base, **{k: v for k, v in workflow_spec.items() if k != "workflowTemplateRef"}}


def _workflow_run(workflow_spec: dict[str, Any], rates: dict[str, float]) -> tuple[float, str]:
    """One Argo workflow run: every container/script template's requests x the workflow's deadline.

    Upper bound: each pod template is counted as running for the whole deadline (steps that run one
    after another are over-counted, never under-counted). A step fanned out over a literal
    ``withSequence.count`` or ``withItems`` list runs that many pods of its template; one fanned out with
    ``withParam`` (or a templated count) runs an unknown number of pods: then the run is unreadable.
    """
    deadline = workflow_spec.get("activeDeadlineSeconds")
    if deadline is None:
        raise Unreadable(_NO_DEADLINE.format(what="the workflow's activeDeadlineSeconds"))
    hours = read_number(deadline, "workflow activeDeadlineSeconds") / 3600
    templates = [read_mapping(raw, "template") for raw in read_list(workflow_spec.get("templates"), "templates")]
    fan_out: dict[str, int] = {}
    for template in templates:
        name = read_text(template.get("name"), "template name", default="?")
        for step in _template_steps(template):
            count = _fan_out(step, name)
            if count is not None:
                target = read_text(step.get("template"), f"template {name} step template", default="?")
                fan_out[target] = max(fan_out.get(target, 1), count)
    total, parts = 0.0, []
    for template in templates:
        name = read_text(template.get("name"), "template name", default="?")
        pod = read_mapping(template.get("container") or template.get("script"), f"template {name} container")
        if not pod:
            continue  # steps/dag/suspend/resource templates run no pod of their own
        containers = [pod, *read_list(template.get("sidecars"), f"template {name} sidecars")]
        hourly, text = pod_hourly(pod_requests(containers), rates)
        pods = fan_out.get(name, 1)
        total += pods * hourly * hours
        fanned = f"{pods} pods x " if pods > 1 else ""
        parts.append(f"{name}: {fanned}({text}) x {number(hours)} h deadline")
    if not parts:
        raise Unreadable("its workflow has no container or script template, so its pods are unknown")
    return total, " + ".join(parts)


def _fan_out(step: dict[str, Any], template: str) -> int | None:
    """Pods a fanned-out step runs (a literal withSequence count or withItems list); None when not fanned out."""
    if "withParam" in step:
        raise Unreadable(f"template {template} fans a step out with withParam, so its pod count is unknown")
    if "withItems" in step:
        return len(read_list(step.get("withItems"), f"template {template} withItems"))
    if "withSequence" in step:
        sequence = read_mapping(step.get("withSequence"), f"template {template} withSequence")
        if "count" not in sequence:
            raise Unreadable(f"template {template} fans out over a withSequence range, so its pod count is unknown")
        try:
            return int(str(sequence["count"]))
        except ValueError:
            raise Unreadable(
                f"template {template} fans out over withSequence count {sequence['count']!r}, which is not a number"
            ) from None
    return None


def _template_steps(template: dict[str, Any]) -> list[dict[str, Any]]:
    steps: list[dict[str, Any]] = []
    for group in read_list(template.get("steps"), "steps"):
        steps += [read_mapping(s, "step") for s in (group if isinstance(group, list) else [group])]
    dag = read_mapping(template.get("dag"), "dag")
    steps += [read_mapping(t, "dag task") for t in read_list(dag.get("tasks"), "dag tasks")]
    return steps


def _price_cron_workflow(
    p: Pricer, cron: CapturedResource, rates: dict[str, float], templates: dict[tuple[str, str], CapturedResource]
) -> None:
    spec = read_mapping(cron.inputs.get("spec"), "spec")
    schedules = [read_text(s, "schedule") for s in read_list(spec.get("schedules"), "schedules")]
    if spec.get("schedule") is not None:
        schedules.append(read_text(spec.get("schedule"), "schedule"))
    if not schedules:
        raise Unreadable("it has no schedule, so its runs per month are unknown")
    usd, text = _workflow_run(_workflow_spec(cron, spec, templates), rates)
    _scheduled(p, cron, schedules, usd, text, suspended=read_bool(spec.get("suspend"), "suspend", default=False))
