"""The clouds a platform can be realized on."""

from __future__ import annotations

from enum import StrEnum


class Cloud(StrEnum):
    """A target cloud: AWS SageMaker, GCP Vertex AI or Kubernetes."""

    AWS = "aws"
    GCP = "gcp"
    K8S = "k8s"
