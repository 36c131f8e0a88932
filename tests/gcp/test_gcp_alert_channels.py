"""AlertChannels: the platform's alert receivers as Monitoring channels, refused before registering when unusable."""

import pytest

from mlops_infra.engine import ProgramError
from mlops_infra.gcp.notification_channels import AlertChannels
from mlops_infra.testing import plan

ROUTED = {
    "emails": ["ml@example.com"],
    "pagerduty": {"integration_key_secret": "pdKey"},
    "slack": {"channel": "#ml-alerts", "auth_token_secret": "slackToken"},
}


def channels(alerts, *, required=False, config=None, environment="dev"):
    made = {}

    def program():
        made["c"] = AlertChannels("alerts", {"alerts": alerts, "required": required})

    return plan(program, environment=environment, config=config or {}), made


def test_severity_routing_of_the_component():
    stack, made = channels(ROUTED, config={"pdKey": "k", "slackToken": "t"})
    by_name = {c.name: c.inputs for c in stack.by_type("gcp:monitoring/notificationChannel:NotificationChannel")}
    assert {n: i["type"] for n, i in by_name.items()} == {
        "alerts-channel-pagerduty": "pagerduty",
        "alerts-channel-slack": "slack",
        "alerts-channel-ml-example-com": "email",
    }
    component = made["c"]
    critical = [c._name for c in component.channels.channels("critical")]
    warning = [c._name for c in component.channels.channels("warning")]
    assert critical == ["alerts-channel-pagerduty", "alerts-channel-ml-example-com"]
    assert warning == ["alerts-channel-slack", "alerts-channel-ml-example-com"]
    (parent,) = stack.by_type("mlops-infra:gcp:AlertChannels")
    assert all(c.parent == parent.urn for c in stack.by_type("gcp:monitoring/notificationChannel:NotificationChannel"))


@pytest.mark.parametrize(("config", "missing"), [({"slackToken": "t"}, "pdKey"), ({"pdKey": "k"}, "slackToken")])
def test_a_missing_secret_is_named_before_anything_is_registered(config, missing):
    with pytest.raises(ProgramError) as error:
        channels(ROUTED, config=config)
    assert f"churn:{missing}: secret is not set: pulumi config set --secret {missing}" in str(error.value)
    assert error.value.registered == []


def test_required_receivers_name_the_alerts_field():
    with pytest.raises(
        ProgramError, match=r"AlertChannelsArgs settings: alerts: a protected .* must reach a person"
    ) as error:
        channels({}, required=True, environment="prod")
    assert error.value.registered == []
    stack, _ = channels({})  # optional: no channel, nothing refused
    assert stack.by_type("gcp:monitoring/notificationChannel:NotificationChannel") == []


def test_secrets_are_never_inline():
    with pytest.raises(ProgramError, match=r"pagerduty\.integration_key_secret"):
        channels({"pagerduty": {"integration_key_secret": "https://events.pagerduty.com/x"}})
