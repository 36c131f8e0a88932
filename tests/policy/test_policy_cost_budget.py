"""cost-budget: the worst case against the declared budgets, in `check`, in the pack and in `cost` alike.

Expected amounts are derived from the catalogue rows the estimator cites, never copied.
"""

from __future__ import annotations

import json
from pathlib import Path
from textwrap import dedent
from typing import Any

import pytest
from pack_harness import run_pack
from typer.testing import CliRunner

from mlops_infra.cli import app
from mlops_infra.cost.catalogue import MONTH_HOURS, load_catalogue
from mlops_infra.engine.captured import CapturedStack
from mlops_infra.engine.runner import run_program
from mlops_infra.policy.config import PolicyConfig, load_policy_config
from mlops_infra.policy.evaluate import evaluate_stack
from mlops_infra.policy.model import Enforcement, Violation
from mlops_infra.policy.pack import build_policies, pack_initial_config

REPO = Path(__file__).resolve().parents[2]
PLATFORM = REPO / "stacks" / "platform"
runner = CliRunner()

PROGRAM = """\
import pulumi_aws as aws

config = aws.sagemaker.EndpointConfiguration(
    "serving-config",
    name="serving-config",
    production_variants=[{{"variant_name": "main", "model_name": "m", "instance_type": "ml.m5.large",
                          "initial_instance_count": 1}}],
)
aws.sagemaker.Endpoint("serving", name="serving", endpoint_config_name=config.name)
aws.appautoscaling.Target(
    "serving-scaling",
    service_namespace="sagemaker",
    scalable_dimension="sagemaker:variant:DesiredInstanceCount",
    resource_id="endpoint/serving/variant/main",
    min_capacity=1,
    max_capacity=4,
)
aws.budgets.Budget(
    "monthly",
    budget_type="COST",
    time_unit="MONTHLY",
    limit_amount="{limit}",
    limit_unit="USD",
    notifications=[{{"comparison_operator": "GREATER_THAN", "threshold": 80, "threshold_type": "PERCENTAGE",
                    "notification_type": "FORECASTED", "subscriber_email_addresses": ["ops@example.com"]}}],
)
"""


def _m5_large() -> float:
    row = load_catalogue().price("aws", "sagemaker.hosting", "ml.m5.large", "us-east-1")
    assert row is not None and row.usd is not None
    return row.usd


def _program(tmp_path: Path, limit: float, environment: str) -> Path:
    directory = tmp_path / f"demo-{environment}-{limit:g}"
    directory.mkdir()
    (directory / "Pulumi.yaml").write_text("name: demo\nruntime: python\n")
    (directory / "__main__.py").write_text(dedent(PROGRAM.format(limit=limit)))
    (directory / f"Pulumi.{environment}.yaml").write_text(
        f"config:\n  demo:environment: {environment}\n  aws:region: us-east-1\n"
    )
    return directory


def _run(tmp_path: Path, limit: float, environment: str = "prod") -> CapturedStack:
    return run_program(_program(tmp_path, limit, environment), environment)


def _cost_budget(violations: list[Violation]) -> list[Violation]:
    return [v for v in violations if v.policy_id == "cost-budget"]


def test_a_worst_case_over_the_budget_is_mandatory_in_prod_and_names_the_amount_and_the_top_items(
    tmp_path: Path,
) -> None:
    worst = 4 * _m5_large() * MONTH_HOURS  # 4 x ml.m5.large x 730 h
    stack = _run(tmp_path, 100)
    (violation,) = _cost_budget(evaluate_stack(stack, PolicyConfig()))
    assert violation.enforcement is Enforcement.MANDATORY
    assert violation.resource_type == "aws:budgets/budget:Budget" and violation.urn.endswith("::monthly")
    assert f"${worst:,.2f}/month is ${worst - 100:,.2f} over its $100.00 budget" in violation.message
    assert (
        f"serving ${worst:,.2f}" in violation.message
        and f"4 x ml.m5.large x 730 h x ${_m5_large()}" in violation.message
    )


def test_within_the_budget_there_is_no_violation(tmp_path: Path) -> None:
    limit = 4 * _m5_large() * MONTH_HOURS + 1
    assert _cost_budget(evaluate_stack(_run(tmp_path, limit), PolicyConfig())) == []


def test_in_dev_the_same_breach_is_advisory(tmp_path: Path) -> None:
    (violation,) = _cost_budget(evaluate_stack(_run(tmp_path, 100, "dev"), PolicyConfig()))
    assert violation.enforcement is Enforcement.ADVISORY


def test_the_pack_stack_policy_reports_what_check_reports(tmp_path: Path) -> None:
    stack = _run(tmp_path, 100)
    config = PolicyConfig()
    _, stack_policies = build_policies(config, stack.config)
    (policy,) = [p for p in stack_policies if p.name == "cost-budget"]
    diagnostics = run_pack(stack, [], [policy], pack_initial_config(config))
    offline = _cost_budget(evaluate_stack(stack, config))
    assert [(d.level, d.urn, d.message) for d in diagnostics] == [("mandatory", v.urn, v.message) for v in offline]


def test_check_and_cost_exit_1_on_the_same_breach(tmp_path: Path) -> None:
    program = str(_program(tmp_path, 100, "prod"))
    checked = runner.invoke(app, ["check", program, "--stack", "prod", "--format", "json"])
    assert checked.exit_code == 1
    violations = json.loads(checked.stdout)["violations"]
    (budget,) = [v for v in violations if v["policy_id"] == "cost-budget"]
    costed = runner.invoke(app, ["cost", program, "--stack", "prod"])
    assert costed.exit_code == 1
    assert budget["message"].split(". Most expensive")[0] in " ".join(costed.stderr.split())


def _prices(path: Path, usd: float) -> Path:
    rows = [
        {
            "provider": "aws",
            "service": "sagemaker.hosting",
            "sku": "ml.m5.large",
            "unit": "instance-hour",
            "usd": usd,
            "region": "us-east-1",
            "source": "negotiated rate (test)",
            "source_date": "2026-12-01",
            "grade": "P",
        }
    ]
    path.write_text(json.dumps({"rows": rows}))
    return path


def test_the_prices_setting_reprices_the_rule_relative_to_the_policy_config(tmp_path: Path) -> None:
    limit = 4 * _m5_large() * MONTH_HOURS + 1  # within at list price
    stack = _run(tmp_path, limit)
    settings = tmp_path / "settings"
    settings.mkdir()
    _prices(settings / "negotiated.json", 10 * _m5_large())
    (settings / "policy.yaml").write_text("prices: negotiated.json\n")
    config = load_policy_config(settings / "policy.yaml")
    assert config.prices == settings / "negotiated.json"
    (violation,) = _cost_budget(evaluate_stack(stack, config))
    assert f"x ${10 * _m5_large():g}" in violation.message
    assert _cost_budget(evaluate_stack(stack, PolicyConfig())) == []


def test_the_pack_reads_prices_from_its_policy_config(tmp_path: Path) -> None:
    stack = _run(tmp_path, 4 * _m5_large() * MONTH_HOURS + 1)
    prices = _prices(tmp_path / "negotiated.json", 10 * _m5_large())
    _, stack_policies = build_policies(PolicyConfig(), stack.config)
    (policy,) = [p for p in stack_policies if p.name == "cost-budget"]
    diagnostics = run_pack(stack, [], [policy], {"cost-budget": {"prices": str(prices)}})
    assert len(diagnostics) == 1 and "over its" in diagnostics[0].message


def test_a_broken_price_file_is_a_config_error_exit_2(tmp_path: Path) -> None:
    (tmp_path / "policy.yaml").write_text("prices: missing.yaml\n")
    result = runner.invoke(
        app, ["check", str(PLATFORM), "--stack", "aws-dev", "--policy-config", str(tmp_path / "policy.yaml")]
    )
    assert result.exit_code == 2
    assert "missing.yaml" in result.stderr and "Traceback" not in result.stderr


def test_a_shipped_stack_over_its_budget_at_negotiated_prices_fails_check_and_cost(tmp_path: Path) -> None:
    prices = _prices(tmp_path / "expensive.json", 1000.0)
    (tmp_path / "policy.yaml").write_text(f"prices: {prices}\n")
    checked = runner.invoke(
        app,
        ["check", str(PLATFORM), "--stack", "aws-prod", "--policy-config", str(tmp_path / "policy.yaml"), "-f", "json"],
    )
    assert checked.exit_code == 1, checked.stderr
    (budget,) = [v for v in json.loads(checked.stdout)["violations"] if v["policy_id"] == "cost-budget"]
    assert budget["enforcement"] == "mandatory" and "aws worst case" in budget["message"]
    costed = runner.invoke(app, ["cost", str(PLATFORM), "--stack", "aws-prod", "--prices", str(prices)])
    assert costed.exit_code == 1


def _json(args: list[str]) -> dict[str, Any]:
    result = runner.invoke(app, args)
    assert result.exit_code in (0, 1), result.stderr
    document: dict[str, Any] = json.loads(result.stdout)
    return document


def test_with_cost_adds_the_same_cost_section_to_plan_and_check() -> None:
    base = [str(PLATFORM), "--stack", "aws-prod", "--format", "json"]
    costed = _json(["cost", *base])["cost"]
    planned = _json(["plan", *base, "--with-cost"])
    checked = _json(["check", *base, "--with-cost"])
    assert planned["cost"] == checked["cost"] == costed
    assert costed["monthly_max"] > 0 and costed["items"]
    assert "cost" not in _json(["plan", *base])


def test_with_cost_in_text_prints_the_cost_table() -> None:
    result = runner.invoke(app, ["plan", str(PLATFORM), "--stack", "aws-dev", "--with-cost"])
    assert result.exit_code == 0
    assert "Monthly cost of churn-platform/aws-dev" in result.stdout and "budget (aws)" in result.stdout


def test_with_cost_and_sarif_is_refused() -> None:
    result = runner.invoke(app, ["check", str(PLATFORM), "--stack", "aws-dev", "--format", "sarif", "--with-cost"])
    assert result.exit_code == 2 and "SARIF" in result.stderr


@pytest.mark.parametrize("value", ["", "   "])
def test_a_blank_prices_setting_names_the_field(value: str) -> None:
    with pytest.raises(ValueError, match="prices"):
        PolicyConfig.model_validate({"prices": value})
