"""How clients call an endpoint: synchronously (real-time) or through a queue (asynchronous)."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field, model_validator

from mlops_infra.spec.base import Spec
from mlops_infra.spec.types import RetentionDays


class InvocationKind(StrEnum):
    """Real-time answers the request; async queues it and writes the result to object storage."""

    REALTIME = "realtime"
    ASYNC = "async"


class Invocation(Spec):
    """Asynchronous inference: large payloads and long requests, a backlog to scale on, scale to zero.

    Results go under the platform's KMS-encrypted model store and are deleted after
    ``result_retention_days``; success and error notifications reach the platform's alert routes.
    """

    kind: InvocationKind = InvocationKind.REALTIME
    max_concurrent_per_replica: int = Field(
        4, ge=1, le=1000, description="Requests one replica works on at once (async only)."
    )
    backlog_per_replica: float = Field(
        5, gt=0, le=100_000, description="Queued requests per replica autoscaling keeps (async only)."
    )
    result_retention_days: RetentionDays = Field(30, description="Days results are kept (async only).")

    @model_validator(mode="after")
    def _async_fields(self) -> Invocation:
        if self.kind is InvocationKind.REALTIME:
            changed = sorted(self.model_fields_set - {"kind"})
            if changed:
                raise ValueError(f"{changed} apply to kind: async only")
        return self

    @property
    def is_async(self) -> bool:
        """True when requests are queued and answered through object storage."""
        return self.kind is InvocationKind.ASYNC
