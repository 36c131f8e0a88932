"""Environment defaults: decided once, applied only where the spec leaves a section unset."""

import pytest

from mlops_infra.spec import ApprovalMode, EndpointSpec, MonitoringSpec, RegistrySpec, RolloutStrategy
from mlops_infra.spec.environment import (
    effective_approval,
    effective_data_capture,
    effective_rollout,
    effective_scaling,
    environment_defaults,
    monitoring_enabled,
)

ENDPOINT = {"name": "scoring", "model": {"artifact": "churn/v1/model.tar.gz"}}


@pytest.mark.parametrize("environment", ["staging", "prod"])
def test_protected_environments_get_the_safe_defaults(environment):
    defaults = environment_defaults(environment, protected=True)
    endpoint = EndpointSpec.model_validate(ENDPOINT)
    assert effective_rollout(endpoint, defaults).strategy is RolloutStrategy.CANARY
    assert effective_rollout(endpoint, defaults).rollback_on_alarms is True
    assert effective_data_capture(endpoint, defaults).sampling_percent == 20
    assert effective_approval(RegistrySpec(model_name="churn"), defaults).mode is ApprovalMode.MANUAL
    assert monitoring_enabled(MonitoringSpec(), defaults) is True
    scaling = effective_scaling(endpoint, defaults, can_scale_to_zero=True)
    assert scaling.min_replicas == 2, "protected endpoints never scale to zero by default"


def test_dev_is_cheap_and_fast():
    defaults = environment_defaults("dev", protected=False)
    endpoint = EndpointSpec.model_validate(ENDPOINT)
    assert effective_rollout(endpoint, defaults).strategy is RolloutStrategy.ALL_AT_ONCE
    assert effective_data_capture(endpoint, defaults) is None
    assert effective_approval(RegistrySpec(model_name="churn"), defaults).mode is ApprovalMode.AUTOMATIC
    assert monitoring_enabled(MonitoringSpec(), defaults) is False
    assert effective_scaling(endpoint, defaults, can_scale_to_zero=True).min_replicas == 0
    assert effective_scaling(endpoint, defaults, can_scale_to_zero=False).min_replicas == 1


def test_what_the_spec_sets_wins_over_the_environment():
    defaults = environment_defaults("prod", protected=True)
    endpoint = EndpointSpec.model_validate(
        {
            **ENDPOINT,
            "rollout": {"strategy": "linear", "step_percent": 20},
            "data_capture": {"sampling_percent": 100},
            "scaling": {"min_replicas": 3, "max_replicas": 9},
        }
    )
    assert effective_rollout(endpoint, defaults).strategy is RolloutStrategy.LINEAR
    assert effective_data_capture(endpoint, defaults).sampling_percent == 100
    assert effective_scaling(endpoint, defaults, can_scale_to_zero=False).max_replicas == 9
    registry = RegistrySpec(model_name="churn", approval={"mode": "automatic"})
    assert effective_approval(registry, defaults).mode is ApprovalMode.AUTOMATIC
    assert monitoring_enabled(MonitoringSpec(enabled=False), defaults) is False
