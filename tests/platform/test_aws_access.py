"""The spec's access personas on AWS: federated roles with statements scoped to the platform's resources."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import ValidationError
from test_aws_realize import churn_spec, protected, realize

from mlops_infra.engine.captured import CapturedResource, CapturedStack
from mlops_infra.platform import MlPlatform
from mlops_infra.policy.evaluate import evaluate_stack
from mlops_infra.policy.facts.aws_iam import UNSCOPABLE_ACTIONS
from mlops_infra.testing import iam_statements, plan

ROLE = "aws:iam/role:Role"
POLICY = "aws:iam/rolePolicy:RolePolicy"
SAML = "arn:aws:iam::123456789012:saml-provider/churn-sso"
OIDC = "arn:aws:iam::123456789012:oidc-provider/login.example.com/oauth2"
ACCOUNT = "123456789012"
REGION = "us-east-1"


@pytest.fixture(scope="module")
def prod() -> CapturedStack:
    return protected("prod")


@pytest.fixture(scope="module")
def dev() -> CapturedStack:
    return realize("dev")


def _role(stack: CapturedStack, persona: str) -> CapturedResource:
    return next(r for r in stack.by_type(ROLE) if r.name == f"aws-personas-{persona}")


def _grants(stack: CapturedStack, persona: str) -> dict[str, set[str]]:
    """action -> resources the persona's inline policy allows it on."""
    policy = next(r for r in stack.by_type(POLICY) if r.name == f"aws-personas-{persona}-policy")
    grants: dict[str, set[str]] = {}
    for statement in iam_statements(policy):
        assert statement["Effect"] == "Allow"
        for action in statement["Action"]:
            grants.setdefault(action, set()).update(statement["Resource"])
    return grants


def _arn(kind: str, name: str) -> str:
    return f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:{kind}/{name}"


GROUP = _arn("model-package-group", "churn-prod-churn")
VERSIONS = _arn("model-package", "churn-prod-churn/*")
PIPELINE = _arn("pipeline", "churn-prod-aws-training")
ENDPOINT = _arn("endpoint", "churn-prod-aws-scoring")


def test_one_federated_role_per_persona_trusting_only_the_saml_provider(prod):
    roles = {r.name: r for r in prod.by_type(ROLE) if r.name.startswith("aws-personas-")}
    assert set(roles) == {
        f"aws-personas-{p}" for p in ("data-scientists", "ml-engineers", "devops", "analysts", "model-approvers")
    }
    for role in roles.values():
        trust = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
        assert trust == [
            {
                "Effect": "Allow",
                "Principal": {"Federated": SAML},
                "Action": ["sts:AssumeRoleWithSAML", "sts:TagSession"],
                "Condition": {"StringEquals": {"SAML:aud": "https://signin.aws.amazon.com/saml"}},
            }
        ]
        assert role.inputs["maxSessionDuration"] == 3600
        assert role.inputs["name"].startswith("churn-prod-us-east-1-")
    assert roles["aws-personas-model-approvers"].inputs["tags"]["groups"] == "churn-ml-leads"
    assert roles["aws-personas-data-scientists"].inputs["tags"]["persona"] == "data-scientists"


def test_no_wildcard_actions_and_star_only_for_unscopable_actions(prod):
    for persona in ("data-scientists", "ml-engineers", "devops", "analysts", "model-approvers"):
        for action, resources in _grants(prod, persona).items():
            assert "*" not in action
            if "*" in resources:
                assert action in UNSCOPABLE_ACTIONS and resources == {"*"}, (persona, action)


def test_data_scientists_read_features_and_registry_and_only_read_runs_in_prod(prod):
    grants = _grants(prod, "data-scientists")
    assert grants["sagemaker:GetRecord"] == {_arn("feature-group", "churn-prod-aws-features-customer-profile")}
    (objects,) = grants["s3:GetObject"]
    assert "features-offline-store" in objects and objects.endswith("/*")
    assert grants["sagemaker:DescribeModelPackage"] == {GROUP, VERSIONS}
    assert grants["sagemaker:DescribePipeline"] == {PIPELINE}
    assert grants["kms:Decrypt"] == {prod.outputs["platform"]["aws"]["keyArn"]}
    for forbidden in ("sagemaker:StartPipelineExecution", "sagemaker:UpdateModelPackage", "s3:PutObject"):
        assert forbidden not in grants


def test_data_scientists_run_pipelines_in_dev(dev):
    grants = _grants(dev, "data-scientists")
    assert grants["sagemaker:StartPipelineExecution"] == {_arn("pipeline", "churn-dev-aws-training")}
    assert grants["sagemaker:StopPipelineExecution"] == {_arn("pipeline", "churn-dev-aws-training/execution/*")}


def test_only_model_approvers_approve_in_prod(prod):
    assert _grants(prod, "model-approvers")["sagemaker:UpdateModelPackage"] == {VERSIONS}
    approving = [
        p
        for p in ("data-scientists", "ml-engineers", "devops", "analysts", "model-approvers")
        if "sagemaker:UpdateModelPackage" in _grants(prod, p)
    ]
    assert approving == ["model-approvers"]
    engineers = _grants(prod, "ml-engineers")
    assert engineers["sagemaker:StartPipelineExecution"] == {PIPELINE}
    assert engineers["sagemaker:DescribeEndpoint"] == {ENDPOINT}


def test_ml_engineers_approve_in_staging():
    staging = protected("staging")
    versions = _arn("model-package", "churn-staging-churn/*")
    assert _grants(staging, "ml-engineers")["sagemaker:UpdateModelPackage"] == {versions}


def test_devops_operate_endpoints_and_alarms_and_read_no_data(prod):
    grants = _grants(prod, "devops")
    assert grants["sagemaker:UpdateEndpointWeightsAndCapacities"] == {ENDPOINT}
    alarms = grants["cloudwatch:SetAlarmState"]
    assert len(alarms) == 6 and all(
        a.startswith(f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:churn-prod-") for a in alarms
    )
    assert grants["logs:FilterLogEvents"] == {
        f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/sagemaker/Endpoints/churn-prod-aws-scoring:*"
    }
    assert not [a for a in grants if a.startswith(("s3:", "kms:")) or "Record" in a or "Invoke" in a]


def test_analysts_read_dashboard_budget_and_cost(prod):
    grants = _grants(prod, "analysts")
    assert grants == {
        "cloudwatch:GetDashboard": {f"arn:aws:cloudwatch::{ACCOUNT}:dashboard/churn-prod-aws-dashboard"},
        "budgets:ViewBudget": {f"arn:aws:budgets::{ACCOUNT}:budget/churn-prod-us-east-1-aws-budget"},
        "cloudwatch:GetMetricData": {"*"},
        "ce:GetCostAndUsage": {"*"},
        "ce:GetCostForecast": {"*"},
    }


def test_persona_roles_pass_least_privilege(prod):
    assert not [v for v in evaluate_stack(prod) if v.policy_id == "least-privilege-iam" and "personas" in v.urn]


def test_oidc_provider_pins_the_audience():
    stack = realize("dev", aws={"identity_provider_arn": OIDC, "identity_provider_audience": "churn-client"})
    trust = json.loads(_role(stack, "analysts").inputs["assumeRolePolicy"])["Statement"][0]
    assert trust["Action"] == ["sts:AssumeRoleWithWebIdentity", "sts:TagSession"]
    assert trust["Condition"] == {"StringEquals": {"login.example.com/oauth2:aud": "churn-client"}}


@pytest.mark.parametrize(
    ("aws", "path"),
    [
        ({"identity_provider_arn": None}, "aws.identity_provider_arn"),
        ({"identity_provider_arn": OIDC}, "aws.identity_provider_audience"),
        ({"identity_provider_arn": "arn:aws:iam::123456789012:role/not-a-provider"}, "aws.identity_provider_arn"),
    ],
)
def test_groups_without_a_usable_provider_are_refused_by_field_before_registering(aws: dict[str, Any], path: str):
    spec = churn_spec(aws=aws)
    errors: list[str] = []

    def program() -> None:
        try:
            MlPlatform("churn", spec)
        except ValidationError as exc:
            errors.append(str(exc))

    stack = plan(program, environment="dev")
    assert path in errors[0]
    assert [r.type for r in stack.resources if not r.type.startswith("pulumi:")] == []


def test_no_groups_no_roles():
    stack = realize(
        "dev", access={k: [] for k in ("data_scientists", "ml_engineers", "devops", "analysts", "model_approvers")}
    )
    assert not [r for r in stack.by_type(ROLE) if r.name.startswith("aws-personas-")]
