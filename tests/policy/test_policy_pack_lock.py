"""The policy pack's dependencies are locked, and it runs the pulumi-policy the project locks and tests."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import yaml
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[2]
PACK_DIR = ROOT / "policies" / "mlops-guardrails"


def _locked(lock_file: Path) -> dict[str, dict[str, Any]]:
    return {p["name"]: p for p in tomllib.loads(lock_file.read_text())["package"]}


def test_the_pack_locks_the_pulumi_policy_version_the_project_locks() -> None:
    project = _locked(ROOT / "uv.lock")["pulumi-policy"]["version"]
    pack = _locked(PACK_DIR / "uv.lock")["pulumi-policy"]["version"]
    assert pack == project
    pinned = [
        Requirement(r)
        for r in tomllib.loads((PACK_DIR / "pyproject.toml").read_text())["project"]["dependencies"]
        if Requirement(r).name == "pulumi-policy"
    ]
    assert [str(r.specifier) for r in pinned] == [f"=={project}"]


def test_the_pack_runs_with_the_uv_toolchain_from_its_own_lock() -> None:
    runtime = yaml.safe_load((PACK_DIR / "PulumiPolicy.yaml").read_text())["runtime"]
    assert runtime["name"] == "python" and runtime["options"]["toolchain"] == "uv"
    assert not (PACK_DIR / "requirements.txt").exists(), "an unlocked requirements file would be ignored by uv"
    pack_project = tomllib.loads((PACK_DIR / "pyproject.toml").read_text())
    assert pack_project["tool"]["uv"]["sources"]["mlops-infra"] == {"path": "../..", "editable": True}
    locked = _locked(PACK_DIR / "uv.lock")
    assert locked["mlops-infra"]["source"]["editable"].rstrip("/") == "../.."
    # Every registry package is pinned to one version with its hashes.
    for name, package in locked.items():
        if "registry" in package["source"]:
            artifacts = [*package.get("wheels", []), *([package["sdist"]] if "sdist" in package else [])]
            assert artifacts and all(a["hash"].startswith("sha256:") for a in artifacts), name
