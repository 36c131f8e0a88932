"""What an estimate is made of: priced items, unpriced resources, budgets, and the pricing context."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mlops_infra.cost.catalogue import Catalogue
from mlops_infra.engine.captured import CapturedResource, CapturedStack

CURRENCY = "USD"


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


class Pricer:
    """The stack, the catalogue and the estimate being filled; each pricer module adds to it."""

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


def by_name(stack: CapturedStack, type_token: str) -> dict[str, CapturedResource]:
    found: dict[str, CapturedResource] = {}
    for resource in stack.by_type(type_token):
        for key in ("name", "pipelineName", "endpointName"):
            value = resource.inputs.get(key)
            if isinstance(value, str):
                found[value] = resource
    return found
