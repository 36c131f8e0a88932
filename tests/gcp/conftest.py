"""Fixtures of the GCP tests: offline plans with GCP config, and the fake Vertex REST server."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from mlops_infra.engine.captured import CapturedStack
from mlops_infra.testing import plan

sys.path.insert(0, str(Path(__file__).parent))

from fake_vertex_server import FakeVertexServer

GCP_CONFIG = {"gcp:project": "acme-ml", "gcp:region": "us-central1"}
PINNED_IMAGE = "us-central1-docker.pkg.dev/acme-ml/serving/churn@sha256:" + "a" * 64


@pytest.fixture
def gcp_plan() -> Callable[..., CapturedStack]:
    """``gcp_plan(program, environment="dev", config={...})`` with a GCP project and region set."""

    def run(
        program: Callable[[], None], environment: str = "dev", config: dict[str, Any] | None = None
    ) -> CapturedStack:
        return plan(program, environment=environment, config={**GCP_CONFIG, **(config or {})})

    return run


@pytest.fixture
def fake_vertex() -> Iterator[FakeVertexServer]:
    """A fake Vertex AI REST API on 127.0.0.1 (started and stopped per test)."""
    server = FakeVertexServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def fresh_fake_vertex() -> Iterator[Callable[[], FakeVertexServer]]:
    """``fresh_fake_vertex()`` starts another fake Vertex server (one per fault case); all stop after the test."""
    servers: list[FakeVertexServer] = []

    def start() -> FakeVertexServer:
        servers.append(FakeVertexServer().start())
        return servers[-1]

    try:
        yield start
    finally:
        for server in servers:
            server.stop()
