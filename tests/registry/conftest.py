"""Fixtures of the registry resolver tests: the local moto server, the fake Vertex server, a fake MLflow."""

from __future__ import annotations

import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
for helper in ("integration", "gcp"):  # moto_server.py, fake_vertex_server.py (not edited: imported)
    if str(TESTS / helper) not in sys.path:
        sys.path.insert(0, str(TESTS / helper))
sys.path.insert(0, str(Path(__file__).parent))
