"""Budget: a monthly Cloud Billing budget on the project with threshold alerts."""

import pydantic
import pytest

from mlops_infra.gcp import Budget, BudgetArgs
from mlops_infra.testing import one

ACCOUNT = "01A2B3-C4D5E6-F7A8B9"


def test_budget_scopes_the_project_and_alerts(gcp_plan):
    stack = gcp_plan(
        lambda: Budget(
            "platform",
            {
                "billing_account": ACCOUNT,
                "monthly_limit": 750,
                "notification_channels": ["projects/acme-ml/notificationChannels/7"],
                "label_filter": {"environment": "prod"},
            },
        )
    )
    budget = one(stack, "gcp:billing/budget:Budget").inputs
    assert budget["billingAccount"] == ACCOUNT
    assert budget["displayName"] == "churn-dev-platform"
    assert budget["amount"] == {"specifiedAmount": {"currencyCode": "USD", "units": "750"}}
    assert budget["budgetFilter"] == {
        "projects": ["projects/123456789012"],
        "calendarPeriod": "MONTH",
        "labels": {"environment": "prod"},
    }
    assert budget["thresholdRules"] == [
        {"thresholdPercent": p, "spendBasis": basis}
        for p in (0.8, 0.9, 1.0)
        for basis in ("CURRENT_SPEND", "FORECASTED_SPEND")
    ]
    assert budget["allUpdatesRule"] == {
        "monitoringNotificationChannels": ["projects/acme-ml/notificationChannels/7"],
        "disableDefaultIamRecipients": False,
    }


@pytest.mark.parametrize(
    ("change", "location"),
    [
        ({"billing_account": "not-an-account"}, ("billing_account",)),
        ({"monthly_limit": 0}, ("monthly_limit",)),
        ({"thresholds": []}, ("thresholds",)),
        ({"label_filter": {"a": "1", "b": "2"}}, ("label_filter",)),
        ({"currency": "dollars"}, ("currency",)),
    ],
)
def test_invalid_settings_name_the_field(change, location):
    with pytest.raises(pydantic.ValidationError) as info:
        BudgetArgs.model_validate({"billing_account": ACCOUNT, "monthly_limit": 100, **change})
    assert info.value.errors()[0]["loc"] == location
