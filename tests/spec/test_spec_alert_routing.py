"""The alerts section routes by severity: critical to PagerDuty, warning to Slack, e-mail for both."""

from __future__ import annotations

import pydantic
import pytest

from mlops_infra.spec.alerts import AlertsSpec


def test_critical_pages_and_warnings_go_to_slack_and_email_gets_both() -> None:
    alerts = AlertsSpec.model_validate(
        {"emails": ["ops@example.com"], "pagerduty": {}, "slack": {"channel": "#ml-alerts"}}
    )
    assert alerts.receivers("critical") == ("pagerduty", "email")
    assert alerts.receivers("warning") == ("slack", "email")
    assert alerts.pagerduty is not None and alerts.pagerduty.integration_key_secret == "pagerdutyIntegrationKey"


def test_without_pagerduty_critical_alerts_reach_slack() -> None:
    alerts = AlertsSpec.model_validate({"slack": {"channel": "#ml-alerts"}})
    assert alerts.receivers("critical") == ("slack",) and alerts.has_receiver


def test_no_receiver_is_visible() -> None:
    assert not AlertsSpec().has_receiver and AlertsSpec().receivers("critical") == ()


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"slack": {"channel": "ml-alerts"}}, "slack.channel"),
        ({"slack": {"channel": "#ml", "workspace_id": "t01"}}, "slack.workspace_id"),
        ({"pagerduty": {"integration_key_secret": "not a key"}}, "pagerduty.integration_key_secret"),
        ({"pagerduty": {"integration_key": "abc"}}, "pagerduty.integration_key"),  # secrets are never inline
    ],
)
def test_bad_routes_name_the_field(data: dict[str, object], field: str) -> None:
    with pytest.raises(pydantic.ValidationError) as error:
        AlertsSpec.model_validate(data)
    assert [".".join(str(p) for p in e["loc"]) for e in error.value.errors()] == [field]


def test_drift_thresholds_can_differ_per_watched_feature() -> None:
    from mlops_infra.spec.monitoring import DriftSpec

    drift = DriftSpec.model_validate({"features": ["a", "b"], "threshold": 0.2, "feature_thresholds": {"b": 0.35}})
    assert (drift.threshold_for("a"), drift.threshold_for("b")) == (0.2, 0.35)
    with pytest.raises(pydantic.ValidationError, match="not in features"):
        DriftSpec.model_validate({"features": ["a"], "feature_thresholds": {"z": 0.3}})
    with pytest.raises(pydantic.ValidationError, match=r"must be in \(0, 1\]"):
        DriftSpec.model_validate({"features": ["a"], "feature_thresholds": {"a": 1.5}})
