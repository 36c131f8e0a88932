"""A real-time inference endpoint, in the vocabulary every cloud shares."""

from __future__ import annotations

from pydantic import Field, field_validator, model_validator

from mlops_infra.spec.alerts import Alerts
from mlops_infra.spec.base import Spec, Switch
from mlops_infra.spec.capture import DataCapture
from mlops_infra.spec.challenger import Challenger
from mlops_infra.spec.compute import Compute
from mlops_infra.spec.invocation import Invocation
from mlops_infra.spec.model import ModelFormat, ModelSpec, check_artifact
from mlops_infra.spec.rollout import Rollout
from mlops_infra.spec.scaling import Scaling
from mlops_infra.spec.types import Name

__all__ = ["EndpointSpec", "ModelFormat", "ModelSpec", "check_artifact"]


class EndpointSpec(Spec):
    """One endpoint. Unset sections (scaling, rollout, data_capture) take the environment's defaults."""

    name: Name
    model: ModelSpec
    compute: Compute = Field(default_factory=Compute)
    scaling: Scaling | None = Field(None, description="Replica bounds; None: the environment's default.")
    rollout: Rollout | None = Field(None, description="Rollout and rollback; None: the environment's default.")
    data_capture: DataCapture | None = Field(None, description="Request capture; None: the environment's default.")
    alerts: Alerts = Field(default_factory=Alerts)
    allow_public_access: Switch = Field(False, description="Explicit opt-in to an endpoint reachable from outside.")
    invocation: Invocation = Field(default_factory=Invocation, description="Real-time (default) or asynchronous.")
    challenger: Challenger | None = Field(None, description="A second model on an A/B split or a shadow copy.")
    multi_model: Switch = Field(
        False,
        description="model.artifact is a prefix of many model archives, each loaded on its first request.",
    )

    @field_validator("compute")
    @classmethod
    def _endpoint_type(cls, compute: Compute) -> Compute:
        return compute.offered_for("endpoint")

    @model_validator(mode="after")
    def _serving_modes(self) -> EndpointSpec:
        if self.multi_model and not self.model.artifact.endswith("/"):
            raise ValueError("multi_model: model.artifact must be a prefix ending in '/' that holds the model archives")
        if self.multi_model and self.challenger is not None:
            raise ValueError("multi_model and challenger do not combine: a challenger needs one model per variant")
        if self.invocation.is_async and self.challenger is not None:
            raise ValueError("invocation kind async and a challenger do not combine (no split or mirror of a queue)")
        return self
