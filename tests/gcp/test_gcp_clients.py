"""Client construction for the dynamic providers: endpoint rules and credential choice."""

import pytest
from google.auth.credentials import AnonymousCredentials

from mlops_infra.gcp.dynamic import clients

pytestmark = pytest.mark.filterwarnings("ignore::FutureWarning")


@pytest.mark.parametrize(
    "endpoint",
    [
        "us-central1-aiplatform.googleapis.com",
        "https://us-central1-aiplatform.googleapis.com",
        "http://127.0.0.1:8080",
        "http://localhost:9",
    ],
)
def test_accepted_endpoints(endpoint):
    assert clients.check_api_endpoint(endpoint) == endpoint


@pytest.mark.parametrize("endpoint", ["http://vertex.example.com", "", "us central1"])
def test_rejected_endpoints(endpoint):
    with pytest.raises(ValueError, match="api_endpoint"):
        clients.check_api_endpoint(endpoint)


def test_local_emulator_gets_anonymous_credentials_over_rest():
    client = clients.model_service("http://127.0.0.1:9")
    assert isinstance(client._transport._credentials, AnonymousCredentials)
    assert client._transport.kind == "rest"
    assert client._transport._host == "http://127.0.0.1:9"


def test_anonymous_credentials_can_be_forced_by_environment(monkeypatch):
    monkeypatch.setenv(clients.ANONYMOUS_ENV, "1")
    assert isinstance(clients.credentials_for("us-central1-aiplatform.googleapis.com"), AnonymousCredentials)
    monkeypatch.delenv(clients.ANONYMOUS_ENV)
    monkeypatch.setattr("google.auth.default", lambda scopes: (("adc", tuple(scopes)), "p"))
    assert clients.credentials_for("us-central1-aiplatform.googleapis.com") == ("adc", (clients.CLOUD_PLATFORM_SCOPE,))
