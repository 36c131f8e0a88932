"""The model a serving resource loads: its framework, artifact and serving image."""

from __future__ import annotations

import re
from enum import StrEnum

from pydantic import Field, field_validator

from mlops_infra.spec.base import Spec
from mlops_infra.spec.images import Images
from mlops_infra.spec.types import check_object_uri


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
