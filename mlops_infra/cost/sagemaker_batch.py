"""SageMaker batch transform on a schedule: instances x hours x runs, priced on the supervisor that bounds a run.

:class:`mlops_infra.aws.batch_transform.BatchTransform` runs each scheduled batch as an execution of a
SageMaker pipeline (CreateModel -> Transform) started by a Step Functions state machine, which stops
the execution once its polls reach the deadline (``max_runtime_seconds``). Per month:

- runs: the EventBridge Scheduler schedules whose target is the state machine;
- hours per run: the deadline, polls x the Wait state's seconds (a run that ends early costs less: the
  estimator cannot know the data volume, so the runtime bound is the basis of both figures);
- each Transform step of the pipeline the machine starts: ``InstanceCount`` x the ``sagemaker.transform``
  instance-hour rate (batch transform does not scale, so expected = worst case).
"""

from __future__ import annotations

import functools
import json
from typing import Any

from mlops_infra.cost.model import Pricer, Unreadable, by_name, money, number, read_count, read_mapping, read_text
from mlops_infra.cost.runs import ScheduleError, runs_per_month
from mlops_infra.cost.sagemaker import T_PIPELINE, T_SCHEDULE
from mlops_infra.engine.captured import CapturedResource

T_STATE_MACHINE = "aws:sfn/stateMachine:StateMachine"
_START = "sagemaker:startPipelineExecution"


def price_sagemaker_batch(p: Pricer) -> None:
    pipelines = by_name(p.stack, T_PIPELINE)
    for machine in p.stack.by_type(T_STATE_MACHINE):
        p.guarded(machine, functools.partial(_price_machine, p, machine, pipelines))


def _started_pipeline(states: dict[str, Any]) -> str | None:
    for state in states.values():
        if isinstance(state, dict) and str(state.get("Resource", "")).endswith(_START):
            name = read_mapping(state.get("Parameters"), "startPipelineExecution Parameters").get("PipelineName")
            return read_text(name, "the started pipeline's name")
    return None


def _deadline_hours(states: dict[str, Any]) -> float:
    """Polls x seconds between polls: the supervisor's stop (``batch_supervisor``)."""
    waits = [s.get("Seconds") for s in states.values() if isinstance(s, dict) and s.get("Type") == "Wait"]
    polls = [
        choice.get("NumericGreaterThanEquals")
        for state in states.values()
        if isinstance(state, dict) and state.get("Type") == "Choice"
        for choice in state.get("Choices") or []
        if isinstance(choice, dict) and choice.get("Variable") == "$.polls.count"
    ]
    if len(waits) != 1 or len(polls) != 1:
        raise Unreadable("it starts a batch pipeline without a deadline the estimator can read, so a run is unbounded")
    return read_count(polls[0], "deadline polls") * read_count(waits[0], "poll seconds") / 3600


def _schedules_of(p: Pricer, machine_name: str) -> list[str]:
    """Expressions of the enabled schedules targeting the machine; Unreadable when none is found but some
    schedule's target cannot be read (it may be one of them)."""
    expressions, unreadable = [], []
    for schedule in p.stack.by_type(T_SCHEDULE):
        try:
            arn = read_mapping(schedule.inputs.get("target"), "schedule target").get("arn")
            enabled = read_text(schedule.inputs.get("state"), "schedule state", default="ENABLED") != "DISABLED"
            if isinstance(arn, str) and arn.endswith(f":stateMachine:{machine_name}") and enabled:
                expressions.append(read_text(schedule.inputs.get("scheduleExpression"), "schedule expression"))
        except Unreadable as exc:
            unreadable.append(f"schedule {schedule.name}: {exc.reason}")
    if not expressions and unreadable:
        raise Unreadable(f"a schedule's target cannot be read ({unreadable[0]}), so its runs per month are unknown")
    return expressions


def _price_machine(p: Pricer, machine: CapturedResource, pipelines: dict[str, CapturedResource]) -> None:
    text = read_text(machine.inputs.get("definition"), "state machine definition", default="{}")
    try:
        states = read_mapping(read_mapping(json.loads(text), "definition").get("States"), "States")
    except ValueError:
        raise Unreadable("its definition is not JSON the estimator can read") from None
    name = _started_pipeline(states)
    if name is None:
        return  # not a batch supervisor
    hours = _deadline_hours(states)
    pipeline = pipelines.get(name)
    if pipeline is None:
        raise Unreadable(f"the pipeline {name!r} it starts is not in this stack, so its instances are unknown")
    machine_name = read_text(machine.inputs.get("name"), "state machine name", default=machine.name)
    expressions = _schedules_of(p, machine_name)
    if not expressions:
        raise Unreadable("no EventBridge schedule in this stack starts it, so its batch runs per month are unknown")
    try:
        runs = sum(runs_per_month(e) for e in expressions)
    except ScheduleError as exc:
        raise Unreadable(f"its schedule cannot be counted: {exc}") from None
    definition = json.loads(read_text(pipeline.inputs.get("pipelineDefinition"), "pipelineDefinition"))
    total, parts = 0.0, []
    for step in definition.get("Steps") or []:
        if not isinstance(step, dict) or step.get("Type") != "Transform":
            continue
        resources = read_mapping(read_mapping(step.get("Arguments"), "step Arguments").get("TransformResources"), "")
        instance_type = read_text(resources.get("InstanceType"), f"step {step.get('Name')}: instance type")
        count = read_count(resources.get("InstanceCount"), f"step {step.get('Name')}: instance count", default=1)
        usd, why = p.aws_hourly("sagemaker.transform", instance_type)
        if usd is None:
            raise Unreadable(f"step {step.get('Name')}: {why}")
        total += runs * count * hours * usd
        parts.append(
            f"{step.get('Name')}: {number(runs)} runs ({', '.join(expressions)}) x {count} x {instance_type} "
            f"x {number(hours)} h max runtime x {money(usd)}"
        )
    if parts:
        p.item(
            machine, total, total, "; ".join(parts) + " (batch transform; expected = worst case)" + p.aws_region_note
        )
