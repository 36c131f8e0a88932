"""Kubernetes: Deployments, StatefulSets and KServe InferenceServices (requests x replicas x node rates)."""

from __future__ import annotations

import re
from typing import Any

from mlops_infra.cost.catalogue import MONTH_HOURS
from mlops_infra.cost.model import Pricer, money, number
from mlops_infra.engine.captured import CapturedStack

K8S_RATE_REGION = "us-central1"  # the region the catalogue's OpenCost default rows are keyed on
T_K8S_DEPLOYMENT = "kubernetes:apps/v1:Deployment"
T_K8S_STATEFULSET = "kubernetes:apps/v1:StatefulSet"
T_KSERVE = "kubernetes:serving.kserve.io/v1beta1:InferenceService"
T_HPA = "kubernetes:autoscaling/v2:HorizontalPodAutoscaler"

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


def price_kubernetes(p: Pricer) -> None:
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
