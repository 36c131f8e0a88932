"""Example: a monthly Cloud Billing budget on the project, alerting at 80% spent and 100% forecast."""

import pulumi

from mlops_infra.conventions import init_platform
from mlops_infra.gcp import Budget

init_platform(environment="dev", owner="ml-platform", costCenter="cc-1234")

budget = Budget(
    "platform",
    {
        "billing_account": "01A2B3-C4D5E6-F7A8B9",
        "monthly_limit": 500,
        "thresholds": [
            {"threshold_percent": 50},
            {"threshold_percent": 80},
            {"threshold_percent": 100, "basis": "FORECASTED_SPEND"},
        ],
    },
)

pulumi.export("budget", budget.budget.display_name)
