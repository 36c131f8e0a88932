"""The components package lives in components/ (a Pulumi plugin directory), not in mlops_infra."""

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
COMPONENTS_DIR = ROOT / "components"
if str(COMPONENTS_DIR) not in sys.path:
    sys.path.insert(0, str(COMPONENTS_DIR))


@pytest.fixture(scope="session")
def generator():
    """scripts/generate_components.py as a module."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("generate_components", ROOT / "scripts" / "generate_components.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["generate_components"] = module
    spec.loader.exec_module(module)
    return module
