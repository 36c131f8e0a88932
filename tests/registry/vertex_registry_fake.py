"""Seeds model versions and aliases into the fake Vertex server (tests/gcp/fake_vertex_server.py, not edited).

The fake already answers ``GET models/M@ALIAS`` and ``mergeVersionAliases``; this module adds what the
resolver tests need on top: registering versions without going through a provider, and moving an alias.
"""

from __future__ import annotations

from typing import Any

from fake_vertex_server import FakeVertex, FakeVertexServer

PARENT = "projects/acme-ml/locations/us-central1"
KMS_KEY = f"{PARENT}/keyRings/platform/cryptoKeys/platform"


class RegistryFake:
    """A started fake Vertex server with helpers to register versions and move aliases."""

    def __init__(self) -> None:
        self.server = FakeVertexServer().start()

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def fake(self) -> FakeVertex:
        return self.server.fake

    def model_name(self, model_id: str) -> str:
        return f"{PARENT}/models/{model_id}"

    def register(self, model_id: str, *aliases: str) -> str:
        """Upload a new version of ``model_id`` (created on first use); returns its version id."""
        name = self.model_name(model_id)
        body: dict[str, Any] = {
            "model": {
                "displayName": model_id,
                "artifactUri": f"gs://acme-ml-models/{model_id}",
                "containerSpec": {"imageUri": "us-docker.pkg.dev/acme-ml/serving/churn:1"},
                "encryptionSpec": {"kmsKeyName": KMS_KEY},
            }
        }
        if name in self.fake.models:
            body["parentModel"] = name
        else:
            body["modelId"] = model_id
        with self.fake.lock:
            operation = self.fake.upload(PARENT, body)
        version = str(self.fake.operations[operation["name"]]["response"]["modelVersionId"])
        if aliases:
            self.move_alias(model_id, version, *aliases)
        return version

    def move_alias(self, model_id: str, version: str, *aliases: str) -> None:
        """Give ``aliases`` to ``version``, taking them from whichever version held them."""
        name = self.model_name(model_id)
        with self.fake.lock:
            for other in self.fake.models[name]["versions"].values():
                for alias in aliases:
                    if alias in other["versionAliases"]:
                        other["versionAliases"].remove(alias)
            self.fake.merge_aliases(f"{name}@{version}", {"versionAliases": list(aliases)})

    def stop(self) -> None:
        self.server.stop()
