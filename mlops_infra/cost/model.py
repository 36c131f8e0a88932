"""What an estimate is made of: priced items, unpriced resources, budgets, and the pricing context."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from mlops_infra.cost.catalogue import Catalogue
from mlops_infra.engine.captured import CapturedResource, CapturedStack
from mlops_infra.policy.values import is_unknown

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
    """A declared monthly budget. ``scope`` says what spend it watches (filters, namespace): budgets with the
    same scope are alerts on the same money, so the tightest one counts; different scopes add up."""

    urn: str
    type: str
    monthly_usd: float
    scope: str = ""


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
        """The stack's declared monthly budget (per scope the tightest, summed), or None when it declares none."""
        return effective_budget(self.budgets)[0] if self.budgets else None

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


# --- Reading wire values -------------------------------------------------------------------------
# Every pricer reads the numbers, texts and nested objects it needs through these helpers. During
# ``pulumi preview`` a value may be an unknown placeholder, a secret may read "[secret]", and a user's
# raw program may put a string where a number belongs: each such value raises ``Unreadable`` with a
# reason naming the field, and ``Pricer.guarded`` turns it into an ``unpriced`` entry (never 0).

SECRET = "[secret]"


class Unreadable(Exception):  # noqa: N818 - it is a condition, not an error of the program
    """A value the estimator needs but cannot read; ``reason`` names the field and why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _unreadable(value: Any, what: str, expected: str) -> Unreadable:
    if is_unknown(value):
        return Unreadable(f"{what} unknown until apply")
    if value == SECRET:
        return Unreadable(f"{what} is a secret, so the estimator cannot read it")
    shown = repr(value) if len(repr(value)) <= 40 else f"a {type(value).__name__}"
    return Unreadable(f"{what} is {shown}, not {expected}")


def read_number(value: Any, what: str, *, default: float | None = None, integer: bool = False) -> float:
    """A non-negative number (a numeric string is read too); ``default`` when absent, else Unreadable.

    ``what`` names the field in the reason: ``read_number(v, "instance count")`` ->
    "instance count unknown until apply".
    """
    if value is None:
        if default is not None:
            return default
        raise Unreadable(f"{what} is not set")
    expected = "a whole number" if integer else "a number"
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise _unreadable(value, what, expected)
    try:
        result = float(value.strip()) if isinstance(value, str) else float(value)
    except ValueError:
        raise _unreadable(value, what, expected) from None
    if not math.isfinite(result) or result < 0 or (integer and result != int(result)):
        raise _unreadable(value, what, f"{expected} >= 0")
    return result


def read_count(value: Any, what: str, *, default: int | None = None) -> int:
    """A whole non-negative number (instance count, replicas)."""
    return int(read_number(value, what, default=None if default is None else float(default), integer=True))


def read_text(value: Any, what: str, *, default: str | None = None) -> str:
    """A non-empty string; ``default`` when absent, else Unreadable."""
    if value is None or value == "":
        if default is not None:
            return default
        raise Unreadable(f"{what} is not set")
    if not isinstance(value, str) or is_unknown(value) or value == SECRET:
        raise _unreadable(value, what, "a string")
    return value


def read_mapping(value: Any, what: str) -> dict[str, Any]:
    """A nested object (a one-item list, Terraform's block shape, is unwrapped); {} when absent."""
    if value is None:
        return {}
    if isinstance(value, list) and len(value) == 1:
        value = value[0]
    if not isinstance(value, dict):
        raise _unreadable(value, what, "an object")
    return value


def read_list(value: Any, what: str) -> list[Any]:
    """A list property; [] when absent."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise _unreadable(value, what, "a list")
    return value


def read_bool(value: Any, what: str, *, default: bool) -> bool:
    """A boolean (or "true"/"false"); ``default`` when absent."""
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in {"true", "false"}:
        return value.strip().lower() == "true"
    raise _unreadable(value, what, "true or false")


def effective_budget(budgets: list[Budget]) -> tuple[float, tuple[str, ...]]:
    """The money ``budgets`` allow together: the tightest of each scope, summed over scopes (USD/month),
    and the URNs of the budgets that count."""
    tightest: dict[tuple[str, str], Budget] = {}
    for budget in budgets:
        key = (budget.type, budget.scope)
        if key not in tightest or budget.monthly_usd < tightest[key].monthly_usd:
            tightest[key] = budget
    return sum(b.monthly_usd for b in tightest.values()), tuple(b.urn for b in tightest.values())


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

    def guarded(self, resource: CapturedResource, price: Callable[[], None]) -> None:
        """Run ``price`` for ``resource``; whatever it cannot read makes the resource unpriced, never raises.

        Items and unpriced entries the failed call already added are dropped, so a resource is never
        half priced: it is listed once, as unpriced, with the reason.
        """
        items, unpriced = len(self.estimate.items), len(self.estimate.unpriced)
        try:
            price()
        except Unreadable as exc:
            reason = exc.reason
        except Exception as exc:  # noqa: BLE001 - the estimator must never fail on a graph
            reason = f"the estimator cannot read its inputs ({type(exc).__name__}: {exc})"
        else:
            return
        del self.estimate.items[items:]
        del self.estimate.unpriced[unpriced:]
        self.unpriced(resource, reason)

    def rate(self, provider: str, service: str, sku: str, region: str, unit: str) -> tuple[float, str]:
        """The catalogue price per ``unit``, or Unreadable with the catalogue's reason."""
        found = self.catalogue.lookup(provider, service, sku, region, unit=unit)
        if found.usd is None:
            raise Unreadable(found.warning or f"{provider} {service} {sku} is not in the price catalogue")
        return found.usd, found.warning or ""

    def aws_hourly(self, service: str, instance_type: str) -> tuple[float | None, str]:
        found = self.catalogue.lookup("aws", service, instance_type, self.aws_region, unit="instance-hour")
        if found.usd is None:
            return None, found.warning or f"aws {service} {instance_type} is not in the price catalogue"
        return found.usd, ""


def by_name(
    stack: CapturedStack, type_token: str, keys: tuple[str, ...] = ("name", "pipelineName", "endpointName")
) -> dict[str, CapturedResource]:
    """Resources of ``type_token`` by their name inputs (unknown or secret names are skipped)."""
    found: dict[str, CapturedResource] = {}
    for resource in stack.by_type(type_token):
        for key in keys:
            value = resource.inputs.get(key)
            if isinstance(value, str) and value and not is_unknown(value) and value != SECRET:
                found[value] = resource
    return found
