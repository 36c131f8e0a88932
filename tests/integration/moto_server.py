"""A local moto server for integration tests: 127.0.0.1 only, on a free port, always stopped.

Use the ``moto_endpoint`` fixture (import it into a test module, or into a conftest.py), or
``running_moto_server()`` directly, and build clients with :func:`aws_client`. Clients use
fake credentials and ignore proxy settings, so no request can leave the machine.

moto keeps its state in process-wide backends; the server is reset when it starts, so each
module begins with an empty account (123456789012, us-east-1 by default).
"""

from __future__ import annotations

import contextlib
import logging
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

# Optional dependencies (extra "test-integration"): without them the importing module is skipped,
# not an import error that would break collection of the whole suite.
boto3 = pytest.importorskip("boto3")
botocore_config = pytest.importorskip("botocore.config")
moto_threaded = pytest.importorskip("moto.server")

REGION = "us-east-1"
FAKE_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing", "aws_session_token": "testing"}
LOOPBACK = "127.0.0.1"


@contextlib.contextmanager
def running_moto_server() -> Iterator[str]:
    """Start a threaded moto server on a free loopback port; yield its URL; stop it on exit."""
    werkzeug_log = logging.getLogger("werkzeug")
    previous_level = werkzeug_log.level
    werkzeug_log.setLevel(logging.WARNING)  # one access-log line per request is noise here
    server = moto_threaded.ThreadedMotoServer(ip_address=LOOPBACK, port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        url = f"http://{host}:{port}"
        _reset(url)
        yield url
    finally:
        server.stop()
        werkzeug_log.setLevel(previous_level)


def _reset(url: str) -> None:
    """Empty every moto backend (they are shared by everything in this process)."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    request = urllib.request.Request(f"{url}/moto-api/reset", method="POST")
    with opener.open(request, timeout=10) as response:
        if response.status != 200:
            raise RuntimeError(f"moto reset failed with HTTP {response.status}")


def aws_client(service: str, endpoint_url: str, region: str = REGION) -> Any:
    """A boto3 client for ``service`` that talks only to the local server."""
    session = boto3.session.Session(region_name=region, **FAKE_CREDENTIALS)
    config = botocore_config.Config(proxies={}, retries={"max_attempts": 1}, connect_timeout=5, read_timeout=30)
    return session.client(service, endpoint_url=endpoint_url, config=config)


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    """URL of a moto server that lives for one test module."""
    with running_moto_server() as url:
        yield url
