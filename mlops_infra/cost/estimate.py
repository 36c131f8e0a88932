"""The estimator: prices a captured stack resource by resource, with the correlations a real estimate needs.

Every priced item carries ``monthly_max`` (worst case), ``monthly_expected`` and a ``basis`` a
reviewer can recompute by hand. A resource that costs money but cannot be priced is listed in
``unpriced`` with the reason: nothing is priced at 0 silently. Formulas and assumptions:
docs/cost-model.md.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from mlops_infra.cost.catalogue import MONTH_HOURS, Catalogue
from mlops_infra.cost.runs import ScheduleError, runs_per_month
from mlops_infra.engine.captured import CapturedResource, CapturedStack

CURRENCY = "USD"
# Model Monitor jobs: expected duration assumed per run (worst case is the job's max runtime).
MONITORING_EXPECTED_MINUTES = 15
MONITORING_DEFAULT_MAX_SECONDS = 3600  # SageMaker's limit for a monitoring job without stoppingCondition
K8S_RATE_REGION = "us-central1"  # the region the catalogue's OpenCost default rows are keyed on

T_ENDPOINT = "aws:sagemaker/endpoint:Endpoint"
T_ENDPOINT_CONFIG = "aws:sagemaker/endpointConfiguration:EndpointConfiguration"
T_SCALING_TARGET = "aws:appautoscaling/target:Target"
T_PIPELINE = "aws:sagemaker/pipeline:Pipeline"
T_SCHEDULE = "aws:scheduler/schedule:Schedule"
T_MONITORING = "aws:sagemaker/monitoringSchedule:MonitoringSchedule"
T_VERTEX_DEPLOYMENT = "pulumi-python:dynamic/vertex:VertexModelDeployment"
T_K8S_DEPLOYMENT = "kubernetes:apps/v1:Deployment"
T_K8S_STATEFULSET = "kubernetes:apps/v1:StatefulSet"
T_KSERVE = "kubernetes:serving.kserve.io/v1beta1:InferenceService"
T_HPA = "kubernetes:autoscaling/v2:HorizontalPodAutoscaler"
T_AWS_BUDGET = "aws:budgets/budget:Budget"
T_GCP_BUDGET = "gcp:billing/budget:Budget"
T_K8S_SPEND_BUDGET = "mlops-infra:k8s:SpendBudget"
_JOB_DEFINITIONS = (
    "aws:sagemaker/dataQualityJobDefinition:DataQualityJobDefinition",
    "aws:sagemaker/modelQualityJobDefinition:ModelQualityJobDefinition",
    "aws:sagemaker/modelBiasJobDefinition:ModelBiasJobDefinition",
    "aws:sagemaker/modelExplainabilityJobDefinition:ModelExplainabilityJobDefinition",
)
# Resources that cost money which this estimator does not price yet: listed as unpriced, never 0.
NOT_ESTIMATED: dict[str, str] = {
    "aws:sagemaker/featureGroup:FeatureGroup": "Feature Store online/offline meters are grade N in the catalogue",
    "aws:sagemaker/notebookInstance:NotebookInstance": "notebook instances are not priced by the estimator yet",
    "aws:sagemaker/domain:Domain": "Studio apps are billed per app instance, not estimated",
    "gcp:vertex/aiFeatureOnlineStore:AiFeatureOnlineStore": "Vertex feature online store nodes are grade N in "
    "the catalogue",
    "gcp:vertex/aiEndpoint:AiEndpoint": "",  # priced through its VertexModelDeployment
    "gcp:workflows/workflow:Workflow": "Vertex pipeline runs it starts are not estimated yet (run fee x "
    "schedule is planned)",
    "kubernetes:batch/v1:Job": "Jobs are not estimated yet (requests x duration is unknown offline)",
    "kubernetes:batch/v1:CronJob": "CronJobs are not estimated yet (requests x runs x duration)",
    "kubernetes:argoproj.io/v1alpha1:CronWorkflow": "Argo CronWorkflows are not estimated yet (steps' "
    "requests x runs x duration)",
    "kubernetes:core/v1:PersistentVolumeClaim": "PVC storage is not estimated yet",
}


@dataclass(frozen=True)
class CostItem:
    urn: str
    type: str
    monthly_max: float
    monthly_expected: float
    basis: str

    def to_json(self) -> dict[str, Any]:
        return {
            "urn": self.urn,
            "type": self.type,
            "monthly_max": round(self.monthly_max, 2),
            "monthly_expected": round(self.monthly_expected, 2),
            "basis": self.basis,
        }


@dataclass(frozen=True)
class Unpriced:
    urn: str
    type: str
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {"urn": self.urn, "type": self.type, "reason": self.reason}


@dataclass(frozen=True)
class Budget:
    urn: str
    type: str
    monthly_usd: float


@dataclass
class Estimate:
    """The priced stack: items, unpriced resources, declared budgets and the catalogue date."""

    items: list[CostItem] = field(default_factory=list)
    unpriced: list[Unpriced] = field(default_factory=list)
    budgets: list[Budget] = field(default_factory=list)
    catalogue_date: str = ""

    @property
    def monthly_max(self) -> float:
        return sum(i.monthly_max for i in self.items)

    @property
    def monthly_expected(self) -> float:
        return sum(i.monthly_expected for i in self.items)

    @property
    def declared_budget(self) -> float | None:
        """The sum of the stack's declared monthly budgets, or None when it declares none."""
        return sum(b.monthly_usd for b in self.budgets) if self.budgets else None

    def to_json(self) -> dict[str, Any]:
        """The ``cost`` section of the JSON contract."""
        return {
            "currency": CURRENCY,
            "monthly_max": round(self.monthly_max, 2),
            "monthly_expected": round(self.monthly_expected, 2),
            "items": [i.to_json() for i in self.items],
            "unpriced": [u.to_json() for u in self.unpriced],
            "catalogue": {"date": self.catalogue_date},
        }


def money(value: float) -> str:
    """A unit price as written in a basis: no float noise, at least two decimals."""
    text = f"{value:.6f}".rstrip("0")
    whole, _, frac = text.partition(".")
    return f"${whole}.{frac.ljust(2, '0')}"


def number(value: float) -> str:
    return f"{value:g}" if value == int(value) else f"{value:.4g}"


class _Pricer:
    def __init__(self, stack: CapturedStack, catalogue: Catalogue) -> None:
        self.stack = stack
        self.catalogue = catalogue
        self.estimate = Estimate(catalogue_date=catalogue.date.isoformat())
        self.aws_region, self.aws_region_note = self._region("aws", "us-east-1")

    def _region(self, provider: str, base: str) -> tuple[str, str]:
        for key, value in self.stack.config.items():
            if key == f"{provider}:region" and isinstance(value, str) and value:
                return value, ""
        return base, f" (no {provider}:region in config: {base} assumed)"

    def unpriced(self, resource: CapturedResource, reason: str) -> None:
        self.estimate.unpriced.append(Unpriced(resource.urn, resource.type, reason))

    def item(self, resource: CapturedResource, worst: float, expected: float, basis: str) -> None:
        self.estimate.items.append(CostItem(resource.urn, resource.type, worst, expected, basis))

    def aws_hourly(self, service: str, instance_type: str) -> tuple[float | None, str]:
        found = self.catalogue.lookup("aws", service, instance_type, self.aws_region, unit="instance-hour")
        if found.usd is None:
            return None, found.warning or f"aws {service} {instance_type} is not in the price catalogue"
        return found.usd, ""


def _by_name(stack: CapturedStack, type_token: str) -> dict[str, CapturedResource]:
    found: dict[str, CapturedResource] = {}
    for resource in stack.by_type(type_token):
        for key in ("name", "pipelineName", "endpointName"):
            value = resource.inputs.get(key)
            if isinstance(value, str):
                found[value] = resource
    return found


# --- SageMaker endpoints ------------------------------------------------------------------------


def _scaling_targets(stack: CapturedStack) -> dict[tuple[str, str], dict[str, Any]]:
    targets: dict[tuple[str, str], dict[str, Any]] = {}
    for target in stack.by_type(T_SCALING_TARGET):
        match = re.fullmatch(r"endpoint/([^/]+)/variant/([^/]+)", str(target.inputs.get("resourceId", "")))
        if match and target.inputs.get("serviceNamespace", "sagemaker") == "sagemaker":
            targets[(match.group(1), match.group(2))] = target.inputs
    return targets


def _price_endpoints(p: _Pricer) -> None:
    stack = p.stack
    configs = {r.urn: r for r in stack.by_type(T_ENDPOINT_CONFIG)}
    configs_by_name = _by_name(stack, T_ENDPOINT_CONFIG)
    targets = _scaling_targets(stack)
    for endpoint in stack.by_type(T_ENDPOINT):
        config = configs_by_name.get(str(endpoint.inputs.get("endpointConfigName", "")))
        if config is None:
            config = next((configs[u] for u in endpoint.dependencies if u in configs), None)
        if config is None:
            p.unpriced(endpoint, "its endpoint configuration is not in this stack, so its instances are unknown")
            continue
        endpoint_name = str(endpoint.inputs.get("name") or endpoint.name)
        for variant in config.inputs.get("productionVariants") or []:
            _price_variant(p, endpoint, endpoint_name, variant, targets)


def _price_variant(
    p: _Pricer,
    endpoint: CapturedResource,
    endpoint_name: str,
    variant: dict[str, Any],
    targets: dict[tuple[str, str], dict[str, Any]],
) -> None:
    variant_name = str(variant.get("variantName", "?"))
    label = f"variant {variant_name}: "
    serverless = variant.get("serverlessConfig")
    if serverless:
        memory = int(serverless.get("memorySizeInMb", 0))
        concurrency = int(serverless.get("maxConcurrency", 1))
        found = p.catalogue.lookup("aws", "sagemaker.serverless", f"memory-{memory}mb", p.aws_region)
        if found.usd is None:
            p.unpriced(endpoint, label + (found.warning or f"serverless memory {memory} MB is not priced"))
            return
        seconds = MONTH_HOURS * 3600
        worst = concurrency * seconds * found.usd
        p.item(
            endpoint,
            worst,
            worst,
            f"{label}serverless {concurrency} max concurrency x {memory} MB x {MONTH_HOURS} h x 3600 s x "
            f"{money(found.usd)}/s (worst case: always busy; expected = worst case, traffic unknown)"
            + p.aws_region_note,
        )
        return
    instance_type = str(variant.get("instanceType", ""))
    usd, why = p.aws_hourly("sagemaker.hosting", instance_type)
    if usd is None:
        p.unpriced(endpoint, label + why)
        return
    target = targets.get((endpoint_name, variant_name))
    if target is not None:
        worst_count = int(target.get("maxCapacity", 1))
        expected_count = int(target.get("minCapacity", worst_count))
        source = "autoscaling max/min capacity"
    else:
        worst_count = expected_count = int(variant.get("initialInstanceCount", 1))
        source = "initial instance count, no autoscaling target"
    basis = f"{label}{worst_count} x {instance_type} x {MONTH_HOURS} h x {money(usd)}"
    if expected_count != worst_count:
        basis += f"; expected {expected_count} x"
    basis += f" ({source})" + p.aws_region_note
    p.item(endpoint, worst_count * MONTH_HOURS * usd, expected_count * MONTH_HOURS * usd, basis)


# --- SageMaker pipelines (training and processing steps) ----------------------------------------


def _resolve(value: Any, parameters: dict[str, Any]) -> Any:
    if isinstance(value, dict) and set(value) == {"Get"} and str(value["Get"]).startswith("Parameters."):
        return parameters.get(str(value["Get"]).split(".", 1)[1])
    return value


def _pipeline_schedules(stack: CapturedStack) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for schedule in stack.by_type(T_SCHEDULE):
        target = schedule.inputs.get("target") or {}
        if schedule.inputs.get("state", "ENABLED") == "DISABLED":
            continue
        name = None
        arn = str(target.get("arn", ""))
        if arn.endswith("sagemaker:startPipelineExecution"):
            try:
                name = json.loads(target.get("input") or "{}").get("PipelineName")
            except (ValueError, AttributeError):
                name = None
        elif ":pipeline/" in arn:
            name = arn.rsplit(":pipeline/", 1)[1]
        if name:
            found.setdefault(str(name), []).append(str(schedule.inputs.get("scheduleExpression", "")))
    return found


def _steps(definition: dict[str, Any]) -> Iterator[tuple[str, str, Any, Any, Any, bool]]:
    """(step name, kind, instance type, count, max runtime s, spot) of each training/processing step."""
    parameters = {p.get("Name"): p.get("DefaultValue") for p in definition.get("Parameters") or []}
    for step in definition.get("Steps") or []:
        arguments = step.get("Arguments") or {}
        stopping = arguments.get("StoppingCondition") or {}
        if step.get("Type") == "Training":
            resources = arguments.get("ResourceConfig") or {}
            kind, spot = "training", bool(arguments.get("EnableManagedSpotTraining"))
        elif step.get("Type") == "Processing":
            resources = (arguments.get("ProcessingResources") or {}).get("ClusterConfig") or {}
            kind, spot = "processing", False
        else:
            continue
        yield (
            str(step.get("Name")),
            kind,
            _resolve(resources.get("InstanceType"), parameters),
            _resolve(resources.get("InstanceCount", 1), parameters),
            _resolve(stopping.get("MaxRuntimeInSeconds"), parameters),
            spot,
        )


def _price_pipelines(p: _Pricer) -> None:
    schedules = _pipeline_schedules(p.stack)
    for pipeline in p.stack.by_type(T_PIPELINE):
        name = str(pipeline.inputs.get("pipelineName") or pipeline.name)
        try:
            definition = json.loads(str(pipeline.inputs.get("pipelineDefinition") or "{}"))
        except ValueError:
            p.unpriced(pipeline, "its pipelineDefinition is not JSON the estimator can read")
            continue
        steps = list(_steps(definition))
        if not steps:
            continue
        expressions = schedules.get(name)
        if not expressions:
            p.unpriced(pipeline, "no EventBridge schedule in this stack starts it, so its runs per month are unknown")
            continue
        try:
            runs = sum(runs_per_month(e) for e in expressions)
        except ScheduleError as exc:
            p.unpriced(pipeline, f"its schedule cannot be counted: {exc}")
            continue
        parts: list[str] = []
        total = 0.0
        for step_name, kind, instance_type, count, max_seconds, spot in steps:
            if not isinstance(instance_type, str) or not isinstance(max_seconds, int | float):
                p.unpriced(pipeline, f"step {step_name}: instance type or MaxRuntimeInSeconds is not a literal")
                parts = []
                break
            usd, why = p.aws_hourly(f"sagemaker.{kind}", instance_type)
            if usd is None:
                p.unpriced(pipeline, f"step {step_name}: {why}")
                parts = []
                break
            hours = max_seconds / 3600
            total += runs * int(count) * hours * usd
            spot_note = " (spot requested; on-demand price: the catalogue has no spot discount)" if spot else ""
            parts.append(
                f"{step_name}: {number(runs)} runs x {int(count)} x {instance_type} x {number(hours)} h max "
                f"x {money(usd)}{spot_note}"
            )
        if parts:
            basis = "; ".join(parts) + f" (runs per 30.4-day month from {', '.join(expressions)})" + p.aws_region_note
            p.item(pipeline, total, total, basis + "; expected = worst case (max runtime)")


# --- SageMaker Model Monitor schedules ----------------------------------------------------------


def _price_monitoring(p: _Pricer) -> None:
    definitions: dict[str, CapturedResource] = {}
    for type_token in _JOB_DEFINITIONS:
        definitions.update(_by_name(p.stack, type_token))
    for schedule in p.stack.by_type(T_MONITORING):
        config = schedule.inputs.get("monitoringScheduleConfig") or {}
        definition = definitions.get(str(config.get("monitoringJobDefinitionName", "")))
        expression = str((config.get("scheduleConfig") or {}).get("scheduleExpression", ""))
        if definition is None:
            p.unpriced(schedule, "its monitoring job definition is not in this stack, so its instance is unknown")
            continue
        cluster = (definition.inputs.get("jobResources") or {}).get("clusterConfig") or {}
        instance_type, count = str(cluster.get("instanceType", "")), int(cluster.get("instanceCount", 1))
        max_seconds = (definition.inputs.get("stoppingCondition") or {}).get(
            "maxRuntimeInSeconds", MONITORING_DEFAULT_MAX_SECONDS
        )
        try:
            runs = runs_per_month(expression)
        except ScheduleError as exc:
            p.unpriced(schedule, f"its schedule cannot be counted: {exc}")
            continue
        usd, why = p.aws_hourly("sagemaker.processing", instance_type)
        if usd is None:
            p.unpriced(schedule, why)
            continue
        worst_h, expected_h = max_seconds / 3600, min(max_seconds / 3600, MONITORING_EXPECTED_MINUTES / 60)
        p.item(
            schedule,
            runs * count * worst_h * usd,
            runs * count * expected_h * usd,
            f"{number(runs)} runs ({expression}) x {count} x {instance_type} x {number(worst_h)} h max "
            f"x {money(usd)}; expected {number(expected_h)} h per run (assumed)" + p.aws_region_note,
        )


# --- Vertex AI ----------------------------------------------------------------------------------


def _vertex_reason(catalogue: Catalogue, sku: str, region: str, warning: str | None) -> str:
    """Say grade N when the catalogue's base-region row is N, whatever the region (the real reason)."""
    base = catalogue.files["gcp"].base_region if "gcp" in catalogue.files else None
    if base and base != region:
        at_base = catalogue.lookup("gcp", "vertex.prediction", sku, base)
        if at_base.row is None and at_base.warning and "grade N" in at_base.warning:
            return f"{at_base.warning}; and no row for {region}"
    return warning or f"gcp vertex.prediction {sku} is not in the price catalogue"


def _price_vertex(p: _Pricer) -> None:
    for deployment in p.stack.by_type(T_VERTEX_DEPLOYMENT):
        region = str(deployment.inputs.get("region", ""))
        worst = expected = 0.0
        parts: list[str] = []
        reason = ""
        for model in deployment.inputs.get("deployments") or []:
            machine = str(model.get("machine_type", ""))
            low, high = int(model.get("min_replica_count", 1)), int(model.get("max_replica_count", 1))
            found = p.catalogue.lookup("gcp", "vertex.prediction", machine, region)
            if found.usd is None:
                reason = _vertex_reason(p.catalogue, machine, region, found.warning)
                break
            hourly, text = found.usd, f"{machine} {money(found.usd)}"
            accelerator, accelerators = model.get("accelerator_type"), int(model.get("accelerator_count") or 0)
            if accelerator and accelerators:
                acc = p.catalogue.lookup("gcp", "vertex.prediction", str(accelerator), region)
                if acc.usd is None:
                    reason = acc.warning or f"gcp vertex.prediction {accelerator} is not in the price catalogue"
                    break
                hourly += accelerators * acc.usd
                text += f" + {accelerators} x {accelerator} {money(acc.usd)}"
            worst += high * MONTH_HOURS * hourly
            expected += low * MONTH_HOURS * hourly
            parts.append(f"{high} (expected {low}) x ({text}) x {MONTH_HOURS} h")
        if reason:
            p.unpriced(deployment, reason)
        elif parts:
            p.item(deployment, worst, expected, "; ".join(parts))


# --- Kubernetes ---------------------------------------------------------------------------------

_QUANTITY = re.compile(r"^([0-9.]+)([a-zA-Z]*)$")
_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "k": 1e3, "K": 1e3, "M": 1e6, "G": 1e9, "T": 1e12}


def _quantity(value: Any, *, cpu: bool) -> float:
    match = _QUANTITY.match(str(value).strip())
    if not match:
        raise ValueError(f"resource quantity {value!r} is not a number the estimator reads")
    amount, suffix = float(match.group(1)), match.group(2)
    if cpu:
        return amount / 1000 if suffix == "m" else amount
    if suffix == "m":
        return amount / 1000 / 2**30
    if suffix and suffix not in _BINARY:
        raise ValueError(f"resource quantity {value!r} has an unknown suffix")
    return amount * _BINARY.get(suffix, 1) / 2**30  # GiB (the "GB" of OpenCost's rates)


def _requests(containers: list[dict[str, Any]]) -> tuple[float, float, float]:
    cpu = memory = gpu = 0.0
    for container in containers:
        resources = container.get("resources") or {}
        requests, limits = resources.get("requests") or {}, resources.get("limits") or {}
        cpu += _quantity(requests.get("cpu", limits.get("cpu", 0)), cpu=True)
        memory += _quantity(requests.get("memory", limits.get("memory", 0)), cpu=False)
        gpu += float(requests.get("nvidia.com/gpu", limits.get("nvidia.com/gpu", 0)))
    return cpu, memory, gpu


def _hpa_max(stack: CapturedStack) -> dict[tuple[str | None, str, str], tuple[int, int]]:
    found = {}
    for hpa in stack.by_type(T_HPA):
        spec, meta = hpa.inputs.get("spec") or {}, hpa.inputs.get("metadata") or {}
        ref = spec.get("scaleTargetRef") or {}
        key = (meta.get("namespace"), str(ref.get("kind")), str(ref.get("name")))
        found[key] = (int(spec.get("minReplicas", 1)), int(spec.get("maxReplicas", 1)))
    return found


def _price_k8s(p: _Pricer) -> None:
    rates: dict[str, float] = {}
    for sku, unit in (("cpu", "vCPU-hour"), ("ram", "GB-hour"), ("gpu", "GPU-hour")):
        found = p.catalogue.lookup("k8s", "opencost.default", sku, K8S_RATE_REGION, unit=unit)
        if found.usd is not None:
            rates[sku] = found.usd
    hpas = _hpa_max(p.stack)
    workloads = [*p.stack.by_type(T_K8S_DEPLOYMENT), *p.stack.by_type(T_K8S_STATEFULSET), *p.stack.by_type(T_KSERVE)]
    for workload in workloads:
        spec, meta = workload.inputs.get("spec") or {}, workload.inputs.get("metadata") or {}
        if workload.type == T_KSERVE:
            predictor = spec.get("predictor") or {}
            containers = [predictor["model"]] if isinstance(predictor.get("model"), dict) else []
            containers += predictor.get("containers") or []
            low, high = int(predictor.get("minReplicas", 1)), int(predictor.get("maxReplicas", 0) or 0)
            high = max(high, low)
            scale = "KServe min/max replicas"
        else:
            containers = ((spec.get("template") or {}).get("spec") or {}).get("containers") or []
            low = high = int(spec.get("replicas", 1))
            kind = "Deployment" if workload.type == T_K8S_DEPLOYMENT else "StatefulSet"
            hpa = hpas.get((meta.get("namespace"), kind, str(meta.get("name"))))
            if hpa:
                low, high = hpa
                scale = "HPA min/max replicas"
            else:
                scale = "replicas"
        try:
            cpu, memory, gpu = _requests(containers)
        except ValueError as exc:
            p.unpriced(workload, str(exc))
            continue
        missing = [s for s, q in (("cpu", cpu), ("ram", memory), ("gpu", gpu)) if q and s not in rates]
        if missing:
            p.unpriced(workload, f"no Kubernetes rate for {', '.join(missing)} in the catalogue (opencost.default)")
            continue
        if not (cpu or memory or gpu):
            p.unpriced(workload, "its containers request no CPU, memory or GPU, so it has no price at node rates")
            continue
        hourly = cpu * rates.get("cpu", 0) + memory * rates.get("ram", 0) + gpu * rates.get("gpu", 0)
        text = f"{number(cpu)} vCPU x {money(rates.get('cpu', 0))}"
        text += f" + {number(memory)} GiB x {money(rates.get('ram', 0))}"
        if gpu:
            text += f" + {number(gpu)} GPU x {money(rates['gpu'])}"
        basis = f"{high} x ({text}) x {MONTH_HOURS} h"
        if low != high:
            basis += f"; expected {low} x"
        basis += f" ({scale}; requests at OpenCost default rates)"
        p.item(workload, high * hourly * MONTH_HOURS, low * hourly * MONTH_HOURS, basis)


# --- the rest -----------------------------------------------------------------------------------


def _not_estimated(p: _Pricer) -> None:
    for resource in p.stack.resources:
        reason = NOT_ESTIMATED.get(resource.type)
        if reason:
            p.unpriced(resource, reason)


def _float(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def find_budgets(stack: CapturedStack) -> list[Budget]:
    """The monthly budgets the stack declares (AWS Budgets, GCP billing budgets, the k8s SpendBudget)."""
    budgets = []
    for resource in stack.resources:
        amount = None
        if resource.type == T_AWS_BUDGET and resource.inputs.get("timeUnit", "MONTHLY") == "MONTHLY":
            amount = _float(resource.inputs.get("limitAmount"))
        elif resource.type == T_GCP_BUDGET:
            specified = (resource.inputs.get("amount") or {}).get("specifiedAmount") or {}
            units = _float(specified.get("units"))
            if units is not None:
                amount = units + (_float(specified.get("nanos")) or 0) / 1e9
        elif resource.type == T_K8S_SPEND_BUDGET:
            amount = _float(resource.inputs.get("monthlyLimitUsd"))
        if amount is not None:
            budgets.append(Budget(resource.urn, resource.type, amount))
    return budgets


PRICERS: tuple[Callable[[_Pricer], None], ...] = (
    _price_endpoints,
    _price_pipelines,
    _price_monitoring,
    _price_vertex,
    _price_k8s,
    _not_estimated,
)


def estimate_stack(stack: CapturedStack, catalogue: Catalogue) -> Estimate:
    """Price every resource of ``stack`` that costs money; see docs/cost-model.md for the formulas."""
    pricer = _Pricer(stack, catalogue)
    for price in PRICERS:
        price(pricer)
    pricer.estimate.budgets = find_budgets(stack)
    return pricer.estimate
