"""One source for environment and protection: the stack's platform settings, then the policy config.

Reproduced bug: ``environment=staging`` with ``protectedEnvironments=[prod]`` in stack config left
the platform key unprotected on purpose (the platform did not protect staging), and ``check``
failed it anyway because the policy config's own ``protectedEnvironments`` (staging, prod) said
staging was protected.
"""

from __future__ import annotations

from pathlib import Path
from textwrap import dedent

import pytest
from typer.testing import CliRunner

from mlops_infra.cli import app
from mlops_infra.engine import run_program
from mlops_infra.policy.config import PolicyConfig
from mlops_infra.policy.enforcement import (
    component_protection,
    stack_protected_environments,
    with_platform_protection,
)
from mlops_infra.policy.evaluate import evaluate_stack, has_mandatory, stack_view
from mlops_infra.policy.model import Enforcement, ResourceView
from mlops_infra.policy.pack import build_policies

runner = CliRunner()
KEY = "aws:kms/key:Key"

PLATFORM_PROGRAM = """\
from mlops_infra.aws.budget import Budget
from mlops_infra.aws.platform_key import PlatformKey
from mlops_infra.conventions import init_platform

init_platform(owner="ml-platform", costCenter="cc-1")
key = PlatformKey("platform")
Budget("budget", {"monthly_limit_usd": 100, "kms_key_arn": key.arn})
"""

RAW_PROGRAM = """\
import pulumi_aws as aws

TAGS = {"project": "raw", "environment": "staging", "owner": "ml", "cost-center": "cc-1"}
aws.kms.Key("key", enable_key_rotation=True, tags=TAGS)
"""


@pytest.fixture
def project(tmp_path: Path):  # type: ignore[no-untyped-def]
    def make(main: str, stack_config: dict[str, str], name: str = "demo") -> Path:
        directory = tmp_path / name
        directory.mkdir()
        (directory / "Pulumi.yaml").write_text(f"name: {name}\nruntime: python\n")
        (directory / "__main__.py").write_text(dedent(main))
        lines = "".join(f"  {name}:{key}: {value}\n" for key, value in stack_config.items())
        (directory / "Pulumi.staging.yaml").write_text("config:\n" + lines)
        return directory

    return make


def _deletion_findings(stack) -> list:  # type: ignore[no-untyped-def]
    return [v for v in evaluate_stack(stack) if v.policy_id == "deletion-protection" and v.resource_type == KEY]


def test_staging_left_unprotected_by_the_platform_passes_check(project):
    directory = project(PLATFORM_PROGRAM, {"environment": "staging", "protectedEnvironments": "[prod]"})
    stack = run_program(directory, "staging")
    key = next(r for r in stack.resources if r.type == KEY)
    assert key.protect is False  # the platform left it unprotected, as configured
    assert _deletion_findings(stack) == []
    assert not has_mandatory(evaluate_stack(stack))
    result = runner.invoke(app, ["check", str(directory), "--stack", "staging"])
    assert result.exit_code == 0, result.output


def test_the_stack_settings_win_over_a_policy_config_that_disagrees(project, tmp_path):
    directory = project(PLATFORM_PROGRAM, {"environment": "staging", "protectedEnvironments": "[prod]"})
    policy_file = tmp_path / "policy.yaml"
    policy_file.write_text("protectedEnvironments: [staging, prod]\n")
    result = runner.invoke(app, ["check", str(directory), "--stack", "staging", "--policy-config", str(policy_file)])
    assert result.exit_code == 0, result.output


def test_staging_protected_by_default_is_still_checked(project):
    directory = project(PLATFORM_PROGRAM, {"environment": "staging"})
    stack = run_program(directory, "staging", ['protectionExemptions=["platform-key"]'])
    assert _deletion_findings(stack) == []  # the one stateful resource is exempted by name, on purpose
    key = next(r for r in stack.resources if r.type == KEY)
    assert key.protect is False


TWO_RAW_KEYS = """\
import pulumi_aws as aws

TAGS = {"project": "raw", "environment": "staging", "owner": "ml", "cost-center": "cc-1"}
aws.kms.Key("scratch-key", enable_key_rotation=True, tags=TAGS)
aws.kms.Key("data-key", enable_key_rotation=True, tags=TAGS)
"""


def test_an_exemption_excuses_only_the_resource_it_names(project):
    directory = project(TWO_RAW_KEYS, {"environment": "staging", "protectionExemptions": '["scratch-key"]'})
    stack = run_program(directory, "staging")
    flagged = [v.urn.rsplit("::", 1)[-1] for v in _deletion_findings(stack)]
    assert flagged == ["data-key"]


def test_program_defaults_travel_in_the_graph_without_config(tmp_path):
    # No stack config at all: the program's own settings decide, and the component inputs carry them.
    program = tmp_path / "defaults.py"
    program.write_text(
        dedent(
            """\
            from mlops_infra.aws.platform_key import PlatformKey
            from mlops_infra.config.platform import PlatformSettings
            from mlops_infra.conventions import init_platform

            init_platform(PlatformSettings(project="defaults", environment="staging", owner="ml",
                                           costCenter="cc-1", protectedEnvironments=["prod"]))
            PlatformKey("platform")
            """
        )
    )
    stack = run_program(program, "dev")
    component = next(r for r in stack.resources if r.type == "mlops-infra:aws:PlatformKey")
    assert component.inputs == {"environment": "staging", "protected": False}
    assert stack.environment() == "staging"
    assert component_protection(stack_view(stack).resources) == {"staging": False}
    assert _deletion_findings(stack) == []


def test_raw_programs_fall_back_to_the_policy_config(project):
    directory = project(RAW_PROGRAM, {"environment": "staging"}, name="raw")
    stack = run_program(directory, "staging")
    assert [f.enforcement for f in _deletion_findings(stack)] == [Enforcement.MANDATORY]
    relaxed = PolicyConfig.model_validate({"protectedEnvironments": ["prod"]})
    assert [v for v in evaluate_stack(stack, relaxed) if v.policy_id == "deletion-protection"] == []


def test_resolution_order_components_then_stack_config_then_policy_config():
    base = PolicyConfig()  # staging and prod
    assert with_platform_protection(base, {}) is base
    assert with_platform_protection(base, {"p:protectedEnvironments": '["prod"]'}).protected_environments == {"prod"}
    # A provider namespace is never the platform's setting.
    assert with_platform_protection(base, {"aws:protectedEnvironments": '["prod"]'}) is base
    component = ResourceView(
        "mlops-infra:aws:Endpoint", {"environment": "prod", "protected": False}, "urn:c", "c", custom=False
    )
    decided = with_platform_protection(base, {"p:protectedEnvironments": '["prod"]'}, [component])
    assert decided.protected_environments == frozenset()
    # Custom resources' props never count as the platform's decision.
    raw = ResourceView("aws:kms/key:Key", {"environment": "prod", "protected": False}, "urn:k", "k")
    assert component_protection([raw]) == {}


@pytest.mark.parametrize(
    ("value", "expected"),
    [('["dev"]', {"dev"}), (["prod"], {"prod"}), ("not json", None), ('"prod"', None)],
)
def test_stack_protected_environments_reads_the_stored_json(value, expected):
    result = stack_protected_environments({"demo:protectedEnvironments": value})
    assert result == (frozenset(expected) if expected is not None else None)


def test_the_policy_pack_levels_follow_the_stack_settings():
    stack_config = {"demo:environment": "staging", "demo:protectedEnvironments": '["prod"]'}
    resource_policies, _ = build_policies(PolicyConfig(), stack_config)
    levels = {p.name: p.enforcement_level for p in resource_policies}
    assert levels["deletion-protection"].value == "advisory"
    assert levels["encryption-at-rest"].value == "mandatory"
