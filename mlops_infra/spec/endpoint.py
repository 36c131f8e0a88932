"""A real-time inference endpoint, in the vocabulary every cloud shares."""

from __future__ import annotations

import re
from enum import StrEnum

from pydantic import Field, field_validator

from mlops_infra.spec.alerts import Alerts
from mlops_infra.spec.base import Spec, Switch
from mlops_infra.spec.capture import DataCapture
from mlops_infra.spec.compute import Compute
from mlops_infra.spec.images import Images
from mlops_infra.spec.rollout import Rollout
from mlops_infra.spec.scaling import Scaling
from mlops_infra.spec.types import Name, check_object_uri


class ModelFormat(StrEnum):
    """The model's framework; KServe picks a serving runtime by it."""

    SKLEARN = "sklearn"
    XGBOOST = "xgboost"
    LIGHTGBM = "lightgbm"
    PYTORCH = "pytorch"
    TENSORFLOW = "tensorflow"
    ONNX = "onnx"
    HUGGINGFACE = "huggingface"
    CUSTOM = "custom"


_RELATIVE_PATH = re.compile(r"^[A-Za-z0-9_.-]+(?:/[A-Za-z0-9_.=-]+)*/?$")


def check_artifact(value: str) -> str:
    """An absolute object URI, or a path relative to each cloud's model store (``churn/v7/model.tar.gz``)."""
    if "://" in value:
        return check_object_uri(value)
    if not _RELATIVE_PATH.fullmatch(value) or ".." in value.split("/"):
        raise ValueError(
            f"{value!r} is neither an object URI (s3://, gs://, ...) nor a relative path like churn/v7/model.tar.gz"
        )
    return value


class ModelSpec(Spec):
    """The model an endpoint serves before the registry's approval flow promotes newer versions."""

    format: ModelFormat = ModelFormat.XGBOOST
    format_version: str | None = Field(None, pattern=r"^[0-9][0-9a-z.]*$", description="Framework version, e.g. 1.7.")
    artifact: str = Field(
        description="Model artifact: a path relative to each cloud's model store, or an absolute URI."
    )
    serving: Images = Field(default_factory=Images, description="Serving container (required on AWS and GCP).")

    @field_validator("artifact")
    @classmethod
    def _artifact(cls, value: str) -> str:
        return check_artifact(value)


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

    @field_validator("compute")
    @classmethod
    def _endpoint_type(cls, compute: Compute) -> Compute:
        return compute.offered_for("endpoint")
