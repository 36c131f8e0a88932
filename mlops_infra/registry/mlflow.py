"""The MLflow model version holding the approved alias, as the storage URI KServe reads (MLflow REST API 2.0)."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from mlops_infra.registry.version import ApprovedVersion, Missing, Resolution

STORAGE_SCHEMES = ("s3", "gs", "pvc", "oci", "https")
"""URIs KServe's storage initializer reads (and the spec accepts as an artifact)."""
_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
_NOT_FOUND = "RESOURCE_DOES_NOT_EXIST"


class MlflowError(RuntimeError):
    """MLflow answered something other than a version or a not-found."""


def aliased_storage_uri(
    tracking_uri: str, model_name: str, alias: str, *, token: str | None = None, timeout: float = 10.0
) -> Resolution:
    """The storage URI of the version of ``model_name`` that carries ``alias``.

    ``GET /api/2.0/mlflow/registered-models/alias``; when the version's ``source`` is not a storage
    URI (``runs:/...``, ``models:/...``), ``GET /api/2.0/mlflow/model-versions/get-download-uri``.
    Plain ``http://`` is accepted only on loopback (a port-forward or a test), so a token never
    travels in clear text.
    """
    client = _Client(tracking_uri, token, timeout)
    found = client.get("registered-models/alias", name=model_name, alias=alias)
    if found is None:
        return Missing.REGISTRY if client.get("registered-models/get", name=model_name) is None else Missing.APPROVAL
    version = found.get("model_version") or {}
    number = str(version.get("version", ""))
    uri = str(version.get("source", ""))
    if _scheme(uri) not in STORAGE_SCHEMES:
        download = client.get("model-versions/get-download-uri", name=model_name, version=number) or {}
        uri = str(download.get("artifact_uri", ""))
    if _scheme(uri) not in STORAGE_SCHEMES:
        raise MlflowError(
            f"MLflow version {model_name}/{number} ({alias!r}) is stored at {uri!r}, which KServe cannot read: "
            f"log models to an artifact store with a {'/'.join(STORAGE_SCHEMES)} URI (not the proxied "
            "mlflow-artifacts:/ store)"
        )
    return ApprovedVersion(reference=uri, version=number, source=f"MLflow alias {alias!r}")


def _scheme(uri: str) -> str:
    return uri.split("://", 1)[0] if "://" in uri else ""


class _Client:
    def __init__(self, tracking_uri: str, token: str | None, timeout: float) -> None:
        parsed = urllib.parse.urlparse(tracking_uri)
        loopback = (parsed.hostname or "") in _LOOPBACK
        if parsed.scheme != "https" and not (parsed.scheme == "http" and loopback):
            raise ValueError(
                f"MLflow tracking URI {tracking_uri!r} must be https:// (plain http only on 127.0.0.1, e.g. a "
                "kubectl port-forward)"
            )
        self.base = tracking_uri.rstrip("/")
        self.token = token
        self.timeout = timeout
        # Loopback never goes through a proxy; other hosts follow the environment's proxy settings.
        handlers = [urllib.request.ProxyHandler({})] if loopback else []
        self.opener = urllib.request.build_opener(*handlers)

    def get(self, method: str, **query: str) -> dict[str, Any] | None:
        """The JSON answer of ``GET /api/2.0/mlflow/{method}``, or None when MLflow says it does not exist."""
        url = f"{self.base}/api/2.0/mlflow/{method}?{urllib.parse.urlencode(query)}"
        request = urllib.request.Request(url, headers={"Accept": "application/json"})  # noqa: S310 - https or loopback http, checked
        if self.token:
            request.add_header("Authorization", f"Bearer {self.token}")
        try:
            with self.opener.open(request, timeout=self.timeout) as response:
                result: dict[str, Any] = json.loads(response.read() or b"{}")
                return result
        except urllib.error.HTTPError as exc:
            body = exc.read().decode("utf-8", "replace")
            if exc.code == 404 or _NOT_FOUND in body:
                return None
            raise MlflowError(f"MLflow {method} answered HTTP {exc.code}: {body[:300]}") from None
