"""A container image for every cloud, with a per-cloud override (each cloud pulls from its own registry)."""

from __future__ import annotations

from pydantic import Field

from mlops_infra.spec.base import Spec
from mlops_infra.spec.cloud import Cloud
from mlops_infra.spec.types import PinnedImage


class Images(Spec):
    """``image`` everywhere, unless ``per_cloud`` names another image for a cloud."""

    image: PinnedImage | None = Field(None, description="Image used on every cloud without an override.")
    per_cloud: dict[Cloud, PinnedImage] = Field(
        default_factory=dict, description="Per-cloud override, e.g. {aws: <ECR image>, gcp: <Artifact Registry image>}."
    )

    def for_cloud(self, cloud: Cloud) -> str | None:
        """The image this cloud runs, or None when the spec names none for it."""
        return self.per_cloud.get(cloud, self.image)
