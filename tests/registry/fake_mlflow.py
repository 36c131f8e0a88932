"""A tiny fake of MLflow's model registry REST API (the three GETs the resolver calls), on 127.0.0.1."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse


@dataclass
class FakeRegistry:
    """``models[name][version] = source``; ``aliases[name][alias] = version``; ``downloads`` for runs:/ sources."""

    models: dict[str, dict[str, str]] = field(default_factory=dict)
    aliases: dict[str, dict[str, str]] = field(default_factory=dict)
    downloads: dict[tuple[str, str], str] = field(default_factory=dict)
    requests: list[tuple[str, dict[str, str], str | None]] = field(default_factory=list)


def _missing(what: str) -> tuple[int, dict[str, Any]]:
    return 404, {"error_code": "RESOURCE_DOES_NOT_EXIST", "message": f"{what} not found"}


def answer(registry: FakeRegistry, path: str, query: dict[str, str]) -> tuple[int, dict[str, Any]]:
    name = query.get("name", "")
    if path == "/api/2.0/mlflow/registered-models/get":
        return (200, {"registered_model": {"name": name}}) if name in registry.models else _missing(name)
    if path == "/api/2.0/mlflow/registered-models/alias":
        version = registry.aliases.get(name, {}).get(query.get("alias", ""))
        if name not in registry.models or version is None:
            return _missing(f"{name}@{query.get('alias')}")
        source = registry.models[name][version]
        return 200, {"model_version": {"name": name, "version": version, "source": source, "aliases": [query["alias"]]}}
    if path == "/api/2.0/mlflow/model-versions/get-download-uri":
        uri = registry.downloads.get((name, query.get("version", "")))
        return (200, {"artifact_uri": uri}) if uri else _missing(name)
    return 404, {"error_code": "ENDPOINT_NOT_FOUND", "message": path}


class FakeMlflowServer:
    """Serves a :class:`FakeRegistry`; ``url`` is the tracking URI."""

    def __init__(self) -> None:
        self.registry = FakeRegistry()
        registry = self.registry

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                parsed = urlparse(self.path)
                query = {k: v[0] for k, v in parse_qs(parsed.query).items()}
                registry.requests.append((parsed.path, query, self.headers.get("Authorization")))
                code, body = answer(registry, parsed.path, query)
                payload = json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
