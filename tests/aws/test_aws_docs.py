"""Every field of every AWS args model is documented on its component page (docs/components/aws-*.md)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import BaseModel

from mlops_infra.aws.airflow_environment import AirflowEnvironmentArgs
from mlops_infra.aws.alert_routing import AlertRoutingArgs
from mlops_infra.aws.alert_topic import AlertTopicArgs
from mlops_infra.aws.audit_trail import AuditTrailArgs
from mlops_infra.aws.budget import BudgetAlert, BudgetArgs
from mlops_infra.aws.chatbot import SlackChatbotArgs
from mlops_infra.aws.dashboard import DashboardArgs, DashboardDrift, DashboardEndpoint
from mlops_infra.aws.endpoint_args import (
    AlarmArgs,
    AsyncInferenceArgs,
    AutoscalingArgs,
    DataCaptureArgs,
    DeploymentArgs,
    EndpointArgs,
    ModelArgs,
    ServerlessArgs,
    VariantArgs,
    VpcArgs,
)
from mlops_infra.aws.feature_store_args import FeatureDefinition, FeatureGroupDefinition, FeatureStoreArgs
from mlops_infra.aws.model_monitor import ModelMonitorArgs
from mlops_infra.aws.model_registry import DeployHook, ModelRegistryArgs
from mlops_infra.aws.persona_roles import PersonaRolesArgs
from mlops_infra.aws.platform_key import PlatformKeyArgs
from mlops_infra.aws.training_pipeline_args import GateArgs, TrainingPipelineArgs
from mlops_infra.aws.training_schedule import TrainingScheduleArgs

DOCS = Path(__file__).resolve().parents[2] / "docs" / "components"
PAGES: dict[str, list[type[BaseModel]]] = {
    "aws-budget.md": [BudgetArgs, BudgetAlert],
    "aws-endpoint.md": [
        EndpointArgs,
        ModelArgs,
        VariantArgs,
        ServerlessArgs,
        AutoscalingArgs,
        VpcArgs,
        DataCaptureArgs,
        DeploymentArgs,
        AlarmArgs,
        AsyncInferenceArgs,
    ],
    "aws-feature-store.md": [FeatureStoreArgs, FeatureGroupDefinition, FeatureDefinition],
    "aws-model-monitor.md": [ModelMonitorArgs],
    "aws-model-registry.md": [ModelRegistryArgs, DeployHook],
    "aws-platform-key.md": [PlatformKeyArgs],
    "aws-training-pipeline.md": [TrainingPipelineArgs, GateArgs, TrainingScheduleArgs],
    "aws-platform.md": [AlertTopicArgs],
    "aws-alert-routing.md": [AlertRoutingArgs, AlertTopicArgs, SlackChatbotArgs],
    "aws-dashboard.md": [DashboardArgs, DashboardEndpoint, DashboardDrift],
    "aws-persona-roles.md": [PersonaRolesArgs],
    "aws-audit-trail.md": [AuditTrailArgs],
    "aws-airflow.md": [AirflowEnvironmentArgs],
}
# A field is documented when its name appears as `code` or as a "quoted" key of an example.
_NAMES = re.compile(r"`([a-z_][a-z0-9_.]*)`|\"([a-z_][a-z0-9_]*)\"")


def documented(page: str) -> set[str]:
    names: set[str] = set()
    for code, quoted in _NAMES.findall((DOCS / page).read_text(encoding="utf-8")):
        names.update((code or quoted).split("."))
    return names


@pytest.mark.parametrize(("page", "models"), PAGES.items(), ids=list(PAGES))
def test_every_args_field_is_documented(page, models):
    names = documented(page)
    missing = {m.__name__: [f for f in m.model_fields if f not in names] for m in models}
    assert {model: fields for model, fields in missing.items() if fields} == {}
