"""The Vertex AI model version holding the approved alias (google-cloud-aiplatform ModelServiceClient)."""

from __future__ import annotations

from typing import Any

from mlops_infra.registry.version import ApprovedVersion, Missing, Resolution


def aliased_version(model_service: Any, model_name: str, alias: str) -> Resolution:
    """The version of ``model_name`` (``projects/P/locations/R/models/M``) that carries ``alias``.

    The reference is ``model_name@VERSION_ID``: it changes when the alias moves, which is what makes
    the endpoint's ``VertexModelDeployment`` roll out the newly approved version.
    """
    from google.api_core import exceptions  # noqa: PLC0415 - google.cloud imports are slow; only when used

    try:
        model = model_service.get_model(name=f"{model_name}@{alias}")
    except exceptions.NotFound:
        try:
            model_service.get_model(name=model_name)
        except exceptions.NotFound:
            return Missing.REGISTRY
        return Missing.APPROVAL
    version = str(model.version_id)
    return ApprovedVersion(reference=f"{model_name}@{version}", version=version, source=f"Vertex alias {alias!r}")
