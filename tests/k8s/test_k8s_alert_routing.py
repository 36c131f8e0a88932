"""AlertRouting: the namespace's alerts routed by severity to PagerDuty, Slack and e-mail (AlertmanagerConfig)."""

import pulumi
import pydantic
import pytest
from k8s_checks import custom_problems, manifest, secret_leaks

from mlops_infra.engine import ProgramError
from mlops_infra.k8s import AlertRouting, AlertRoutingArgs, Monitoring
from mlops_infra.k8s.alert_routing import receiver_secrets
from mlops_infra.spec.alerts import AlertsSpec
from mlops_infra.testing import one, plan, required_tags_present

CONFIG = "kubernetes:monitoring.coreos.com/v1alpha1:AlertmanagerConfig"
SECRET = "kubernetes:core/v1:Secret"
EMAILS = ["ml-platform@example.com", "ml-oncall@example.com"]
ARGS = {"namespace": "churn-ns", "emails": EMAILS, "selector_labels": {"release": "kube-prometheus-stack"}}
ALERTS = {"emails": EMAILS, "pagerduty": {}, "slack": {"channel": "#ml-alerts"}}
SECRETS = {"pagerdutyIntegrationKey": "pd-routing-key-0123456789", "slackWebhookUrl": "https://hooks.example/T0/B0/x"}


def _routed() -> None:
    alerts = AlertsSpec.model_validate(ALERTS)
    AlertRouting("alerts", {**ARGS, **receiver_secrets(alerts)})


@pytest.fixture(scope="module")
def stack():
    return plan(_routed, environment="prod", config=SECRETS)


@pytest.fixture(scope="module")
def email_only():
    return plan(lambda: AlertRouting("alerts", ARGS), environment="prod")


def _by_severity(spec):
    routes = spec["route"]["routes"]
    found: dict[str, list[str]] = {}
    for route in routes:
        assert route["continue"] is True  # every receiver of a severity hears it, not only the first
        [matcher] = route["matchers"]
        assert (matcher["name"], matcher["matchType"]) == ("severity", "=")
        found.setdefault(matcher["value"], []).append(route["receiver"])
    return found


def test_critical_pages_warning_goes_to_slack_and_everyone_gets_email(stack):
    config = one(stack, CONFIG)
    meta = config.inputs["metadata"]
    assert (meta["name"], meta["namespace"]) == ("churn-prod-alerts", "churn-ns")
    assert meta["labels"]["release"] == "kube-prometheus-stack"  # picked up by the Alertmanager's selector
    spec = config.inputs["spec"]
    route = spec["route"]
    assert route["matchers"] == [{"name": "namespace", "value": "churn-ns", "matchType": "="}]
    assert (route["groupBy"], route["groupWait"], route["groupInterval"], route["repeatInterval"]) == (
        ["alertname", "endpoint"],
        "30s",
        "5m",
        "4h",
    )
    assert _by_severity(spec) == {"critical": ["pagerduty", "email"], "warning": ["slack", "email"]}
    assert route["receiver"] == "slack"  # an alert with another severity still reaches a person
    receivers = {r["name"]: r for r in spec["receivers"]}
    assert set(receivers) == {"pagerduty", "slack", "email"}
    assert receivers["email"]["emailConfigs"] == [{"to": email, "sendResolved": True} for email in EMAILS]
    assert custom_problems(manifest(config)) == []
    assert required_tags_present(stack) == []


def test_keys_are_referenced_from_a_secret_never_inlined(stack):
    config = one(stack, CONFIG)
    secret = one(stack, SECRET)
    assert secret.inputs["metadata"]["name"] == "churn-prod-alerts-receivers"
    assert secret.inputs["metadata"]["namespace"] == "churn-ns"
    assert secret.inputs["stringData"] == "[secret]"  # a Pulumi secret: encrypted in state, masked in plans
    receivers = {r["name"]: r for r in config.inputs["spec"]["receivers"]}
    assert receivers["pagerduty"]["pagerdutyConfigs"] == [
        {"routingKey": {"name": "churn-prod-alerts-receivers", "key": "pagerduty-routing-key"}, "sendResolved": True}
    ]
    assert receivers["slack"]["slackConfigs"] == [
        {
            "apiURL": {"name": "churn-prod-alerts-receivers", "key": "slack-webhook-url"},
            "channel": "#ml-alerts",
            "sendResolved": True,
        }
    ]
    assert secret.urn in config.dependencies  # the config is applied after the Secret it reads
    text = str(config.inputs)
    assert all(value not in text for value in SECRETS.values())
    assert secret_leaks(stack) == []


def test_email_only_routes_both_severities_to_email(email_only):
    spec = one(email_only, CONFIG).inputs["spec"]
    assert _by_severity(spec) == {"critical": ["email"], "warning": ["email"]}
    assert [r["name"] for r in spec["receivers"]] == ["email"]
    assert [r for r in email_only.resources if r.type == SECRET] == []  # no key, no Secret
    assert custom_problems(manifest(one(email_only, CONFIG))) == []


def test_slack_takes_critical_alerts_when_there_is_no_pagerduty():
    def program() -> None:
        alerts = AlertsSpec.model_validate({"slack": {"channel": "#ml-alerts"}})
        AlertRouting("alerts", {"namespace": "churn-ns", **receiver_secrets(alerts)})

    stack = plan(program, environment="prod", config=SECRETS)
    spec = one(stack, CONFIG).inputs["spec"]
    assert _by_severity(spec) == {"critical": ["slack"], "warning": ["slack"]}


def test_alerts_carry_their_namespace_when_routed():
    # The root route matches the namespace label: Monitoring writes it on every rule when asked.
    args = {"namespace": "churn-ns", "endpoint_name": "churn-prod-churn", "alert_namespace_label": True}
    stack = plan(lambda: Monitoring("m", args), environment="prod")
    rules = one(stack, "kubernetes:monitoring.coreos.com/v1:PrometheusRule").inputs["spec"]["groups"][0]["rules"]
    assert {rule["labels"]["namespace"] for rule in rules} == {"churn-ns"}
    assert {rule["labels"]["severity"] for rule in rules} <= {"critical", "warning"}


def test_a_missing_secret_config_key_is_named_before_anything_is_registered():
    def program() -> None:
        pulumi.ComponentResource("test:index:Marker", "before")  # nothing after the check may be registered
        alerts = AlertsSpec.model_validate(ALERTS)
        AlertRouting("alerts", {**ARGS, **receiver_secrets(alerts)})

    with pytest.raises(ProgramError, match="churn:slackWebhookUrl") as error:
        plan(program, environment="prod", config={"pagerdutyIntegrationKey": "x"})
    assert "pulumi config set --secret slackWebhookUrl" in str(error.value)
    assert not [urn for urn in error.value.registered if "AlertRouting" in urn or "kubernetes" in urn]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"emails": []}, "emails"),
        ({"emails": ["not-an-address"]}, "emails"),
        ({"emails": ["a@example.com", "a@example.com"]}, "emails"),
        ({"slack": {"channel": "ml-alerts", "webhook_url": "x"}}, "slack"),
        ({"pagerduty": {}}, "pagerduty"),
        ({"send_resolved": "yes"}, "send_resolved"),
        ({"group_wait": "half a minute"}, "group_wait"),
        ({"group_by": ["alert name"]}, "group_by"),
    ],
)
def test_invalid_settings_name_the_field_and_register_nothing(overrides, field):
    with pytest.raises(pydantic.ValidationError) as info:
        AlertRoutingArgs.model_validate({**ARGS, **overrides})
    assert info.value.errors()[0]["loc"][0] == field
    with pytest.raises(ProgramError, match=field) as error:
        plan(lambda: AlertRouting("alerts", {**ARGS, **overrides}))
    assert error.value.registered == []


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("spec", "route", "groupBy"), "alertname"),
        (("spec", "route", "routes", 0, "matchers", 0, "matchType"), "=="),
        (("spec", "route", "routes", 0, "matchers", 0, "name"), ""),
        (("spec", "route", "routes", 0, "continue"), "true"),
        (("spec", "receivers", 0, "pagerdutyConfigs", 0, "routingKey"), "inline-key"),
        (("spec", "receivers", 0, "pagerdutyConfigs", 0, "routingKey", "key"), None),
        (("spec", "receivers", 1, "slackConfigs", 0, "apiUrl"), {"name": "s", "key": "k"}),
        (("spec", "receivers", 2, "emailConfigs", 0, "sendResolved"), "yes"),
        (("spec", "receivers", 2, "emailConfig"), []),
    ],
)
def test_the_schema_check_can_fail(stack, path, value):
    broken = manifest(one(stack, CONFIG))
    node = broken
    for part in path[:-1]:
        node = node[part]
    if value is None:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    assert custom_problems(broken) != []
