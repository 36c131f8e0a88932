"""A monthly Cloud Billing budget for the stack's project, with alerts before the money is spent."""

from __future__ import annotations

from typing import Any, Literal

import pulumi
import pulumi_gcp as gcp
from pydantic import Field, field_validator

from mlops_infra.component import PlatformComponent
from mlops_infra.conventions.naming import NameRule
from mlops_infra.gcp.project import project_number
from mlops_infra.spec.base import Spec, StrInput

# Budget display names: at most 60 characters.
BUDGET_DISPLAY_NAME = NameRule(60, r"A-Za-z0-9_-")


class BudgetThreshold(Spec):
    """Notify when spend crosses ``threshold_percent`` of the limit (current or forecasted)."""

    threshold_percent: float = Field(gt=0, le=1000, description="Percent of the monthly limit, e.g. 80.")
    basis: Literal["CURRENT_SPEND", "FORECASTED_SPEND"] = "CURRENT_SPEND"


class BudgetArgs(Spec):
    """Settings of the stack's budget."""

    billing_account: str = Field(
        pattern=r"^[0-9A-F]{6}-[0-9A-F]{6}-[0-9A-F]{6}$", description="Billing account id (XXXXXX-XXXXXX-XXXXXX)."
    )
    monthly_limit: float = Field(gt=0, le=100_000_000, description="Monthly limit in the billing currency, e.g. 1500.")
    currency: str = Field("USD", pattern=r"^[A-Z]{3}$", description="Must be the billing account's currency.")
    thresholds: list[BudgetThreshold] = Field(
        default_factory=lambda: [
            BudgetThreshold(threshold_percent=percent, basis=basis)
            for percent in (80, 90, 100)
            for basis in ("CURRENT_SPEND", "FORECASTED_SPEND")
        ],
        description="Default: current and forecasted spend at 80, 90 and 100 %.",
        min_length=1,
    )
    notification_channels: list[StrInput] = Field(
        default_factory=list,
        max_length=5,
        description="Cloud Monitoring e-mail channels (at most 5; budgets notify no other channel type).",
    )
    pubsub_topic: StrInput | None = Field(
        None, description="projects/P/topics/T every budget update is published to (BudgetAlerts.topic_id)."
    )
    label_filter: dict[str, str] | None = Field(
        None, description="Count only resources with this one label (for example environment=prod)."
    )

    @field_validator("label_filter")
    @classmethod
    def _one_label(cls, labels: dict[str, str] | None) -> dict[str, str] | None:
        if labels is not None and len(labels) != 1:
            raise ValueError("Cloud Billing budgets filter on exactly one label")
        return labels


def _nanos(amount: float) -> int | None:
    """The fractional part of ``amount`` in billionths of a unit (None for a whole amount)."""
    nanos = round((amount - int(amount)) * 1_000_000_000)
    return nanos or None


class Budget(PlatformComponent[BudgetArgs]):
    """A ``gcp.billing.Budget`` on this project; billing-account admins are notified, plus any channels."""

    TYPE_TOKEN = "mlops-infra:gcp:Budget"
    ARGS = BudgetArgs

    def __init__(
        self, name: str, args: BudgetArgs | dict[str, Any], opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(name, args, opts)
        a = self.args
        number = project_number(pulumi.InvokeOutputOptions(parent=self))
        self.budget = gcp.billing.Budget(
            self.child_name("budget"),
            billing_account=a.billing_account,
            display_name=self.platform.name(name, BUDGET_DISPLAY_NAME),
            amount=gcp.billing.BudgetAmountArgs(
                specified_amount=gcp.billing.BudgetAmountSpecifiedAmountArgs(
                    currency_code=a.currency, units=str(int(a.monthly_limit)), nanos=_nanos(a.monthly_limit)
                )
            ),
            budget_filter=gcp.billing.BudgetBudgetFilterArgs(
                projects=[number.apply(lambda n: f"projects/{n}")],
                calendar_period="MONTH",
                labels=a.label_filter,
            ),
            threshold_rules=[
                gcp.billing.BudgetThresholdRuleArgs(threshold_percent=t.threshold_percent / 100, spend_basis=t.basis)
                for t in a.thresholds
            ],
            all_updates_rule=gcp.billing.BudgetAllUpdatesRuleArgs(
                monitoring_notification_channels=a.notification_channels or None,
                pubsub_topic=a.pubsub_topic,
                disable_default_iam_recipients=False,
            ),
            opts=self.child_opts(),
        )
        self.register_outputs({"budget": self.budget.name})
