"""audit-logging on raw programs (AWS CloudTrail, GCP Data Access logs) and least-privilege-iam for people's roles."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pulumi_aws as aws
import pulumi_gcp as gcp
import pytest
import raw_programs
from raw_programs import LABELS, TAGS

from mlops_infra.policy.evaluate import evaluate_stack
from mlops_infra.policy.model import Enforcement, Violation
from mlops_infra.testing import plan

RULE = "audit-logging"
FULL = ("ADMIN_READ", "DATA_READ", "DATA_WRITE")


def _audit(program: Callable[[], None], environment: str = "prod") -> list[Violation]:
    return [v for v in evaluate_stack(plan(program, environment=environment)) if v.policy_id == RULE and not v.note]


def _selectors(*data_types: str) -> list[dict[str, Any]]:
    return [
        {"name": "management", "field_selectors": [{"field": "eventCategory", "equals": ["Management"]}]},
        *(
            {
                "name": t,
                "field_selectors": [
                    {"field": "eventCategory", "equals": ["Data"]},
                    {"field": "resources.type", "equals": [t]},
                ],
            }
            for t in data_types
        ),
    ]


def _endpoint_and_bucket() -> None:
    aws.s3.Bucket("data", bucket="churn-prod-data", tags=TAGS)
    aws.sagemaker.Endpoint("serving", name="churn-prod-serving", endpoint_config_name="c", tags=TAGS)


def _trail(**overrides: Any) -> None:
    args: dict[str, Any] = {
        "s3_bucket_name": "churn-prod-trail",
        "kms_key_id": "arn:aws:kms:us-east-1:123456789012:key/00000000-0000-0000-0000-000000000000",
        "is_multi_region_trail": True,
        "enable_log_file_validation": True,
        "advanced_event_selectors": _selectors("AWS::S3::Object", "AWS::SageMaker::Endpoint"),
        "tags": TAGS,
    }
    aws.cloudtrail.Trail("audit", **{**args, **overrides})


def test_aws_stack_without_trail_is_flagged_mandatory_in_prod() -> None:
    (violation,) = _audit(_endpoint_and_bucket)
    assert violation.enforcement is Enforcement.MANDATORY
    assert violation.resource_type == "pulumi:pulumi:Stack"
    assert "CloudTrail" in violation.message and "AuditTrail" in violation.message


def test_aws_complete_trail_passes() -> None:
    assert _audit(lambda: (_endpoint_and_bucket(), _trail())) == []


@pytest.mark.parametrize(
    ("overrides", "says"),
    [
        ({"is_multi_region_trail": False}, "CKV_AWS_67"),
        ({"enable_log_file_validation": None}, "CKV_AWS_36"),
        ({"kms_key_id": None}, "CKV_AWS_35"),
        ({"enable_logging": False}, "switched off"),
    ],
)
def test_aws_incomplete_trail_is_flagged_on_the_trail_and_the_stack(overrides: dict[str, Any], says: str) -> None:
    violations = _audit(lambda: (_endpoint_and_bucket(), _trail(**overrides)))
    on_trail = [v for v in violations if v.resource_type == "aws:cloudtrail/trail:Trail"]
    assert on_trail and says in on_trail[0].message
    assert [v for v in violations if v.resource_type == "pulumi:pulumi:Stack"]


def test_aws_trail_without_sagemaker_data_events_is_flagged() -> None:
    (violation,) = _audit(
        lambda: (_endpoint_and_bucket(), _trail(advanced_event_selectors=_selectors("AWS::S3::Object")))
    )
    assert violation.resource_type == "aws:cloudtrail/trail:Trail"
    assert "AWS::SageMaker::Endpoint" in violation.message and "AWS::S3::Object" not in violation.message


def test_aws_basic_event_selectors_count_for_s3_objects() -> None:
    def program() -> None:
        aws.s3.Bucket("data", bucket="churn-prod-data", tags=TAGS)
        _trail(
            advanced_event_selectors=None,
            event_selectors=[
                {"data_resources": [{"type": "AWS::S3::Object", "values": ["arn:aws:s3:::churn-prod-data/"]}]}
            ],
        )

    assert _audit(program) == []


def test_dev_is_not_held_to_audit_logging() -> None:
    assert _audit(_endpoint_and_bucket, environment="dev") == []


def _gcp_data(*configs: tuple[str, tuple[str, ...]]) -> Callable[[], None]:
    def program() -> None:
        gcp.storage.Bucket("data", location="US", labels=LABELS)
        gcp.vertex.AiEndpoint("endpoint", name="8123", display_name="churn", location="us-central1", labels=LABELS)
        for service, types in configs:
            gcp.projects.IAMAuditConfig(
                f"audit-{service.split('.')[0]}",
                project="p",
                service=service,
                audit_log_configs=[{"log_type": t} for t in types],
            )

    return program


def test_gcp_services_without_data_access_logs_are_named() -> None:
    (violation,) = _audit(_gcp_data(("storage.googleapis.com", FULL)))
    assert violation.enforcement is Enforcement.MANDATORY
    assert "aiplatform.googleapis.com" in violation.message and "storage.googleapis.com" not in violation.message


def test_gcp_admin_read_only_is_not_a_data_access_log() -> None:
    (violation,) = _audit(_gcp_data(("storage.googleapis.com", ("ADMIN_READ",)), ("aiplatform.googleapis.com", FULL)))
    assert "storage.googleapis.com" in violation.message


@pytest.mark.parametrize(
    "configs",
    [
        (("storage.googleapis.com", FULL), ("aiplatform.googleapis.com", FULL)),
        (("allServices", ("DATA_READ", "DATA_WRITE")),),
    ],
)
def test_gcp_every_used_service_audited_passes(configs: tuple[tuple[str, tuple[str, ...]], ...]) -> None:
    assert _audit(_gcp_data(*configs)) == []


def test_raw_violating_programs_are_flagged_and_compliant_ones_pass() -> None:
    assert _audit(raw_programs.aws_violations) and _audit(raw_programs.gcp_violations)
    assert _audit(raw_programs.aws_compliant) == [] and _audit(raw_programs.gcp_compliant) == []


# --- least-privilege-iam: project-wide admin/editor for people and services ------------------------------------


def _iam(program: Callable[[], None]) -> list[Violation]:
    stack = plan(program, environment="prod")
    return [v for v in evaluate_stack(stack) if v.policy_id == "least-privilege-iam" and not v.note]


@pytest.mark.parametrize(
    ("role", "member"),
    [
        ("roles/aiplatform.admin", "group:ml@example.com"),
        ("roles/storage.admin", "user:someone@example.com"),
        ("roles/bigquery.admin", "serviceAccount:job@p.iam.gserviceaccount.com"),
        ("roles/dataflow.editor", "group:ml@example.com"),
        ("roles/resourcemanager.projectIamAdmin", "group:ml@example.com"),
        ("roles/editor", "group:ml@example.com"),
        ("roles/owner", "user:someone@example.com"),
    ],
)
def test_project_wide_admin_and_editor_roles_are_flagged_for_anyone(role: str, member: str) -> None:
    (violation,) = _iam(lambda: gcp.projects.IAMMember("grant", project="p", role=role, member=member))
    assert role in violation.message and violation.enforcement is Enforcement.MANDATORY


def test_admin_role_on_one_resource_and_narrow_project_roles_pass() -> None:
    def program() -> None:
        gcp.storage.BucketIAMMember(
            "bucket", bucket="b", role="roles/storage.objectAdmin", member="group:ml@example.com"
        )
        gcp.projects.IAMMember("user", project="p", role="roles/aiplatform.user", member="group:ml@example.com")
        gcp.projects.IAMMember(
            "alerts", project="p", role="roles/monitoring.alertPolicyEditor", member="group:ops@example.com"
        )

    assert _iam(program) == []


def test_the_trails_own_bucket_needs_no_data_events() -> None:
    def program() -> None:
        logs = aws.s3.Bucket("logs", bucket="churn-prod-trail", tags=TAGS)
        _trail(s3_bucket_name=logs.bucket, advanced_event_selectors=_selectors())

    assert _audit(program) == []
