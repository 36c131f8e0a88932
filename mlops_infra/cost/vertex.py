"""Vertex AI: model deployments (machine + accelerators x min/max replicas) and feature online stores."""

from __future__ import annotations

import functools

from mlops_infra.cost.catalogue import MONTH_HOURS, Catalogue
from mlops_infra.cost.model import (
    Pricer,
    Unreadable,
    money,
    read_count,
    read_list,
    read_mapping,
    read_text,
)
from mlops_infra.engine.captured import CapturedResource

T_VERTEX_DEPLOYMENT = "pulumi-python:dynamic/vertex:VertexModelDeployment"
T_FEATURE_ONLINE_STORE = "gcp:vertex/aiFeatureOnlineStore:AiFeatureOnlineStore"

# An optimized online store states no node count (Vertex scales it); the estimate assumes one node.
OPTIMIZED_STORE_NODES = 1


def _vertex_reason(catalogue: Catalogue, service: str, sku: str, region: str, warning: str | None) -> str:
    """Say grade N when the catalogue's base-region row is N, whatever the region (the real reason)."""
    base = catalogue.files["gcp"].base_region if "gcp" in catalogue.files else None
    if base and base != region:
        at_base = catalogue.lookup("gcp", service, sku, base)
        if at_base.row is None and at_base.warning and "grade N" in at_base.warning:
            return f"{at_base.warning}; and no row for {region}"
    return warning or f"gcp {service} {sku} is not in the price catalogue"


def gcp_rate(p: Pricer, service: str, sku: str, region: str, unit: str) -> float:
    """A GCP price per ``unit`` in ``region``, or Unreadable with the catalogue's reason."""
    found = p.catalogue.lookup("gcp", service, sku, region, unit=unit)
    if found.usd is None:
        raise Unreadable(_vertex_reason(p.catalogue, service, sku, region, found.warning))
    return found.usd


def machine_hourly(
    p: Pricer, service: str, region: str, *, machine: str, accelerators: int, accelerator_type: object
) -> tuple[float, str]:
    """USD per hour of one replica (machine + ``accelerators`` x ``accelerator_type``) and how it adds up."""
    hourly = gcp_rate(p, service, machine, region, "node-hour")
    text = f"{machine} {money(hourly)}"
    if accelerators:
        accelerator = read_text(accelerator_type, "accelerator type")
        rate = gcp_rate(p, service, accelerator, region, "accelerator-hour")
        hourly += accelerators * rate
        text += f" + {accelerators} x {accelerator} {money(rate)}"
    return hourly, text


def price_vertex(p: Pricer) -> None:
    for deployment in p.stack.by_type(T_VERTEX_DEPLOYMENT):
        p.guarded(deployment, functools.partial(_price_deployment, p, deployment))
    for store in p.stack.by_type(T_FEATURE_ONLINE_STORE):
        p.guarded(store, functools.partial(_price_online_store, p, store))


def _price_deployment(p: Pricer, deployment: CapturedResource) -> None:
    region = read_text(deployment.inputs.get("region"), "region")
    worst = expected = 0.0
    parts: list[str] = []
    for raw in read_list(deployment.inputs.get("deployments"), "deployments"):
        model = read_mapping(raw, "deployed model")
        machine = read_text(model.get("machine_type"), "machine type")
        low = read_count(model.get("min_replica_count"), "min replica count", default=1)
        high = max(low, read_count(model.get("max_replica_count"), "max replica count", default=low))
        accelerators = read_count(model.get("accelerator_count"), "accelerator count", default=0)
        hourly, text = machine_hourly(
            p,
            "vertex.prediction",
            region,
            machine=machine,
            accelerators=accelerators,
            accelerator_type=model.get("accelerator_type"),
        )
        worst += high * MONTH_HOURS * hourly
        expected += low * MONTH_HOURS * hourly
        parts.append(f"{high} (expected {low}) x ({text}) x {MONTH_HOURS} h")
    if parts:
        p.item(deployment, worst, expected, "; ".join(parts) + f" (max/min replica count, {region})")


def _price_online_store(p: Pricer, store: CapturedResource) -> None:
    """Bigtable: autoScaling max (worst) / min (expected) nodes; optimized: one node (assumed)."""
    region = read_text(store.inputs.get("region"), "region")
    bigtable = read_mapping(store.inputs.get("bigtable"), "bigtable")
    if bigtable:
        scaling = read_mapping(bigtable.get("autoScaling"), "bigtable autoScaling")
        low = read_count(scaling.get("minNodeCount"), "bigtable min node count")
        high = max(low, read_count(scaling.get("maxNodeCount"), "bigtable max node count"))
        sku, source = "bigtable-online-serving-node", "Bigtable autoScaling max/min node count"
    elif "optimized" in store.inputs:
        read_mapping(store.inputs.get("optimized"), "optimized")
        low = high = OPTIMIZED_STORE_NODES
        sku = "optimized-online-serving-node"
        source = "optimized store: 1 node assumed, the schema states no node count (Vertex scales it)"
    else:
        raise Unreadable("neither bigtable nor optimized is set, so its serving nodes are unknown")
    hourly = gcp_rate(p, "vertex.feature-store", sku, region, "node-hour")
    basis = f"{high} x {sku} x {MONTH_HOURS} h x {money(hourly)}"
    if low != high:
        basis += f"; expected {low} x"
    p.item(store, high * MONTH_HOURS * hourly, low * MONTH_HOURS * hourly, f"{basis} ({source}, {region})")
