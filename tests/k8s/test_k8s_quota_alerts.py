"""QuotaAlerts: ResourceQuota use alerts at percentages of each hard limit (not a dollar budget)."""

import pydantic
import pytest
from k8s_checks import custom_problems, manifest

from mlops_infra.k8s import QuotaAlerts, QuotaAlertsArgs
from mlops_infra.testing import one, plan

RULE = "kubernetes:monitoring.coreos.com/v1:PrometheusRule"


def test_one_rule_per_threshold_in_percent_of_the_hard_limit():
    args = {"namespace": "churn-ns", "alert_at_percent": [100, 80], "selector_labels": {"release": "kps"}}
    stack = plan(lambda: QuotaAlerts("quota-alerts", args), environment="prod")
    rule = one(stack, RULE)
    assert rule.inputs["metadata"]["labels"]["release"] == "kps"
    rules = rule.inputs["spec"]["groups"][0]["rules"]
    assert [r["labels"]["threshold_percent"] for r in rules] == ["80", "100"]  # sorted
    assert [r["labels"]["severity"] for r in rules] == ["warning", "critical"]
    assert rules[0]["expr"] == (
        'kube_resourcequota{namespace="churn-ns", type="used"} / ignoring(type) '
        '(kube_resourcequota{namespace="churn-ns", type="hard"} > 0) * 100 > 80'
    )
    assert all(r["labels"]["namespace"] == "churn-ns" for r in rules)  # routable by AlertRouting
    assert "not a spend budget" in rules[0]["annotations"]["summary"]
    assert custom_problems(manifest(rule)) == []


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"alert_at_percent": []}, "alert_at_percent"),
        ({"alert_at_percent": [0]}, "alert_at_percent"),
        ({"alert_at_percent": [80, 80]}, "alert_at_percent"),
        ({"alert_at_percent": [150]}, "alert_at_percent"),
        ({"alert_for": "a while"}, "alert_for"),
    ],
)
def test_invalid_thresholds_name_the_field(overrides, field):
    args = {"namespace": "ns", **overrides}
    with pytest.raises(pydantic.ValidationError) as info:
        QuotaAlertsArgs.model_validate(args)
    assert info.value.errors()[0]["loc"][0] == field
