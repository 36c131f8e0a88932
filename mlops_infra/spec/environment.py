"""What each environment turns on by default: decided here, once, for every cloud.

A spec section left unset (``rollout``, ``data_capture``, ``scaling``, ``approval``, monitoring)
takes the value below. Protected environments (staging and prod unless configured otherwise)
get manual approval, a canary rollout with alarm rollback, data capture and drift monitoring;
dev gets cheap and fast: automatic approval, all-at-once rollout, no capture, scale to zero
where the cloud can.
"""

from __future__ import annotations

from dataclasses import dataclass

from mlops_infra.spec.approval import Approval, ApprovalMode
from mlops_infra.spec.audit import AuditSpec
from mlops_infra.spec.capture import DataCapture
from mlops_infra.spec.endpoint import EndpointSpec
from mlops_infra.spec.monitoring import MonitoringSpec
from mlops_infra.spec.registry import RegistrySpec
from mlops_infra.spec.rollout import Rollout, RolloutStrategy
from mlops_infra.spec.scaling import Scaling


@dataclass(frozen=True)
class EnvironmentDefaults:
    """The defaults of one environment."""

    environment: str
    protected: bool
    approval: Approval
    rollout: Rollout
    data_capture: DataCapture | None
    monitoring: bool
    scale_to_zero: bool


def environment_defaults(environment: str, protected: bool) -> EnvironmentDefaults:
    """The defaults for ``environment``; ``protected`` comes from the platform settings."""
    if protected:
        return EnvironmentDefaults(
            environment=environment,
            protected=True,
            approval=Approval(mode=ApprovalMode.MANUAL),
            rollout=Rollout(strategy=RolloutStrategy.CANARY),
            data_capture=DataCapture(sampling_percent=20),
            monitoring=True,
            scale_to_zero=False,
        )
    return EnvironmentDefaults(
        environment=environment,
        protected=False,
        approval=Approval(mode=ApprovalMode.AUTOMATIC),
        rollout=Rollout(strategy=RolloutStrategy.ALL_AT_ONCE, bake_seconds=0),
        data_capture=None,
        monitoring=False,
        scale_to_zero=True,
    )


def effective_rollout(endpoint: EndpointSpec, defaults: EnvironmentDefaults) -> Rollout:
    """The endpoint's rollout, or the environment's."""
    return endpoint.rollout if endpoint.rollout is not None else defaults.rollout


def effective_data_capture(endpoint: EndpointSpec, defaults: EnvironmentDefaults) -> DataCapture | None:
    """The endpoint's capture settings, or the environment's (None: no capture)."""
    return endpoint.data_capture if endpoint.data_capture is not None else defaults.data_capture


def effective_scaling(endpoint: EndpointSpec, defaults: EnvironmentDefaults, *, can_scale_to_zero: bool) -> Scaling:
    """The endpoint's scaling, or the environment's: dev scales to zero on clouds that can."""
    if endpoint.scaling is not None:
        return endpoint.scaling
    floor = 0 if defaults.scale_to_zero and can_scale_to_zero else (2 if defaults.protected else 1)
    return Scaling(min_replicas=floor, max_replicas=max(floor, 4 if defaults.protected else 2))


def effective_approval(registry: RegistrySpec, defaults: EnvironmentDefaults) -> Approval:
    """The registry's approval gate, or the environment's."""
    return registry.approval if registry.approval is not None else defaults.approval


def monitoring_enabled(monitoring: MonitoringSpec, defaults: EnvironmentDefaults) -> bool:
    """Whether drift monitoring runs: the spec's explicit choice, else on in protected environments."""
    return monitoring.enabled if monitoring.enabled is not None else defaults.monitoring


def audit_enabled(audit: AuditSpec, defaults: EnvironmentDefaults) -> bool:
    """Whether the cloud's audit logs are turned on: the spec's explicit choice, else on in protected environments."""
    return audit.enabled if audit.enabled is not None else defaults.protected
