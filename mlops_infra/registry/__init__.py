"""Which registry version an endpoint serves when its approval says ``serve: latest_approved``.

One concept per module:

- :mod:`.version`: :class:`ApprovedVersion`, what a resolver returns;
- :mod:`.sagemaker`: the newest Approved package of a SageMaker model package group (boto3);
- :mod:`.vertex`: the Vertex model version holding the approved alias (google-cloud-aiplatform);
- :mod:`.mlflow`: the MLflow model version holding the approved alias, as a storage URI (REST);
- :mod:`.offline`: the deterministic answers of the offline engine (stack config ``offlineApprovedVersions``);
- :mod:`.serving`: the choice between them, the missing-version rule per environment, and one
  entry point per cloud for the realizations.
- :mod:`.deploy_request`: the one request a deploy webhook receives on every cloud when a version is approved;
- :mod:`.deploy_token`: the webhook token's config key, checked (set, secret) before anything registers.

See docs/approval-to-rollout.md.
"""

from mlops_infra.registry.serving import (
    follows_latest_approved,
    latest_mlflow_storage_uri,
    latest_sagemaker_package,
    latest_vertex_version,
    serve_latest_mlflow,
)
from mlops_infra.registry.version import ApprovedVersion, NoApprovedVersionError

__all__ = [
    "ApprovedVersion",
    "NoApprovedVersionError",
    "follows_latest_approved",
    "latest_mlflow_storage_uri",
    "latest_sagemaker_package",
    "latest_vertex_version",
    "serve_latest_mlflow",
]
