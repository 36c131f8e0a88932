"""A PrometheusRule of one namespace, built one way for every alerting component (quota, spend budget)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from mlops_infra.component import PlatformComponent
from mlops_infra.k8s import labels as lbl
from mlops_infra.k8s import objects
from mlops_infra.k8s.monitoring import MONITORING_API
from mlops_infra.spec.base import StrInput


def namespace_rule(
    component: PlatformComponent[Any],
    *,
    rule_name: str,
    app: str,
    namespace: StrInput,
    selector_labels: dict[str, str],
    group: str,
    interval: str,
    rules: Callable[[str], list[dict[str, Any]]],
) -> k8s.apiextensions.CustomResource:
    """The child ``{component}-rules``: one rule group whose rules are ``rules(namespace)``.

    ``selector_labels`` are the labels the cluster's Prometheus selects rules by; ``interval`` is
    the group's evaluation interval (``1m``, ``5m``).
    """
    labels = {
        **lbl.standard_labels(app, rule_name, "monitoring", component.platform.settings.project),
        **selector_labels,
    }
    resolved: pulumi.Output[str] = pulumi.Output.from_input(namespace).apply(str)
    return k8s.apiextensions.CustomResource(
        component.child_name("rules"),
        api_version=MONITORING_API,
        kind="PrometheusRule",
        metadata=objects.metadata(rule_name, namespace, labels),
        spec={"groups": [{"name": group, "interval": interval, "rules": resolved.apply(rules)}]},
        opts=component.child_opts(),
    )
