"""The stack's own settings, read from Pulumi.<stack>.yaml and validated before anything is created."""

from __future__ import annotations

from typing import Annotated, Any

import pulumi
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from mlops_infra.aws.model_monitor_images import check_analyzer_region
from mlops_infra.spec.alerts import PagerDuty, Slack
from mlops_infra.spec.schedule import check_time_zone, cron_fields

ECR = "123456789012.dkr.ecr.us-east-1.amazonaws.com"


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)


class EndpointSpec(_Spec):
    """One real-time endpoint serving the churn model."""

    name: str = Field(min_length=1, max_length=40)
    image: str = f"{ECR}/churn/xgboost-serve:1.7.6-2"
    model_data_url: str = Field("s3://churn-models/champion/model.tar.gz", alias="modelDataUrl")
    model_package_arn: str | None = Field(None, alias="modelPackageArn")
    instance_type: str = Field("ml.m5.large", alias="instanceType")
    min_replicas: int = Field(1, ge=1, alias="minReplicas")
    max_replicas: int = Field(2, ge=1, alias="maxReplicas")
    sampling_percent: int = Field(20, ge=0, le=100, alias="samplingPercent")


class TrainingSpec(_Spec):
    """Weekly retraining on a schedule, plus retraining when drift alarms fire."""

    instance_type: str = Field("ml.m5.xlarge", alias="instanceType")
    schedule: Annotated[str, AfterValidator(lambda c: " ".join(cron_fields(c)))] = Field(
        "0 3 * * 1", description="5-field cron (Mondays 03:00); read in time_zone."
    )
    time_zone: Annotated[str, AfterValidator(check_time_zone)] = Field("Europe/Berlin", alias="timeZone")

    metric_threshold: float = Field(0.8, alias="metricThreshold")
    image: str = Field(f"{ECR}/churn-train:1.4.2", description="The training container image.")
    processing_image: str = Field(
        f"{ECR}/churn-process:1.4.2", alias="processingImage", description="The preprocess/evaluate image."
    )
    use_spot: bool = Field(True, alias="useSpot")


class MonitoringSpec(_Spec):
    """Drift monitoring of every endpoint against the training baseline."""

    baseline_statistics_s3_uri: str = Field("s3://churn-baselines/v7/statistics.json", alias="baselineStatisticsS3Uri")
    baseline_constraints_s3_uri: str = Field(
        "s3://churn-baselines/v7/constraints.json", alias="baselineConstraintsS3Uri"
    )
    drift_features: list[str] = Field(
        default_factory=lambda: ["tenure_months", "monthly_charges", "contract_type"], alias="driftFeatures"
    )
    drift_threshold: float = Field(0.2, gt=0, le=1, alias="driftThreshold")
    # The analyzer image in the region's ECR, for regions SageMaker publishes no image in (GovCloud).
    analyzer_image_uri: str | None = Field(None, alias="analyzerImageUri")


class ChurnPlatformSpec(_Spec):
    """Everything the churn platform stack reads from config."""

    monthly_budget_usd: float = Field(gt=0, alias="monthlyBudgetUsd")
    training: TrainingSpec = Field(default_factory=TrainingSpec)
    monitoring: MonitoringSpec = Field(default_factory=MonitoringSpec)
    endpoints: list[EndpointSpec] = Field(min_length=1, max_length=500)
    alert_emails: list[str] = Field(default_factory=list, alias="alertEmails")
    # Critical alerts page PagerDuty (its key is the secret config value the section names), warnings go to Slack.
    pagerduty: PagerDuty | None = None
    slack: Slack | None = None


def load_spec() -> ChurnPlatformSpec:
    """Read the stack config; a bad value stops the program naming the config key."""
    config = pulumi.Config()
    raw: dict[str, Any] = {}
    for key in ("monthlyBudgetUsd", "training", "monitoring", "endpoints", "alertEmails", "pagerduty", "slack"):
        value = config.get_object(key)
        if value is not None:
            raw[key] = value
    spec = ChurnPlatformSpec.model_validate(raw)
    # SageMaker publishes no Model Monitor image in GovCloud: there the config names a copy in the stack's ECR.
    check_analyzer_region(spec.monitoring.analyzer_image_uri, None, field="monitoring.analyzerImageUri")
    return spec
