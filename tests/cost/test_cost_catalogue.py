"""The dated price catalogue: packaged rows, overrides, regional lookups, and the refresh script (offline)."""

from __future__ import annotations

import datetime as dt
import fnmatch
import importlib.util
import json
import re
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from mlops_infra.cost import CatalogueError, PriceRow, load_catalogue
from mlops_infra.cost.catalogue import (
    GRADES,
    PROVIDERS,
    UNITS,
    Catalogue,
    PriceFile,
    load_packaged,
    parse_price_file,
)
from mlops_infra.policy.config import DEFAULT_ALLOWED_INSTANCE_TYPES

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "mlops_infra" / "cost" / "data"


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return load_catalogue()


def _refresh_module() -> Any:
    spec = importlib.util.spec_from_file_location("refresh_prices", ROOT / "scripts" / "refresh_prices.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["refresh_prices"] = module
    spec.loader.exec_module(module)
    return module


# --- the packaged rows ----------------------------------------------------------------------------


def test_every_row_carries_source_date_and_grade(catalogue: Catalogue) -> None:
    assert len(catalogue.rows) > 100
    for row in catalogue.rows.values():
        assert row.source.strip() and row.source_date.strip(), row
        assert row.grade in GRADES
        assert row.unit in UNITS
        assert row.provider in PROVIDERS
        assert (row.usd is None) == (row.grade == "N"), row


def test_files_are_dated_and_use_a_730_hour_month(catalogue: Catalogue) -> None:
    for provider in PROVIDERS:
        file = load_packaged(provider)
        assert file.provider == provider
        assert file.month_hours == 730
        assert isinstance(file.refreshed, dt.date)
    assert catalogue.date == min(load_packaged(p).refreshed for p in PROVIDERS)


def test_no_duplicate_keys_even_ignoring_the_unit() -> None:
    for provider in PROVIDERS:
        raw = yaml.safe_load((DATA / f"{provider}.yaml").read_text())
        keys = [(r["service"], r["sku"], r["region"]) for r in raw["rows"]]
        assert len(keys) == len(set(keys)), [k for k in keys if keys.count(k) > 1]


def test_m5_large_hosting_is_the_primary_quoted_price(catalogue: Catalogue) -> None:
    row = catalogue.price("aws", "sagemaker.hosting", "ml.m5.large", "us-east-1")
    assert row is not None
    assert (row.usd, row.grade, row.unit, row.source_date) == (0.115, "P", "instance-hour", "2026-07-30")
    assert "USE1-Host:ml.m5.large" in row.source


def test_transcribed_anchors_from_prices_md(catalogue: Catalogue) -> None:
    expect = {
        ("aws", "sagemaker.processing", "ml.t3.medium", "us-east-1"): (0.05, "P"),
        ("aws", "sagemaker.hosting", "ml.g5.xlarge", "us-east-1"): (1.4084, "S"),
        ("aws", "sagemaker.training", "ml.p3.2xlarge", "us-east-1"): (3.825, "C"),
        ("gcp", "vertex.training", "n1-standard-4", "us-central1"): (0.21849885, "P"),
        ("gcp", "vertex.training", "n1-highmem-4", "us-central1"): (0.27209690, "D"),
        ("gcp", "vertex.pipelines", "pipeline-run", "us-central1"): (0.03, "C"),
        ("k8s", "opencost.default", "cpu", "us-central1"): (0.031611, "S"),
        ("k8s", "fargate", "vcpu", "us-east-1"): (0.000011244, "P"),
        ("k8s", "eks", "control-plane-standard", "eu-west-1"): (0.10, "P"),
    }
    for key, (usd, grade) in expect.items():
        row = catalogue.price(*key)
        assert row is not None, key
        assert (row.usd, row.grade) == (usd, grade), key


def test_vertex_training_rule_rows_follow_the_documented_rule(catalogue: Catalogue) -> None:
    shapes = {"n1-standard-2": (2, 7.5), "n1-standard-8": (8, 30), "n1-highmem-2": (2, 13), "n1-highmem-4": (4, 26)}
    for machine, (vcpus, gb) in shapes.items():
        row = catalogue.price("gcp", "vertex.training", machine, "us-central1")
        assert row is not None and row.grade == "D"
        assert row.usd == pytest.approx(1.15 * (vcpus * 0.031611 + gb * 0.004237), abs=1e-8)


def test_vertex_prediction_is_not_priced_and_says_why(catalogue: Catalogue) -> None:
    for machine in ("n1-standard-2", "n1-standard-4", "e2-standard-4", "a2-highgpu-1g"):
        result = catalogue.lookup("gcp", "vertex.prediction", machine, "us-central1")
        assert result.row is None and result.usd is None
        assert result.warning is not None and "grade N" in result.warning
    assert catalogue.price("aws", "sagemaker.training", "ml.g5.xlarge", "us-east-1") is None


# Every SageMaker endpoint instance type the default allow-list admits (botocore's
# ProductionVariantInstanceType x DEFAULT_ALLOWED_INSTANCE_TYPES) has a hosting row or is listed in
# aws.yaml's not_yet_priced. The count is pinned so a change of either list shows up here.
PRICED_ADMITTED_HOSTING = {
    "ml.c5.large", "ml.c5.xlarge", "ml.c5.2xlarge", "ml.c5.4xlarge", "ml.g4dn.xlarge", "ml.g4dn.2xlarge",
    "ml.g4dn.12xlarge", "ml.g5.xlarge", "ml.g5.2xlarge", "ml.g5.12xlarge", "ml.inf2.xlarge", "ml.m5.large",
    "ml.m5.xlarge", "ml.m5.2xlarge", "ml.m5.4xlarge", "ml.p3.2xlarge",
}  # fmt: skip
NOT_YET_PRICED_COUNT = 84


def test_every_admitted_endpoint_type_is_priced_or_listed_as_not_yet_priced(catalogue: Catalogue) -> None:
    botocore_session = pytest.importorskip("botocore.session")
    enum = botocore_session.get_session().get_service_model("sagemaker").shape_for("ProductionVariantInstanceType")
    admitted = {t for t in enum.enum if any(fnmatch.fnmatchcase(t, p) for p in DEFAULT_ALLOWED_INSTANCE_TYPES)}
    priced = {
        r.sku for r in catalogue.rows.values() if r.provider == "aws" and r.service == "sagemaker.hosting" and r.priced
    }
    listed = set(catalogue.not_yet_priced("aws", "sagemaker.hosting"))
    assert admitted & priced == PRICED_ADMITTED_HOSTING
    assert listed == admitted - priced
    assert len(listed) == NOT_YET_PRICED_COUNT
    assert not listed & priced


# --- regions ---------------------------------------------------------------------------------------


def test_unknown_region_is_a_warning_never_a_silent_base_price(catalogue: Catalogue) -> None:
    result = catalogue.lookup("aws", "sagemaker.hosting", "ml.m5.large", "ap-south-1")
    assert result.row is None
    assert result.warning is not None and "ap-south-1" in result.warning and "us-east-1" in result.warning
    assert catalogue.price("aws", "sagemaker.hosting", "ml.m5.large", "ap-south-1") is None


def test_explicit_region_rows_and_all_region_rows(catalogue: Catalogue) -> None:
    storage = catalogue.lookup("aws", "sagemaker.ml-storage", "gp2", "eu-west-1")
    assert storage.row is not None and storage.usd == 0.154 and storage.warning is None
    fee = catalogue.lookup("gcp", "vertex.pipelines", "pipeline-run", "europe-west4")
    assert fee.usd == 0.03 and fee.warning is None
    unknown = catalogue.lookup("aws", "sagemaker.hosting", "ml.x99.large", "us-east-1")
    assert unknown.row is None and unknown.warning is not None and "not in the price catalogue" in unknown.warning


def test_regional_multiplier_scales_the_base_row_and_says_so() -> None:
    row = PriceRow(
        provider="aws", service="sagemaker.hosting", sku="ml.m5.large", unit="instance-hour", usd=0.115,
        region="us-east-1", source="A1", source_date="2026-07-30", grade="P",
    )  # fmt: skip
    file = PriceFile(
        provider="aws", refreshed=dt.date(2026, 12, 1), base_region="us-east-1",
        region_multipliers={"us-east-1": 1.0, "eu-west-1": 1.1}, rows=(row,),
    )  # fmt: skip
    catalogue = Catalogue(files={"aws": file}, rows={row.key: row}, refreshed={"aws.yaml": file.refreshed})
    scaled = catalogue.lookup("aws", "sagemaker.hosting", "ml.m5.large", "eu-west-1")
    assert scaled.row is not None and scaled.usd == pytest.approx(0.1265)
    assert scaled.row.grade == "D" and "x1.1" in scaled.row.source
    assert scaled.warning is not None and "multiplier" in scaled.warning
    assert catalogue.lookup("aws", "sagemaker.hosting", "ml.m5.large", "sa-east-1").row is None


# --- the user's override file ----------------------------------------------------------------------


def _write(tmp_path: Path, data: Any, name: str = "prices.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


NEGOTIATED = {
    "provider": "aws", "service": "sagemaker.hosting", "sku": "ml.m5.large", "unit": "instance-hour",
    "usd": 0.09, "region": "us-east-1", "source": "EDP contract 2026", "source_date": "2026-11-01", "grade": "P",
}  # fmt: skip


def test_override_replaces_a_row_and_adds_new_ones(tmp_path: Path) -> None:
    added = {**NEGOTIATED, "sku": "ml.m5.12xlarge", "usd": 2.3}
    frankfurt = {**NEGOTIATED, "region": "eu-central-1", "usd": 0.13}
    path = _write(tmp_path, {"refreshed": "2026-11-15", "rows": [NEGOTIATED, added, frankfurt]})
    catalogue = load_catalogue(path)
    row = catalogue.price("aws", "sagemaker.hosting", "ml.m5.large", "us-east-1")
    assert row is not None and (row.usd, row.source) == (0.09, "EDP contract 2026")
    assert catalogue.price("aws", "sagemaker.hosting", "ml.m5.12xlarge", "us-east-1") is not None
    assert catalogue.lookup("aws", "sagemaker.hosting", "ml.m5.large", "eu-central-1").usd == 0.13
    assert catalogue.date == dt.date(2026, 11, 15)
    assert len(catalogue.rows) == len(load_catalogue().rows) + 2


def test_override_accepts_json(tmp_path: Path) -> None:
    path = tmp_path / "prices.json"
    path.write_text(json.dumps({"rows": [NEGOTIATED]}))
    assert load_catalogue(path).price("aws", "sagemaker.hosting", "ml.m5.large", "us-east-1").usd == 0.09  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"rows": [{**NEGOTIATED, "discount": 0.2}]}, r"rows\[0\] \(sku ml.m5.large\): discount: unknown field"),
        ({"rows": [{**NEGOTIATED, "unit": "hour"}]}, r"rows\[0\].*unit 'hour' is not one of"),
        ({"rows": [{**NEGOTIATED, "grade": "N"}]}, r"rows\[0\].*grade N row \(not found\) carries no price"),
        ({"rows": [{**NEGOTIATED, "usd": None}]}, r"rows\[0\].*usd is null but the grade is P"),
        ({"rows": [{k: v for k, v in NEGOTIATED.items() if k != "source"}]}, r"rows\[0\].*source: Field required"),
        ({"rows": [{**NEGOTIATED, "provider": "azure"}]}, r"rows\[0\].*provider must be one of aws, gcp, k8s"),
        ({"rows": [NEGOTIATED, NEGOTIATED]}, r"duplicate row aws/sagemaker.hosting/ml.m5.large"),
        ({"rows": [NEGOTIATED], "currency": "EUR"}, r"unknown top-level keys currency"),
        ({"prices": []}, r"a price override file is a mapping with 'rows'"),
        ({"rows": [NEGOTIATED], "refreshed": "last week"}, r"refreshed must be a date"),
    ],
)
def test_override_errors_name_the_file_and_row(tmp_path: Path, data: Any, message: str) -> None:
    path = _write(tmp_path, data)
    with pytest.raises(CatalogueError, match=message) as info:
        load_catalogue(path)
    assert str(path) in str(info.value)


def test_override_file_missing_or_not_yaml(tmp_path: Path) -> None:
    with pytest.raises(CatalogueError, match="cannot read the price override file"):
        load_catalogue(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("rows: [\n")
    with pytest.raises(CatalogueError, match="not valid YAML"):
        load_catalogue(bad)


def test_packaged_file_errors_name_the_row() -> None:
    text = (DATA / "k8s.yaml").read_text().replace("sku: cpu, unit: vCPU-hour", "sku: cpu, unit: core-hour", 1)
    with pytest.raises(CatalogueError, match=r"k8s.yaml: rows\[0\] \(sku cpu\): unit: unit 'core-hour'"):
        parse_price_file("k8s.yaml", text, "k8s")


def test_ambiguous_lookup_without_unit_is_an_error(tmp_path: Path) -> None:
    per_gb = {**NEGOTIATED, "unit": "GB", "usd": 0.01}
    catalogue = load_catalogue(_write(tmp_path, {"rows": [per_gb]}))
    with pytest.raises(CatalogueError, match="several units"):
        catalogue.price("aws", "sagemaker.hosting", "ml.m5.large", "us-east-1")
    assert catalogue.price("aws", "sagemaker.hosting", "ml.m5.large", "us-east-1", unit="GB").usd == 0.01  # type: ignore[union-attr]


def test_the_data_files_are_package_resources() -> None:
    """hatchling ships non-.py files inside mlops_infra/ in the wheel; the loader reads them as resources."""
    from importlib import resources

    names = {p.name for p in resources.files("mlops_infra.cost").joinpath("data").iterdir()}
    assert {"aws.yaml", "gcp.yaml", "k8s.yaml"} <= names


# --- the refresh script, offline -------------------------------------------------------------------


def _product(usagetype: str, usd: float, effective: str = "2026-11-01T00:00:00Z") -> str:
    return json.dumps(
        {
            "product": {"sku": "SKU1", "attributes": {"usagetype": usagetype, "regionCode": "us-east-1"}},
            "terms": {
                "OnDemand": {
                    "SKU1.JRTCKXETXF": {
                        "effectiveDate": effective,
                        "priceDimensions": {
                            "SKU1.JRTCKXETXF.6YS6EN2CT7": {"unit": "Hrs", "pricePerUnit": {"USD": str(usd)}}
                        },
                    }
                }
            },
        }
    )


def _params(component: str, token: str | None = None) -> dict[str, Any]:
    params: dict[str, Any] = {
        "ServiceCode": "AmazonSageMaker",
        "FormatVersion": "aws_v1",
        "Filters": [
            {"Type": "TERM_MATCH", "Field": "regionCode", "Value": "us-east-1"},
            {"Type": "TERM_MATCH", "Field": "component", "Value": component},
        ],
        "MaxResults": 100,
    }
    if token:
        params["NextToken"] = token
    return params


def test_refresh_aws_round_trip_through_a_stubbed_price_list(tmp_path: Path) -> None:
    boto3 = pytest.importorskip("boto3")
    stub_module = pytest.importorskip("botocore.stub")
    refresh = _refresh_module()
    packaged = load_catalogue()
    kinds = {"sagemaker.hosting": "Host", "sagemaker.training": "Train", "sagemaker.processing": "Processing"}
    products: dict[str, list[str]] = {s: [] for s in kinds}
    for row in packaged.rows.values():
        if row.provider == "aws" and row.service in kinds and row.priced and row.region == "us-east-1":
            usd = 0.1 if (row.service, row.sku) == ("sagemaker.hosting", "ml.m5.large") else row.usd
            products[row.service].append(_product(f"USE1-{kinds[row.service]}:{row.sku}", usd))  # type: ignore[arg-type]
    products["sagemaker.hosting"] += [
        _product("USE1-Host:ml.m5.12xlarge", 2.765),  # newly priced: leaves not_yet_priced
        _product("USE1-AsyncInf:ml.g6.xlarge", 1.0),  # another usage type: skipped
    ]
    client = boto3.client("pricing", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    with stub_module.Stubber(client) as stubber:
        hosting = products["sagemaker.hosting"]
        stubber.add_response("get_products", {"PriceList": hosting[:5], "NextToken": "p2"}, _params("Hosting"))
        stubber.add_response("get_products", {"PriceList": hosting[5:]}, _params("Hosting", "p2"))
        stubber.add_response("get_products", {"PriceList": products["sagemaker.training"]}, _params("Training"))
        stubber.add_response("get_products", {"PriceList": products["sagemaker.processing"]}, _params("Processing"))
        rows = refresh.aws_rows(client, "us-east-1")
        stubber.assert_no_pending_responses()
    assert not any("g6" in r["sku"] for r in rows)
    target = tmp_path / "aws.yaml"
    shutil.copy(DATA / "aws.yaml", target)
    today = dt.date(2027, 1, 2)
    assert refresh.refresh_file(target, rows, today) == []
    text = target.read_text()
    assert text.startswith("# AWS price rows")
    file = parse_price_file(str(target), text, "aws")
    assert file.refreshed == today
    by_key = {(r.service, r.sku, r.region): r for r in file.rows}
    m5 = by_key["sagemaker.hosting", "ml.m5.large", "us-east-1"]
    assert (m5.usd, m5.grade, m5.source_date) == (0.1, "P", "2026-11-01")
    assert "USE1-Host:ml.m5.large" in m5.source
    g5 = by_key["sagemaker.hosting", "ml.g5.xlarge", "us-east-1"]
    assert g5.grade == "P" and g5.usd == 1.4084
    assert by_key["sagemaker.hosting", "ml.m5.12xlarge", "us-east-1"].usd == 2.765
    assert "ml.m5.12xlarge" not in file.not_yet_priced["sagemaker.hosting"]
    assert len(file.not_yet_priced["sagemaker.hosting"]) == NOT_YET_PRICED_COUNT - 1
    assert by_key["sagemaker.training", "ml.g5.xlarge", "us-east-1"].grade == "N"  # untouched N row kept
    assert by_key["cloudwatch", "standard-alarm", "us-east-1"].usd == 0.10  # rows outside the refresh kept
    assert len(file.rows) == len(load_packaged("aws").rows) + 1


def test_refresh_fails_when_a_priced_row_vanishes(tmp_path: Path) -> None:
    refresh = _refresh_module()
    target = tmp_path / "aws.yaml"
    shutil.copy(DATA / "aws.yaml", target)
    only_m5 = [
        {"service": "sagemaker.hosting", "sku": "ml.m5.large", "unit": "instance-hour", "usd": 0.115,
         "region": "us-east-1", "source": "AWS Price List", "source_date": "2026-11-01", "grade": "P"}
    ]  # fmt: skip
    with pytest.raises(refresh.RefreshError, match=r"sagemaker.hosting/ml.g5.xlarge/us-east-1"):
        refresh.refresh_file(target, only_m5, dt.date(2027, 1, 2))
    assert target.read_text() == (DATA / "aws.yaml").read_text()
    kept = refresh.refresh_file(target, only_m5, dt.date(2027, 1, 2), allow_missing=True)
    assert "sagemaker.hosting/ml.g5.xlarge/us-east-1/instance-hour" in kept
    assert parse_price_file("aws.yaml", target.read_text(), "aws").refreshed == dt.date(2027, 1, 2)


def _sku(sku_id: str, description: str, usd: float, unit: str, region: str = "us-central1") -> dict[str, Any]:
    units, nanos = divmod(round(usd * 1e9), 10**9)
    return {
        "skuId": sku_id,
        "description": description,
        "category": {"resourceFamily": "Compute", "resourceGroup": "CPU", "usageType": "OnDemand"},
        "serviceRegions": [region],
        "pricingInfo": [
            {
                "effectiveTime": "2026-11-20T08:00:00Z",
                "pricingExpression": {
                    "usageUnit": unit,
                    "tieredRates": [{"unitPrice": {"units": str(units), "nanos": nanos}}],
                },
            }
        ],
    }


def test_refresh_gcp_round_trip_through_a_stubbed_billing_catalog(tmp_path: Path) -> None:
    refresh = _refresh_module()
    core, ram = 1.15 * 0.031611, 1.15 * 0.004237
    pages = {
        None: {
            "skus": [
                _sku("A-1", "Custom model training N1 Predefined Instance Core running in Americas", core, "h"),
                _sku("A-2", "Custom model training N1 Predefined Instance Ram running in Americas", ram, "GiBy.h"),
                _sku(
                    "A-9", "Custom model training N1 Predefined Instance Core running in EMEA", 9.0, "h", "europe-west4"
                ),
            ],
            "nextPageToken": "next",
        },
        "next": {
            "skus": [
                _sku(
                    "B-1",
                    "Vertex AI: Online/Batch Prediction N1 Predefined Instance Core running in Americas",
                    0.04,
                    "h",
                ),
                _sku(
                    "B-2",
                    "Vertex AI: Online/Batch Prediction N1 Predefined Instance Ram running in Americas",
                    0.005,
                    "GiBy.h",
                ),
            ]
        },
    }
    calls: list[tuple[str, dict[str, str]]] = []

    def get_json(url: str, params: dict[str, str]) -> dict[str, Any]:
        calls.append((url, dict(params)))
        return pages[params.get("pageToken")]

    rows = refresh.gcp_rows(get_json, "us-central1")
    assert [c[0] for c in calls] == ["https://cloudbilling.googleapis.com/v1/services/C7E2-9256-1C43/skus"] * 2
    by_key = {(r["service"], r["sku"]): r for r in rows}
    assert by_key["vertex.training", "n1-standard-4"]["usd"] == pytest.approx(0.21849885, abs=1e-8)
    assert by_key["vertex.prediction", "n1-standard-4"]["usd"] == pytest.approx(4 * 0.04 + 15 * 0.005)
    assert ("vertex.prediction", "e2-standard-4") not in by_key  # no E2 SKU in the answer: not invented
    target = tmp_path / "gcp.yaml"
    shutil.copy(DATA / "gcp.yaml", target)
    assert refresh.refresh_file(target, rows, dt.date(2027, 1, 2)) == []
    file = parse_price_file(str(target), target.read_text(), "gcp")
    fresh = {(r.service, r.sku): r for r in file.rows}
    prediction = fresh["vertex.prediction", "n1-standard-4"]
    assert prediction.grade == "P" and prediction.source_date == "2026-11-20"
    assert re.search(r"B-1 .* \+ 15 GB x B-2", prediction.source)
    assert fresh["vertex.prediction", "e2-standard-4"].grade == "N"
    assert fresh["vertex.training", "NVIDIA_H100_80GB"].usd == 9.79655057  # accelerators untouched
    assert file.refreshed == dt.date(2027, 1, 2)
