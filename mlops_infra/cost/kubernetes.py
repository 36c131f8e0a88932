"""Kubernetes: Deployments, StatefulSets, KServe InferenceServices and Seldon Core v2 Servers (requests x
replicas x node rates; a Server from its podSpec override's containers), and persistent storage
(PersistentVolumeClaims, StatefulSet volumeClaimTemplates) at the storage rate.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any

from mlops_infra.cost.catalogue import MONTH_HOURS
from mlops_infra.cost.model import (
    Pricer,
    Unreadable,
    money,
    number,
    read_count,
    read_list,
    read_mapping,
    read_number,
    read_text,
)
from mlops_infra.engine.captured import CapturedResource, CapturedStack
from mlops_infra.policy.values import is_unknown

K8S_RATE_REGION = "us-central1"  # the region the catalogue's OpenCost default rows are keyed on
T_K8S_DEPLOYMENT = "kubernetes:apps/v1:Deployment"
T_K8S_STATEFULSET = "kubernetes:apps/v1:StatefulSet"
T_KSERVE = "kubernetes:serving.kserve.io/v1beta1:InferenceService"
T_SELDON_SERVER = "kubernetes:mlops.seldon.io/v1alpha1:Server"
T_HPA = "kubernetes:autoscaling/v2:HorizontalPodAutoscaler"
T_PVC = "kubernetes:core/v1:PersistentVolumeClaim"

_QUANTITY = re.compile(r"^([0-9.]+)([a-zA-Z]*)$")
_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "k": 1e3, "K": 1e3, "M": 1e6, "G": 1e9, "T": 1e12}
_RATES = (("cpu", "vCPU-hour"), ("ram", "GB-hour"), ("gpu", "GPU-hour"), ("storage", "GB-hour"))


def quantity(value: Any, what: str, *, cpu: bool) -> float:
    """A Kubernetes quantity in vCPU (``cpu=True``) or GiB; Unreadable names ``what`` when it cannot be read."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        amount, suffix = read_number(value, what), ""
    else:
        text = read_text(value, what)
        match = _QUANTITY.match(text.strip())
        if not match:
            raise Unreadable(f"{what} {value!r} is not a quantity the estimator reads")
        amount, suffix = read_number(match.group(1), what), match.group(2)
    if cpu:
        return amount / 1000 if suffix == "m" else amount
    if suffix == "m":
        return amount / 1000 / 2**30
    if suffix and suffix not in _BINARY:
        raise Unreadable(f"{what} {value!r} has an unknown suffix")
    return amount * _BINARY.get(suffix, 1) / 2**30  # GiB (the "GB" of OpenCost's rates)


@dataclass(frozen=True)
class PodRequests:
    cpu: float
    memory: float
    gpu: float


def pod_requests(containers: list[Any]) -> PodRequests:
    """Summed requests (limits when a request is absent) of ``containers``."""
    cpu = memory = gpu = 0.0
    for raw in containers:
        container = read_mapping(raw, "container")
        label = f"container {container.get('name', '?')}"
        resources = read_mapping(container.get("resources"), f"{label} resources")
        requests = read_mapping(resources.get("requests"), f"{label} requests")
        limits = read_mapping(resources.get("limits"), f"{label} limits")
        cpu += quantity(requests.get("cpu", limits.get("cpu", 0)), f"{label} cpu request", cpu=True)
        memory += quantity(requests.get("memory", limits.get("memory", 0)), f"{label} memory request", cpu=False)
        gpu += read_number(requests.get("nvidia.com/gpu", limits.get("nvidia.com/gpu", 0)), f"{label} GPU request")
    return PodRequests(cpu, memory, gpu)


def node_rates(p: Pricer) -> dict[str, float]:
    """The catalogue's OpenCost default rates that are priced (cpu, ram, gpu per hour; storage per GB-hour)."""
    rates: dict[str, float] = {}
    for sku, unit in _RATES:
        found = p.catalogue.lookup("k8s", "opencost.default", sku, K8S_RATE_REGION, unit=unit)
        if found.usd is not None:
            rates[sku] = found.usd
    return rates


def pod_hourly(requests: PodRequests, rates: dict[str, float]) -> tuple[float, str]:
    """USD per hour of one pod at the node rates, and the text of the sum; Unreadable without a rate or requests."""
    missing = [
        s for s, q in (("cpu", requests.cpu), ("ram", requests.memory), ("gpu", requests.gpu)) if q and s not in rates
    ]
    if missing:
        raise Unreadable(f"no Kubernetes rate for {', '.join(missing)} in the catalogue (opencost.default)")
    if not (requests.cpu or requests.memory or requests.gpu):
        raise Unreadable("its containers request no CPU, memory or GPU, so it has no price at node rates")
    hourly = (
        requests.cpu * rates.get("cpu", 0) + requests.memory * rates.get("ram", 0) + requests.gpu * rates.get("gpu", 0)
    )
    text = f"{number(requests.cpu)} vCPU x {money(rates.get('cpu', 0))}"
    text += f" + {number(requests.memory)} GiB x {money(rates.get('ram', 0))}"
    if requests.gpu:
        text += f" + {number(requests.gpu)} GPU x {money(rates['gpu'])}"
    return hourly, text


def _hpa_max(stack: CapturedStack) -> dict[tuple[str | None, str, str], tuple[int, int]]:
    found = {}
    for hpa in stack.by_type(T_HPA):
        try:
            spec, meta = (
                read_mapping(hpa.inputs.get("spec"), "spec"),
                read_mapping(hpa.inputs.get("metadata"), "metadata"),
            )
            ref = read_mapping(spec.get("scaleTargetRef"), "scaleTargetRef")
            key = (meta.get("namespace"), str(ref.get("kind")), str(ref.get("name")))
            low = read_count(spec.get("minReplicas"), "HPA min replicas", default=1)
            found[key] = (low, max(low, read_count(spec.get("maxReplicas"), "HPA max replicas", default=low)))
        except Unreadable:
            continue  # an HPA that cannot be read scales nothing we can name; its target keeps its replicas
    return found


def price_kubernetes(p: Pricer) -> None:
    rates = node_rates(p)
    hpas = _hpa_max(p.stack)
    workloads = [
        *p.stack.by_type(T_K8S_DEPLOYMENT),
        *p.stack.by_type(T_K8S_STATEFULSET),
        *p.stack.by_type(T_KSERVE),
        *p.stack.by_type(T_SELDON_SERVER),
    ]
    for workload in workloads:
        p.guarded(workload, functools.partial(_price_workload, p, workload, rates, hpas))
    for claim in p.stack.by_type(T_PVC):
        p.guarded(claim, functools.partial(_price_claim, p, claim, rates))


def _price_workload(
    p: Pricer,
    workload: CapturedResource,
    rates: dict[str, float],
    hpas: dict[tuple[str | None, str, str], tuple[int, int]],
) -> None:
    spec, meta = (
        read_mapping(workload.inputs.get("spec"), "spec"),
        read_mapping(workload.inputs.get("metadata"), "metadata"),
    )
    if workload.type == T_KSERVE:
        predictor = read_mapping(spec.get("predictor"), "predictor")
        model = read_mapping(predictor.get("model"), "predictor model")
        containers = [model] if model else []
        containers += read_list(predictor.get("containers"), "predictor containers")
        low = read_count(predictor.get("minReplicas"), "predictor min replicas", default=1)
        high = max(low, read_count(predictor.get("maxReplicas"), "predictor max replicas", default=0))
        scale = "KServe min/max replicas"
    elif workload.type == T_SELDON_SERVER:
        # The override's containers carry the requests; without them the ServerConfig's pod is not in the stack.
        pod = read_mapping(spec.get("podSpec"), "podSpec")
        containers = read_list(pod.get("containers"), "podSpec containers (the ServerConfig's are not in the stack)")
        replicas = read_count(spec.get("replicas"), "server replicas", default=1)
        low = read_count(spec.get("minReplicas"), "server min replicas", default=replicas)
        high = max(low, replicas, read_count(spec.get("maxReplicas"), "server max replicas", default=0))
        scale = "Seldon Server min/max replicas"
    else:
        template = read_mapping(spec.get("template"), "pod template")
        containers = read_list(read_mapping(template.get("spec"), "pod spec").get("containers"), "containers")
        low = high = read_count(spec.get("replicas"), "replicas", default=1)
        kind = "Deployment" if workload.type == T_K8S_DEPLOYMENT else "StatefulSet"
        name = meta.get("name")
        if is_unknown(name) and hpas:
            raise Unreadable("metadata.name unknown until apply, so whether an HPA scales it is unknown")
        hpa = hpas.get((meta.get("namespace"), kind, str(name)))
        if hpa:
            low, high = hpa
            scale = "HPA min/max replicas"
        else:
            scale = "replicas"
    hourly, text = pod_hourly(pod_requests(containers), rates)
    basis = f"{high} x ({text}) x {MONTH_HOURS} h"
    if low != high:
        basis += f"; expected {low} x"
    basis += f" ({scale}; requests at OpenCost default rates)"
    p.item(workload, high * hourly * MONTH_HOURS, low * hourly * MONTH_HOURS, basis)
    if workload.type == T_K8S_STATEFULSET:
        _price_claim_templates(p, workload, spec, rates, (low, high))


def _storage_gib(claim_spec: dict[str, Any], what: str) -> float:
    resources = read_mapping(claim_spec.get("resources"), f"{what} resources")
    requests = read_mapping(resources.get("requests"), f"{what} requests")
    return quantity(requests.get("storage"), f"{what} storage request", cpu=False)


def _storage_rate(rates: dict[str, float]) -> float:
    if "storage" not in rates:
        raise Unreadable("no Kubernetes storage rate in the catalogue (opencost.default storage)")
    return rates["storage"]


def _price_claim(p: Pricer, claim: CapturedResource, rates: dict[str, float]) -> None:
    size = _storage_gib(read_mapping(claim.inputs.get("spec"), "spec"), "claim")
    rate = _storage_rate(rates)
    monthly = size * rate * MONTH_HOURS
    p.item(
        claim,
        monthly,
        monthly,
        f"{number(size)} GiB x {MONTH_HOURS} h x {money(rate)}/GB-hour (storage request at the OpenCost default "
        f"storage rate = {money(rate * MONTH_HOURS)}/GB-month; set your storage class's price with --prices)",
    )


def _price_claim_templates(
    p: Pricer, workload: CapturedResource, spec: dict[str, Any], rates: dict[str, float], replicas: tuple[int, int]
) -> None:
    """StatefulSet volumeClaimTemplates: one claim per replica and template (kept after scale-down)."""
    low, high = replicas
    templates = read_list(spec.get("volumeClaimTemplates"), "volumeClaimTemplates")
    if not templates:
        return
    size = sum(
        _storage_gib(read_mapping(read_mapping(t, "volume claim template").get("spec"), "claim spec"), "claim template")
        for t in templates
    )
    rate = _storage_rate(rates)
    basis = f"volumeClaimTemplates: {high} replicas x {number(size)} GiB x {MONTH_HOURS} h x {money(rate)}/GB-hour"
    if low != high:
        basis += f"; expected {low} x"
    p.item(
        workload,
        high * size * rate * MONTH_HOURS,
        low * size * rate * MONTH_HOURS,
        basis + " (OpenCost default storage rate)",
    )
