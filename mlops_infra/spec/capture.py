"""Recording of inference requests and responses, the input of drift monitoring."""

from __future__ import annotations

from pydantic import Field, model_validator

from mlops_infra.spec.base import Spec, Switch
from mlops_infra.spec.types import ObjectUri, Percent


class DataCapture(Spec):
    """What share of requests is recorded, and where (None: the platform's encrypted capture store)."""

    sampling_percent: Percent = Field(100, description="Share of requests recorded, percent (0-100).")
    destination_uri: ObjectUri | None = Field(None, description="Where captures land; default a platform bucket.")
    capture_request: Switch = Field(True, description="Record request payloads.")
    capture_response: Switch = Field(True, description="Record response payloads.")

    @model_validator(mode="after")
    def _records_something(self) -> DataCapture:
        if not (self.capture_request or self.capture_response):
            raise ValueError("capture_request and capture_response are both false: nothing would be recorded")
        return self
