"""The compute of one Vertex pipeline run, step by step, from the compiled PipelineSpec the graph carries.

Two step shapes state their machine and hard stop, so they are priced at ``vertex.training`` rates:

- an executor that is a Vertex CustomJob (``deploymentSpec.executors.*.customJob``): replicas x
  (machine + accelerators) x ``scheduling.timeout``;
- a google-cloud-pipeline-components CustomJob step (the ``custom_job.launcher`` container that
  ``create_custom_training_job_from_component`` / ``CustomTrainingJobOp`` compile to): the job's
  ``worker_pool_specs``, ``timeout`` and ``strategy`` are the component's inputs, read from the task that
  runs it (a constant, or a root pipeline parameter: the PipelineJob's value, else its default) or the
  component's input default. A task inside a ParallelFor runs an unknown number of times: unpriced.
  Assumption (docs/cost-model.md): the small launcher container that submits the job and waits for it
  is not priced; at Vertex Pipelines' default step machine (``e2-standard-4``) it would add that
  machine's rate x the same timeout per step.

A plain container step states neither a machine nor a max runtime (Vertex runs it on a default
machine until it ends), so its compute is listed as unpriced with that reason.
"""

from __future__ import annotations

import re
from typing import Any

from mlops_infra.cost.model import (
    Pricer,
    Unreadable,
    number,
    read_count,
    read_list,
    read_mapping,
    read_text,
)
from mlops_infra.cost.vertex import machine_hourly

# The module google-cloud-pipeline-components' CustomJob components run (v1 and preview share it).
GCPC_CUSTOM_JOB_LAUNCHER = re.compile(
    r"^google_cloud_pipeline_components\.container\.(?:v1|preview)\.custom_job\.launcher$"
)
_DURATION = re.compile(r"^([0-9]+(?:\.[0-9]+)?)s$")
_JOB_INPUTS = ("worker_pool_specs", "timeout", "strategy")


def steps_per_run(p: Pricer, job: dict[str, Any], region: str) -> tuple[float, list[str], list[tuple[str, str]]]:
    """USD per run of the steps that state their machine and max runtime, their bases, and the others."""
    if "pipelineSpec" not in job:
        uri = read_text(job.get("templateUri"), "templateUri")
        return 0.0, [], [("(all)", f"it runs the template {uri}, whose steps are not in this graph")]
    spec = read_mapping(job.get("pipelineSpec"), "pipelineSpec")
    deployment = read_mapping(spec.get("deploymentSpec"), "pipelineSpec deploymentSpec")
    executors = read_mapping(deployment.get("executors"), "pipelineSpec executors")
    runtime = read_mapping(read_mapping(job.get("runtimeConfig"), "runtimeConfig").get("parameterValues"), "values")
    total, parts, unknown = 0.0, [], []
    plain: list[tuple[str, str]] = []
    for name, raw in sorted(executors.items()):
        executor = read_mapping(raw, f"executor {name}")
        if "customJob" in executor:
            try:
                usd, text = custom_job(p, read_mapping(executor["customJob"], "customJob"), region)
            except Unreadable as exc:
                unknown.append((name, exc.reason))
                continue
            total += usd
            parts.append(f"{name}: {text}")
        elif "container" in executor:
            container = read_mapping(executor["container"], "container")
            if _is_gcpc_custom_job(container):
                for task, outcome in _gcpc_tasks(p, spec, name, runtime, region):
                    if isinstance(outcome, Unreadable):
                        unknown.append((task, outcome.reason))
                    else:
                        total += outcome[0]
                        parts.append(f"{task}: {outcome[1]}")
            else:
                plain.append((name, _stated_limits(container)))
        # importer / resolver executors run no billed compute
    unknown.extend(
        (
            f"{name} (limits: {stated})" if stated else name,
            "the pipeline spec states no machine type and no max runtime for these container steps "
            "(Vertex picks the machine at run time), so their compute is unknown offline",
        )
        for name, stated in plain
    )
    return total, parts, unknown


def _stated_limits(container: dict[str, Any]) -> str:
    limits = read_mapping(container.get("resources"), "container resources")
    stated = ", ".join(f"{key} {limits[key]}" for key in ("resourceCpuLimit", "resourceMemoryLimit") if key in limits)
    accelerator = read_mapping(limits.get("accelerator"), "accelerator")
    if accelerator:
        stated += f", accelerator {accelerator.get('resourceType') or accelerator.get('type')}"
    return stated


def _is_gcpc_custom_job(container: dict[str, Any]) -> bool:
    command = container.get("command")
    return isinstance(command, list) and any(
        isinstance(part, str) and GCPC_CUSTOM_JOB_LAUNCHER.match(part) for part in command
    )


def _dags(spec: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every DAG of the spec by component name (``""`` is the root) -> its tasks."""
    dags = {"": read_mapping(read_mapping(spec.get("root"), "root").get("dag"), "root dag")}
    for name, raw in read_mapping(spec.get("components"), "components").items():
        dag = read_mapping(raw, f"component {name}").get("dag")
        if dag is not None:
            dags[name] = read_mapping(dag, f"component {name} dag")
    return {name: read_mapping(dag.get("tasks"), f"{name or 'root'} tasks") for name, dag in dags.items()}


def _times(dags: dict[str, dict[str, Any]], dag: str, seen: frozenset[str] = frozenset()) -> int:
    """How many times a run executes ``dag`` (a branch counts as taken: worst case); Unreadable in a loop."""
    if dag == "":
        return 1
    if dag in seen:
        raise Unreadable(f"its DAG {dag} refers to itself")
    count = 0
    for parent, tasks in dags.items():
        for task in tasks.values():
            if read_mapping(task.get("componentRef"), "componentRef").get("name") != dag:
                continue
            if "parameterIterator" in task or "artifactIterator" in task:
                raise Unreadable("it runs inside a ParallelFor loop, once per item: the item count is unknown offline")
            count += _times(dags, parent, seen | {dag})
    return count


def _gcpc_tasks(
    p: Pricer, spec: dict[str, Any], executor: str, runtime: dict[str, Any], region: str
) -> list[tuple[str, tuple[float, str] | Unreadable]]:
    """Each task that runs the GCPC CustomJob ``executor``, with its (USD per run, basis) or why not."""
    components = read_mapping(spec.get("components"), "components")
    root_inputs = read_mapping(
        read_mapping(read_mapping(spec.get("root"), "root").get("inputDefinitions"), "root inputs").get("parameters"),
        "root parameters",
    )
    dags = _dags(spec)
    found: list[tuple[str, tuple[float, str] | Unreadable]] = []
    for dag, tasks in sorted(dags.items()):
        for task_name, raw in sorted(tasks.items()):
            task = read_mapping(raw, f"task {task_name}")
            component = read_mapping(task.get("componentRef"), "componentRef").get("name")
            definition = read_mapping(components.get(str(component)), f"component {component}")
            if definition.get("executorLabel") != executor:
                continue
            try:
                times = _times(dags, dag)
                values = {
                    key: _task_input(task, definition, key, in_root=not dag, runtime=runtime, root_inputs=root_inputs)
                    for key in _JOB_INPUTS
                }
                usd, text = gcpc_custom_job(p, values, region)
            except Unreadable as exc:
                found.append((task_name, exc))
                continue
            found.append((task_name, (times * usd, f"{times} x ({text})" if times != 1 else text)))
    return found


def _task_input(
    task: dict[str, Any],
    component: dict[str, Any],
    key: str,
    *,
    in_root: bool,
    runtime: dict[str, Any],
    root_inputs: dict[str, Any],
) -> Any:
    """A CustomJob input of ``task``: its constant, the root parameter it names, else the component default."""
    given = read_mapping(read_mapping(task.get("inputs"), "task inputs").get("parameters"), "task parameters")
    if key in given:
        source = read_mapping(given[key], f"task input {key}")
        if "runtimeValue" in source:
            return read_mapping(source["runtimeValue"], f"task input {key}").get("constant")
        parameter = source.get("componentInputParameter")
        if in_root and isinstance(parameter, str):
            if parameter in runtime:
                return runtime[parameter]
            default = read_mapping(root_inputs.get(parameter), f"pipeline parameter {parameter}")
            if "defaultValue" in default:
                return default["defaultValue"]
        raise Unreadable(f"its CustomJob {key} is set at run time (from {parameter or 'another task'})")
    definitions = read_mapping(
        read_mapping(component.get("inputDefinitions"), "component inputs").get("parameters"), "component parameters"
    )
    return read_mapping(definitions.get(key), f"component input {key}").get("defaultValue")


def _camel(value: Any) -> Any:
    """GCPC writes the CustomJob payload in snake_case; the API (and ``custom_job``) reads camelCase too."""
    if isinstance(value, dict):
        return {re.sub(r"_([a-z])", lambda m: m.group(1).upper(), k): _camel(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_camel(v) for v in value]
    return value


def gcpc_custom_job(p: Pricer, values: dict[str, Any], region: str) -> tuple[float, str]:
    """A GCPC CustomJob step: its worker pools x its timeout (the launcher step is an assumption, see docs)."""
    scheduling = {"timeout": values["timeout"], "strategy": values["strategy"]}
    job = {"jobSpec": {"workerPoolSpecs": _camel(values["worker_pool_specs"]), "scheduling": scheduling}}
    return custom_job(p, job, region)


def _timeout_hours(scheduling: dict[str, Any]) -> float:
    timeout = read_text(scheduling.get("timeout"), "CustomJob scheduling.timeout")
    match = _DURATION.match(timeout.strip())
    if match is None:
        raise Unreadable(f"CustomJob scheduling.timeout {timeout!r} is not a duration like '7200s'")
    return float(match.group(1)) / 3600


def custom_job(p: Pricer, custom: dict[str, Any], region: str) -> tuple[float, str]:
    """One run of a CustomJob: replicas x (machine + accelerators) at vertex.training rates x timeout."""
    inner = read_mapping(custom.get("customJob"), "customJob") or custom
    spec = read_mapping(inner.get("jobSpec"), "jobSpec") or inner
    scheduling = read_mapping(spec.get("scheduling"), "scheduling")
    hours = _timeout_hours(scheduling)
    total, parts = 0.0, []
    for raw in read_list(spec.get("workerPoolSpecs"), "workerPoolSpecs"):
        pool = read_mapping(raw, "worker pool")
        if not pool:
            continue  # an empty pool spec (a placeholder position) runs nothing
        machine_spec = read_mapping(pool.get("machineSpec"), "machineSpec")
        machine = read_text(machine_spec.get("machineType"), "machine type")
        replicas = read_count(pool.get("replicaCount"), "replica count", default=1)
        accelerators = read_count(machine_spec.get("acceleratorCount"), "accelerator count", default=0)
        hourly, text = machine_hourly(
            p,
            "vertex.training",
            region,
            machine=machine,
            accelerators=accelerators,
            accelerator_type=machine_spec.get("acceleratorType"),
        )
        total += replicas * hours * hourly
        parts.append(f"{replicas} x ({text}) x {number(hours)} h max")
    if not parts:
        raise Unreadable("the CustomJob has no worker pool with a machine")
    strategy = scheduling.get("strategy")
    note = " (Spot requested; priced on demand: the catalogue has no Spot rate)" if strategy == "SPOT" else ""
    return total, " + ".join(parts) + note
