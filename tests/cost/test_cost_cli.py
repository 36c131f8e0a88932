"""`mlops-infra cost`: text and JSON output, budgets and exit codes, --prices."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from mlops_infra.cli import app

runner = CliRunner()
STACK = str(Path(__file__).resolve().parents[2] / "stacks" / "platform")


def _cost(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["cost", *args])
    return result.exit_code, result.stdout, result.stderr


def test_text_prints_a_basis_per_item_and_exits_0_under_the_stack_budget(tmp_path: Path) -> None:
    code, out, _ = _cost(STACK, "--stack", "aws-prod", "--format", "json")
    assert code == 0
    items = json.loads(out)["cost"]["items"]
    report = tmp_path / "cost.txt"
    code, _, _ = _cost(STACK, "--stack", "aws-prod", "--out", str(report))
    assert code == 0
    text = report.read_text()
    flat = " ".join(text.split())
    assert len(items) >= 3 and all(i["basis"] for i in items)
    for item in items:
        assert item["basis"][:10] in text  # every priced item shows its basis
    assert "budget (aws): $12,000.00/month" in flat and "catalogue date:" in flat


def test_budget_flag_overrides_and_exits_1_when_exceeded() -> None:
    code, _, err = _cost(STACK, "--stack", "aws-prod", "--budget", "1")
    assert code == 1
    assert "over budget" in err


def test_json_shape() -> None:
    code, out, _ = _cost(STACK, "--stack", "aws-prod", "--format", "json")
    assert code == 0
    document = json.loads(out)
    assert set(document) == {"project", "stack", "resources", "outputs", "cost"}
    cost = document["cost"]
    assert set(cost) == {"currency", "monthly_max", "monthly_expected", "items", "unpriced", "catalogue"}
    assert cost["currency"] == "USD"
    assert set(cost["catalogue"]) == {"date"}
    for item in cost["items"]:
        assert set(item) == {"urn", "type", "monthly_max", "monthly_expected", "basis"}
    for entry in cost["unpriced"]:
        assert set(entry) == {"urn", "type", "reason"}
    assert cost["monthly_max"] == round(sum(i["monthly_max"] for i in cost["items"]), 2)


def test_prices_override_changes_the_figure(tmp_path: Path) -> None:
    prices = tmp_path / "prices.yaml"
    prices.write_text(
        "rows:\n"
        "  - {provider: aws, service: sagemaker.hosting, sku: ml.m5.large, unit: instance-hour, usd: 0.2,\n"
        "     region: us-east-1, source: negotiated, source_date: '2026-11-01', grade: P}\n"
    )
    _, before, _ = _cost(STACK, "--stack", "aws-prod", "--format", "json")
    code, after, _ = _cost(STACK, "--stack", "aws-prod", "--format", "json", "--prices", str(prices))
    assert code == 0
    endpoint = [i for i in json.loads(after)["cost"]["items"] if i["type"] == "aws:sagemaker/endpoint:Endpoint"]
    assert endpoint[0]["monthly_max"] == round(4 * 0.2 * 730, 2)
    assert json.loads(before)["cost"]["monthly_max"] != json.loads(after)["cost"]["monthly_max"]


def test_bad_budget_and_bad_prices_exit_2_with_one_paragraph(tmp_path: Path) -> None:
    code, _, err = _cost(STACK, "--stack", "aws-prod", "--budget", "lots")
    assert code == 2
    assert err.strip().startswith("error:") and "\n\n" not in err.strip() and "Traceback" not in err
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "rows:\n  - {provider: aws, service: x, sku: y, unit: parsec, usd: 1, region: all, "
        "source: s, source_date: undated, grade: P}\n"
    )
    code, _, err = _cost(STACK, "--stack", "aws-prod", "--prices", str(bad))
    assert code == 2 and "bad.yaml" in err and "Traceback" not in err
