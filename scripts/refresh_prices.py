"""Regenerate price rows of mlops_infra/cost/data/*.yaml from the providers' price APIs.

    uv run --all-extras python scripts/refresh_prices.py --aws            # needs AWS credentials (pricing:GetProducts)
    uv run --all-extras python scripts/refresh_prices.py --gcp --api-key KEY   # or Application Default Credentials

AWS: the Price List Query API (boto3 ``pricing.get_products``, endpoint us-east-1), service
``AmazonSageMaker``, one query per component (Hosting, Training, Processing) filtered by ``regionCode``.
A product is kept when its usage type is ``<REGION PREFIX>-<Host|Train|Processing>:ml.<type>``
(for example ``USE1-Host:ml.m5.large``; ``Host`` and ``Processing`` are documented in prices.md section 4,
``Train`` is assumed and unverified); async, transform and other usage types are skipped. The
price is the OnDemand dimension with unit ``Hrs``; its ``effectiveDate`` is the row's source date.

GCP: the Cloud Billing Catalog API, ``GET https://cloudbilling.googleapis.com/v1/services/{id}/skus``
(Vertex AI service ``C7E2-9256-1C43``), through ``google.auth``'s requests transport (no extra
dependency; ``google-cloud-billing`` is not installed). Vertex bills machines per vCPU-hour and per
GB-hour, so a machine row is ``vCPUs x core SKU + GB x RAM SKU`` for SKUs whose description names the
use (training / prediction), the family (N1, E2) and Core/Ram, and whose ``serviceRegions`` include the
region. The description patterns below follow the catalog's naming but were not checked against a live
response in this repository: review the first live refresh by hand.

Every refreshed row is grade P with the API and the SKU/usage type as its source; rows the APIs do
not cover are kept as they are. The run fails (exit 1) when a previously priced row of a refreshed
service and region is missing from the API's answer, unless ``--allow-missing`` (the old row is kept).
The file's ``refreshed`` becomes today. Tests run this offline against stubs; it never runs in tests
against the network.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml

DATA = Path(__file__).resolve().parent.parent / "mlops_infra" / "cost" / "data"

# AWS -------------------------------------------------------------------------------------------
AWS_COMPONENTS = {
    "Hosting": ("sagemaker.hosting", "Host"),
    "Training": ("sagemaker.training", "Train"),
    "Processing": ("sagemaker.processing", "Processing"),
}
# Usage-type prefix per region; only us-east-1's (USE1, prices.md section 4) is confirmed. Add others once verified.
AWS_REGION_PREFIX = {"us-east-1": "USE1"}

# GCP -------------------------------------------------------------------------------------------
VERTEX_SERVICE = "C7E2-9256-1C43"
BILLING_URL = "https://cloudbilling.googleapis.com/v1/services/{service}/skus"
# (vCPUs, GB) of the machine types the product deploys (Compute Engine machine type table).
MACHINE_SHAPES: dict[str, tuple[int, float]] = {
    "n1-standard-2": (2, 7.5),
    "n1-standard-4": (4, 15),
    "n1-standard-8": (8, 30),
    "n1-highmem-2": (2, 13),
    "n1-highmem-4": (4, 26),
    "e2-standard-2": (2, 8),
    "e2-standard-4": (4, 16),
    "e2-standard-8": (8, 32),
}
VERTEX_USES = {"vertex.training": r"(custom model )?training", "vertex.prediction": r"(online/batch )?prediction"}
GCP_REGION_GROUP = {"us-central1": "Americas", "us-east1": "Americas", "europe-west4": "EMEA"}

JsonGetter = Callable[[str, Mapping[str, str]], Mapping[str, Any]]


class RefreshError(Exception):
    """The refresh cannot produce a trustworthy file (for example a priced row vanished)."""


def _aws_products(client: Any, region: str, component: str) -> Iterator[dict[str, Any]]:
    token: str | None = None
    while True:
        kwargs: dict[str, Any] = {
            "ServiceCode": "AmazonSageMaker",
            "FormatVersion": "aws_v1",
            "Filters": [
                {"Type": "TERM_MATCH", "Field": "regionCode", "Value": region},
                {"Type": "TERM_MATCH", "Field": "component", "Value": component},
            ],
            "MaxResults": 100,
        }
        if token:
            kwargs["NextToken"] = token
        page = client.get_products(**kwargs)
        for item in page.get("PriceList", []):
            yield json.loads(item) if isinstance(item, str) else item
        token = page.get("NextToken")
        if not token:
            return


def _hourly(product: Mapping[str, Any]) -> tuple[float, str] | None:
    for term in (product.get("terms", {}).get("OnDemand") or {}).values():
        for dim in (term.get("priceDimensions") or {}).values():
            usd = (dim.get("pricePerUnit") or {}).get("USD")
            if dim.get("unit") == "Hrs" and usd is not None:
                return float(usd), str(term.get("effectiveDate", ""))[:10] or "undated"
    return None


def aws_rows(client: Any, region: str = "us-east-1") -> list[dict[str, Any]]:
    """SageMaker hosting/training/processing instance-hour rows for ``region`` from ``get_products``."""
    prefix = AWS_REGION_PREFIX.get(region)
    if prefix is None:
        raise RefreshError(f"no usage-type prefix known for {region}; add it to AWS_REGION_PREFIX")
    rows = []
    for component, (service, kind) in AWS_COMPONENTS.items():
        pattern = re.compile(rf"^{prefix}-{kind}:(ml\.[a-z0-9]+\.[a-z0-9]+)$")
        for product in _aws_products(client, region, component):
            usage = product.get("product", {}).get("attributes", {}).get("usagetype", "")
            match = pattern.match(usage)
            price = _hourly(product)
            if not match or price is None:
                continue
            rows.append(
                {
                    "service": service,
                    "sku": match.group(1),
                    "unit": "instance-hour",
                    "usd": price[0],
                    "region": region,
                    "source": f"AWS Price List get_products AmazonSageMaker usagetype {usage}",
                    "source_date": price[1],
                    "grade": "P",
                }
            )
    return _dedupe(rows)


def _unit_price(sku: Mapping[str, Any]) -> tuple[float, str, str] | None:
    for info in sku.get("pricingInfo", []):
        expr = info.get("pricingExpression", {})
        rates = expr.get("tieredRates") or []
        if not rates:
            continue
        money = rates[0].get("unitPrice", {})
        usd = int(money.get("units", 0) or 0) + int(money.get("nanos", 0) or 0) / 1e9
        return usd, str(expr.get("usageUnit", "")), str(info.get("effectiveTime", ""))[:10] or "undated"
    return None


def gcp_skus(get_json: JsonGetter, service: str = VERTEX_SERVICE) -> Iterator[Mapping[str, Any]]:
    params: dict[str, str] = {"pageSize": "5000", "currencyCode": "USD"}
    while True:
        page = get_json(BILLING_URL.format(service=service), params)
        yield from page.get("skus", [])
        token = page.get("nextPageToken")
        if not token:
            return
        params = {**params, "pageToken": token}


def gcp_rows(get_json: JsonGetter, region: str = "us-central1") -> list[dict[str, Any]]:
    """Vertex training and prediction node-hour rows for the machines in MACHINE_SHAPES."""
    rates: dict[tuple[str, str, str], tuple[float, str, str]] = {}  # (service, family, core|ram) -> price
    for sku in gcp_skus(get_json):
        if region not in sku.get("serviceRegions", []):
            continue
        if sku.get("category", {}).get("usageType") != "OnDemand":
            continue
        text = str(sku.get("description", ""))
        for service, use in VERTEX_USES.items():
            match = re.search(rf"{use}\s+(N1|E2)\s+(?:Predefined\s+)?Instance\s+(Core|Ram)\b", text, re.IGNORECASE)
            price = _unit_price(sku)
            if match and price is not None:
                key = (service, match.group(2).lower(), match.group(3).lower())
                rates[key] = (price[0], f"{sku.get('skuId', '?')} '{text}'", price[2])
    rows = []
    for service in VERTEX_USES:
        for machine, (vcpus, gb) in MACHINE_SHAPES.items():
            family = machine.split("-", 1)[0]
            core, ram = rates.get((service, family, "core")), rates.get((service, family, "ram"))
            if core is None or ram is None:
                continue
            rows.append(
                {
                    "service": service,
                    "sku": machine,
                    "unit": "node-hour",
                    "usd": round(vcpus * core[0] + gb * ram[0], 8),
                    "region": region,
                    "source": f"GCP Cloud Billing Catalog {VERTEX_SERVICE}: {vcpus} x {core[1]} + {gb} GB x {ram[1]}",
                    "source_date": min(core[2], ram[2]),
                    "grade": "P",
                }
            )
    return rows


def _dedupe(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    seen: dict[tuple[str, str, str, str], dict[str, Any]] = {}
    for row in rows:
        seen.setdefault((row["service"], row["sku"], row["region"], row["unit"]), row)
    return list(seen.values())


def merge(
    document: Mapping[str, Any], fresh: list[dict[str, Any]], today: dt.date, *, allow_missing: bool = False
) -> tuple[dict[str, Any], list[str]]:
    """``document`` with ``fresh`` rows replacing same-key rows; returns it and the vanished rows.

    A vanished row is a priced row of a (service, region, unit) the refresh covered that the API did not return.
    """

    def key(row: Mapping[str, Any]) -> tuple[str, str, str, str]:
        return (row["service"], row["sku"], row["region"], row["unit"])

    fresh_by_key = {key(r): r for r in fresh}
    covered = {(r["service"], r["region"], r["unit"]) for r in fresh}
    rows, vanished = [], []
    for row in document.get("rows", []):
        if key(row) in fresh_by_key:
            rows.append(fresh_by_key.pop(key(row)))
            continue
        if (row["service"], row["region"], row["unit"]) in covered and row.get("usd") is not None:
            vanished.append("/".join(str(p) for p in key(row)))
        rows.append(row)
    rows += fresh_by_key.values()
    if vanished and not allow_missing:
        raise RefreshError("previously priced rows are missing from the API's answer: " + ", ".join(vanished))
    return {**document, "refreshed": today, "rows": rows}, vanished


def _leading_comment(text: str) -> str:
    lines = []
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        lines.append(line)
    return "\n".join(lines) + "\n" if lines else ""


def dump(document: Mapping[str, Any], comment: str = "") -> str:
    """The YAML text of a provider file: header keys, then one flow-style row per line."""
    out = [comment.rstrip("\n")] if comment else []
    for name, value in document.items():
        if name in ("rows", "not_yet_priced"):
            continue
        out.append(yaml.safe_dump({name: value}, default_flow_style=False, sort_keys=False).rstrip("\n"))
    out.append("rows:")
    for row in document.get("rows", []):
        out.append("  - " + yaml.safe_dump(dict(row), default_flow_style=True, sort_keys=False, width=10**6).strip())
    if document.get("not_yet_priced"):
        out.append(yaml.safe_dump({"not_yet_priced": document["not_yet_priced"]}, sort_keys=False).rstrip("\n"))
    return "\n".join(out) + "\n"


def refresh_file(path: Path, fresh: list[dict[str, Any]], today: dt.date, *, allow_missing: bool = False) -> list[str]:
    """Rewrite one provider file with ``fresh`` rows; returns the vanished rows kept (with --allow-missing)."""
    text = path.read_text(encoding="utf-8")
    document, vanished = merge(yaml.safe_load(text), fresh, today, allow_missing=allow_missing)
    if document.get("provider") == "aws" and "not_yet_priced" in document:
        priced = {
            r["sku"] for r in document["rows"] if r["service"] == "sagemaker.hosting" and r.get("usd") is not None
        }
        listed = document["not_yet_priced"].get("sagemaker.hosting", [])
        document["not_yet_priced"]["sagemaker.hosting"] = [s for s in listed if s not in priced]
    path.write_text(dump(document, _leading_comment(text)), encoding="utf-8")
    return vanished


def _gcp_getter(api_key: str | None) -> JsonGetter:  # pragma: no cover - network
    import google.auth  # noqa: PLC0415 - optional, network-only
    from google.auth.transport.requests import AuthorizedSession  # noqa: PLC0415 - optional, network-only

    if api_key:
        import requests  # noqa: PLC0415 - optional, network-only

        session: Any = requests.Session()
        base = {"key": api_key}
    else:
        credentials, _ = google.auth.default(scopes=["https://www.googleapis.com/auth/cloud-billing.readonly"])
        session, base = AuthorizedSession(credentials), {}  # type: ignore[no-untyped-call]

    def get_json(url: str, params: Mapping[str, str]) -> Mapping[str, Any]:
        response = session.get(url, params={**base, **params}, timeout=60)
        response.raise_for_status()
        return dict(response.json())

    return get_json


def main(argv: list[str] | None = None) -> int:  # pragma: no cover - network entry point
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--aws", action="store_true", help="refresh aws.yaml from the AWS Price List")
    parser.add_argument("--gcp", action="store_true", help="refresh gcp.yaml from the Cloud Billing Catalog")
    parser.add_argument("--aws-region", default="us-east-1")
    parser.add_argument("--gcp-region", default="us-central1")
    parser.add_argument("--api-key", help="GCP API key (else Application Default Credentials)")
    parser.add_argument("--data", type=Path, default=DATA, help="directory of the provider files")
    parser.add_argument("--allow-missing", action="store_true", help="keep rows the API no longer returns")
    args = parser.parse_args(argv)
    if not (args.aws or args.gcp):
        parser.error("choose --aws and/or --gcp")
    today = dt.datetime.now(dt.UTC).date()
    try:
        if args.aws:
            import boto3  # noqa: PLC0415 - optional, network-only

            client = boto3.client("pricing", region_name="us-east-1")
            kept = refresh_file(
                args.data / "aws.yaml", aws_rows(client, args.aws_region), today, allow_missing=args.allow_missing
            )
            print(f"aws.yaml refreshed {today}; kept without a fresh price: {kept or 'none'}")
        if args.gcp:
            rows = gcp_rows(_gcp_getter(args.api_key), args.gcp_region)
            kept = refresh_file(args.data / "gcp.yaml", rows, today, allow_missing=args.allow_missing)
            print(f"gcp.yaml refreshed {today}; kept without a fresh price: {kept or 'none'}")
    except RefreshError as exc:
        print(f"refresh_prices: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
