"""Vertex AI: model deployments (machine + accelerators x min/max replicas)."""

from __future__ import annotations

from mlops_infra.cost.catalogue import MONTH_HOURS, Catalogue
from mlops_infra.cost.model import Pricer, money

T_VERTEX_DEPLOYMENT = "pulumi-python:dynamic/vertex:VertexModelDeployment"


def _vertex_reason(catalogue: Catalogue, sku: str, region: str, warning: str | None) -> str:
    """Say grade N when the catalogue's base-region row is N, whatever the region (the real reason)."""
    base = catalogue.files["gcp"].base_region if "gcp" in catalogue.files else None
    if base and base != region:
        at_base = catalogue.lookup("gcp", "vertex.prediction", sku, base)
        if at_base.row is None and at_base.warning and "grade N" in at_base.warning:
            return f"{at_base.warning}; and no row for {region}"
    return warning or f"gcp vertex.prediction {sku} is not in the price catalogue"


def price_vertex(p: Pricer) -> None:
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
