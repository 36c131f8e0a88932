"""A second model next to the endpoint's own: an A/B test on live traffic, or a shadow on a copy of it."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field, model_validator

from mlops_infra.spec.base import Spec
from mlops_infra.spec.compute import Compute
from mlops_infra.spec.model import ModelSpec
from mlops_infra.spec.types import PositivePercent


class ChallengerMode(StrEnum):
    """How the challenger sees traffic."""

    AB = "ab"
    """``percent`` of live requests are answered by the challenger (weighted split, stable)."""
    SHADOW = "shadow"
    """``percent`` of requests are copied to the challenger; its answers are logged, never returned."""


class Challenger(Spec):
    """A challenger model served beside the champion until a person ends the experiment.

    Unlike a rollout (which replaces the champion), the split stays until the spec changes.
    """

    model: ModelSpec
    mode: ChallengerMode = ChallengerMode.AB
    percent: PositivePercent = Field(
        10, description="A/B: share of live traffic served by the challenger; shadow: share mirrored, percent."
    )
    compute: Compute | None = Field(None, description="The challenger's compute; None: the endpoint's.")

    @model_validator(mode="after")
    def _split(self) -> Challenger:
        if self.mode is ChallengerMode.AB and self.percent >= 100:
            raise ValueError("an A/B challenger's percent must be below 100 (100 replaces the champion: a rollout)")
        return self
