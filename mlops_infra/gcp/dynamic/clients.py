"""google-cloud-aiplatform clients for the dynamic providers, built from an API endpoint.

Clients always use the REST transport. A plain-HTTP endpoint is accepted only on loopback (a
local fake server in tests) and then gets anonymous credentials, so real tokens never travel
in clear text; every other endpoint uses Application Default Credentials.
The heavy ``google.cloud`` imports happen here, lazily, when a provider method runs.
"""

# ruff: noqa: PLC0415 - google.cloud imports take seconds; they run only when a provider method does.

from __future__ import annotations

import os
from typing import Any
from urllib.parse import urlparse

CLOUD_PLATFORM_SCOPE = "https://www.googleapis.com/auth/cloud-platform"
ANONYMOUS_ENV = "MLOPS_INFRA_GCP_ANONYMOUS_CREDENTIALS"
_LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def check_api_endpoint(api_endpoint: str) -> str:
    """``host[:port]`` or ``https://host[:port]``; ``http://`` only for a loopback emulator."""
    if not api_endpoint or any(c.isspace() for c in api_endpoint):
        raise ValueError(
            f"api_endpoint {api_endpoint!r} must be a host name like us-central1-aiplatform.googleapis.com"
        )
    if api_endpoint.startswith("http://"):
        host = urlparse(api_endpoint).hostname or ""
        if host not in _LOOPBACK:
            raise ValueError(
                f"api_endpoint {api_endpoint!r}: plain http is allowed only for a local emulator (127.0.0.1)"
            )
    return api_endpoint


def is_local_emulator(api_endpoint: str) -> bool:
    return api_endpoint.startswith("http://") and (urlparse(api_endpoint).hostname or "") in _LOOPBACK


def credentials_for(api_endpoint: str) -> Any:
    """Anonymous for a loopback emulator (or when MLOPS_INFRA_GCP_ANONYMOUS_CREDENTIALS=1), else ADC."""
    if is_local_emulator(api_endpoint) or os.environ.get(ANONYMOUS_ENV) == "1":
        from google.auth.credentials import AnonymousCredentials

        return AnonymousCredentials()  # type: ignore[no-untyped-call]
    import google.auth

    credentials, _ = google.auth.default(scopes=[CLOUD_PLATFORM_SCOPE])
    return credentials


def _client_kwargs(api_endpoint: str) -> dict[str, Any]:
    from google.api_core.client_options import ClientOptions

    check_api_endpoint(api_endpoint)
    return {
        "credentials": credentials_for(api_endpoint),
        "transport": "rest",
        "client_options": ClientOptions(api_endpoint=api_endpoint),
    }


def model_service(api_endpoint: str) -> Any:
    """A ``ModelServiceClient`` (upload, get, merge version aliases, delete)."""
    from google.cloud.aiplatform_v1.services.model_service import ModelServiceClient

    return ModelServiceClient(**_client_kwargs(api_endpoint))


def endpoint_service(api_endpoint: str) -> Any:
    """An ``EndpointServiceClient`` (deploy, undeploy, mutate deployed model, traffic split)."""
    from google.cloud.aiplatform_v1.services.endpoint_service import EndpointServiceClient

    return EndpointServiceClient(**_client_kwargs(api_endpoint))


def schedule_service(api_endpoint: str) -> Any:
    """A ``ScheduleServiceClient`` (Vertex AI Schedules of pipeline jobs)."""
    from google.cloud.aiplatform_v1.services.schedule_service import ScheduleServiceClient

    return ScheduleServiceClient(**_client_kwargs(api_endpoint))


def job_service(api_endpoint: str) -> Any:
    """A ``JobServiceClient`` (model deployment monitoring jobs)."""
    from google.cloud.aiplatform_v1.services.job_service import JobServiceClient

    return JobServiceClient(**_client_kwargs(api_endpoint))
