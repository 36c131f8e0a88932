"""AlertRouting: the namespace's alerts e-mailed to the platform's recipients (AlertmanagerConfig)."""

import pydantic
import pytest
from k8s_checks import custom_problems, manifest

from mlops_infra.engine import ProgramError
from mlops_infra.k8s import AlertRouting, AlertRoutingArgs, Monitoring
from mlops_infra.testing import one, plan, required_tags_present

CONFIG = "kubernetes:monitoring.coreos.com/v1alpha1:AlertmanagerConfig"
ARGS = {
    "namespace": "churn-ns",
    "emails": ["ml-platform@example.com", "ml-oncall@example.com"],
    "selector_labels": {"release": "kube-prometheus-stack"},
}


@pytest.fixture(scope="module")
def stack():
    return plan(lambda: AlertRouting("alerts", ARGS), environment="prod")


def test_every_recipient_gets_every_alert_of_the_namespace(stack):
    config = one(stack, CONFIG)
    meta = config.inputs["metadata"]
    assert (meta["name"], meta["namespace"]) == ("churn-prod-alerts", "churn-ns")
    assert meta["labels"]["release"] == "kube-prometheus-stack"  # picked up by the Alertmanager's selector
    spec = config.inputs["spec"]
    assert spec["route"] == {
        "receiver": "email",
        "groupBy": ["alertname", "endpoint"],
        "groupWait": "30s",
        "groupInterval": "5m",
        "repeatInterval": "4h",
    }
    assert spec["receivers"] == [
        {
            "name": "email",
            "emailConfigs": [
                {"to": "ml-platform@example.com", "sendResolved": True},
                {"to": "ml-oncall@example.com", "sendResolved": True},
            ],
        }
    ]
    assert custom_problems(manifest(config)) == []
    assert required_tags_present(stack) == []


def test_alerts_carry_their_namespace_when_routed():
    # prometheus-operator routes only alerts whose namespace label is the config's namespace.
    args = {"namespace": "churn-ns", "endpoint_name": "churn-prod-churn", "alert_namespace_label": True}
    stack = plan(lambda: Monitoring("m", args), environment="prod")
    rules = one(stack, "kubernetes:monitoring.coreos.com/v1:PrometheusRule").inputs["spec"]["groups"][0]["rules"]
    assert {rule["labels"]["namespace"] for rule in rules} == {"churn-ns"}


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"emails": []}, "emails"),
        ({"emails": ["not-an-address"]}, "emails"),
        ({"emails": ["a@example.com", "a@example.com"]}, "emails"),
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
        (("spec", "receivers", 0, "emailConfigs", 0, "sendResolved"), "yes"),
        (("spec", "receivers", 0, "emailConfig"), []),
    ],
)
def test_the_schema_check_can_fail(stack, path, value):
    broken = manifest(one(stack, CONFIG))
    node = broken
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    assert custom_problems(broken) != []
