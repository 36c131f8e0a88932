"""stacks/platform as a user meets it: a copy with a new Pulumi.<stack>.yaml and no Python plans and checks;
several clouds in one stack never collide; bad config stops before anything is registered."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mlops_infra.cli import app
from mlops_infra.engine import ProgramError, run_program

STACK = Path(__file__).resolve().parents[2] / "stacks" / "platform"


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout


@pytest.fixture
def copied(tmp_path: Path) -> Path:
    """A user's copy of the generic stack: platform.yaml, Pulumi.yaml and __main__.py, no stack configs."""
    target = tmp_path / "my-platform"
    target.mkdir()
    for name in ("Pulumi.yaml", "__main__.py", "platform.yaml"):
        shutil.copy(STACK / name, target / name)
    return target


@pytest.mark.parametrize(
    ("stack", "config"),
    [
        (
            "gcp-staging",
            "  gcp:project: acme-churn-stg\n  churn-platform:cloud: gcp\n  churn-platform:environment: staging\n"
            "  churn-platform:platform:\n    gcp: {billing_account: 01A2B3-C4D5E6-F7A8B9, group_domain: example.com}\n",
        ),
        (
            "aws-qa",
            "  aws:region: eu-west-1\n  churn-platform:cloud: aws\n  churn-platform:environment: staging\n"
            "  churn-platform:platform:\n    aws: {approved_model_packages: {scoring: 3}}\n",
        ),
        (
            "k8s-staging",
            "  churn-platform:cloud: k8s\n  churn-platform:environment: staging\n"
            "  churn-platform:platform:\n    k8s: {model_store_uri: s3://acme-models, "
            "oidc_issuer_url: https://login.example.com/realms/ml,\n"
            "      storage: {provisioner: aws-ebs, "
            "kms_key: 'arn:aws:kms:us-east-1:123456789012:key/0f2d9c1e-5b7a-4e3c-9d8f-6a1b2c3d4e5f'}}\n"
            + "".join(
                f"  churn-platform:{key}:\n    secure: v1:cGxhY2Vob2xkZXI=:c2VjcmV0LXZhbHVl\n"
                for key in ("redisPassword", "postgresPassword", "oidcClientSecret", "cookieSecret")
            ),
        ),
    ],
)
def test_a_copy_with_a_new_stack_file_plans_and_checks(copied: Path, stack: str, config: str) -> None:
    (copied / f"Pulumi.{stack}.yaml").write_text(
        "config:\n  churn-platform:owner: ml-platform\n  churn-platform:costCenter: cc-9\n" + config
    )
    code, out = invoke("plan", str(copied), "--stack", stack, "--format", "json")
    assert code == 0, out
    document = json.loads(out)
    cloud = stack.split("-", maxsplit=1)[0]
    assert document["outputs"]["clouds"] == [cloud]
    assert any(r["type"].startswith(f"mlops-infra:{cloud}:") for r in document["resources"])
    code, out = invoke("check", str(copied), "--stack", stack, "--format", "json")
    assert code == 0, out
    assert [v for v in json.loads(out)["violations"] if v["enforcement"] == "mandatory"] == []


def test_two_clouds_in_one_stack_plan_both_without_collisions() -> None:
    stack = run_program(STACK, "multi-prod")
    clouds = {r.type.split(":")[0] for r in stack.custom_resources()}
    assert {"aws", "gcp"} <= clouds
    urns = Counter(r.urn for r in stack.resources)
    assert [urn for urn, n in urns.items() if n > 1] == []
    names = Counter((r.type, r.name) for r in stack.resources)
    assert [key for key, n in names.items() if n > 1] == []
    (platform,) = stack.by_type("mlops-infra:index:MlPlatform")
    for resource in stack.resources:
        if resource.parent == platform.urn:
            package, module = resource.type.split(":")[:2]
            cloud = module if package == "mlops-infra" else package
            assert resource.name.split("-", 1)[0] == cloud, resource.urn


def test_each_cloud_of_a_multi_cloud_stack_has_its_own_budget() -> None:
    stack = run_program(STACK, "multi-prod")
    (aws_budget,) = stack.by_type("aws:budgets/budget:Budget")
    (gcp_budget,) = (b.inputs for b in stack.by_type("gcp:billing/budget:Budget"))
    assert aws_budget.inputs["limitAmount"] == "12000.00"
    assert gcp_budget["amount"]["specifiedAmount"]["units"] == "8000"
    # Cloud Billing notifies e-mail channels only; PagerDuty hears actual spend at 100 % through the budget's topic.
    channels = {
        c.name: c.inputs["type"] for c in stack.by_type("gcp:monitoring/notificationChannel:NotificationChannel")
    }
    assert {channels[c] for c in gcp_budget["allUpdatesRule"]["monitoringNotificationChannels"]} == {"email"}
    assert gcp_budget["allUpdatesRule"]["pubsubTopic"].endswith("-gcp-budget-alerts")
    (critical,) = [
        p
        for p in stack.by_type("gcp:monitoring/alertPolicy:AlertPolicy")
        if p.name.endswith("budget-alerts-alert-critical")
    ]
    assert "pagerduty" in {channels[c] for c in critical.inputs["notificationChannels"]}


def test_the_same_spec_on_one_cloud_keeps_its_names_when_a_second_cloud_is_added() -> None:
    alone = {r.urn.split("::", 2)[2] for r in run_program(STACK, "aws-prod").resources}
    together = {r.urn.split("::", 2)[2] for r in run_program(STACK, "multi-prod").resources}
    aws_alone = {urn for urn in alone if "mlops-infra:aws:" in urn or "$aws:" in urn}
    assert aws_alone and aws_alone <= together


def test_missing_cloud_config_is_a_clear_error(copied: Path) -> None:
    (copied / "Pulumi.dev.yaml").write_text(
        "config:\n  churn-platform:environment: dev\n  churn-platform:owner: a\n  churn-platform:costCenter: b\n"
    )
    with pytest.raises(ProgramError, match=r"churn-platform:cloud is not set: set it to aws, gcp, k8s") as error:
        run_program(copied, "dev")
    assert error.value.registered == []


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ('{"budget": {"monthly_limit_usd": -1}}', r"budget\.monthly_limit_usd: Input should be greater than 0"),
        ('{"training": {"schedule": {"cron": "0 25 31 2 *"}}}', r"training\.schedule\.cron: hour value '25'"),
        ('{"endpoints": [{"name": "x", "model": {"artifact": "gs://m/x"}}]}', r"endpoints\.0\.model\.artifact"),
    ],
)
def test_a_bad_override_stops_before_anything_is_registered(override: str, message: str) -> None:
    with pytest.raises(ProgramError, match=message) as error:
        run_program(STACK, "aws-dev", [f"platform={override}"])
    assert "Value error," not in str(error.value)
    assert error.value.registered == []


def test_cloud_may_be_a_list_or_a_single_name() -> None:
    single = run_program(STACK, "k8s-dev")  # cloud: k8s
    listed = run_program(STACK, "k8s-dev", ['cloud=["k8s"]'])
    assert single.outputs["clouds"] == listed.outputs["clouds"] == ["k8s"]
    assert [r.urn for r in single.resources] == [r.urn for r in listed.resources]
