"""SageMaker Feature Store groups: the online store is billed per request and stored GB, so it is priced
only from usage the user states (assumption rows in the price override file); otherwise unpriced.

An assumption row is a catalogue row with ``service: assumption``: its ``usd`` field carries the
monthly **quantity** in ``unit`` (not a price), its ``sku`` names the meter, optionally narrowed to one
feature group with ``/<featureGroupName>``:

    - {provider: aws, service: assumption, sku: sagemaker.feature-store.online-read, unit: million-requests,
       usd: 30, region: all, source: "our traffic, Nov 2026", source_date: "2026-11-30", grade: D}

The offline store is S3 storage plus Glue/Athena queries, which the estimator does not price (docs).
"""

from __future__ import annotations

import functools

from mlops_infra.cost.model import Pricer, Unreadable, money, number, read_bool, read_mapping, read_text
from mlops_infra.engine.captured import CapturedResource

T_FEATURE_GROUP = "aws:sagemaker/featureGroup:FeatureGroup"
ASSUMPTION = "assumption"

# (meter sku in sagemaker.feature-store, assumption sku, unit, words)
ONLINE_METERS: tuple[tuple[str, str, str, str], ...] = (
    ("online-read", "sagemaker.feature-store.online-read", "million-requests", "million read request units"),
    ("online-write", "sagemaker.feature-store.online-write", "million-requests", "million write request units"),
    ("online-storage", "sagemaker.feature-store.online-storage", "GB-month", "GB stored"),
)


def assumed_quantity(p: Pricer, provider: str, sku: str, unit: str, scope: str) -> float | None:
    """The user's stated monthly quantity for ``sku`` (narrowed to ``scope`` first), or None."""
    for candidate in (f"{sku}/{scope}", sku):
        found = p.catalogue.lookup(provider, ASSUMPTION, candidate, p.aws_region, unit=unit)
        if found.usd is not None:
            return found.usd
    return None


def price_feature_groups(p: Pricer) -> None:
    for group in p.stack.by_type(T_FEATURE_GROUP):
        p.guarded(group, functools.partial(_price_feature_group, p, group))


def _unit_rate(p: Pricer, sku: str, unit: str) -> str:
    found = p.catalogue.lookup("aws", "sagemaker.feature-store", sku, p.aws_region, unit=unit)
    return f"{money(found.usd)}/{unit}" if found.usd is not None else f"not priced ({found.warning})"


def _price_feature_group(p: Pricer, group: CapturedResource) -> None:
    online = read_mapping(group.inputs.get("onlineStoreConfig"), "onlineStoreConfig")
    if not online or not read_bool(online.get("enableOnlineStore"), "enableOnlineStore", default=False):
        return  # offline store only: S3 + Glue/Athena, not estimated (docs/cost-model.md)
    storage = read_text(online.get("storageType"), "online store storageType", default="Standard")
    if storage != "Standard":
        raise Unreadable(f"the {storage} online store tier is not in the price catalogue")
    name = read_text(group.inputs.get("featureGroupName"), "featureGroupName", default=group.name)
    quantities = {sku: assumed_quantity(p, "aws", a_sku, unit, name) for sku, a_sku, unit, _ in ONLINE_METERS}
    missing = [a_sku for sku, a_sku, _, _ in ONLINE_METERS if quantities[sku] is None]
    if missing:
        rates = "; ".join(f"{sku} {_unit_rate(p, sku, unit)}" for sku, _, unit, _ in ONLINE_METERS)
        raise Unreadable(
            "the Standard online store is billed per request and GB stored, so it is priced only from usage you "
            f"state: add assumption rows for {', '.join(missing)} to --prices (unit rates: {rates})"
        )
    total, parts = 0.0, []
    for sku, _, unit, words in ONLINE_METERS:
        usd, _ = p.rate("aws", "sagemaker.feature-store", sku, p.aws_region, unit)
        quantity = quantities[sku] or 0.0
        total += quantity * usd
        parts.append(f"{number(quantity)} {words} x {money(usd)}")
    p.item(
        group,
        total,
        total,
        " + ".join(parts)
        + " (online store; quantities are your assumption rows; offline store not estimated)"
        + p.aws_region_note,
    )
