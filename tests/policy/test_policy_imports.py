"""The rule library stands alone: importing it loads no cloud component and no provider SDK.

Rules and facts are plain functions over wire-format props; components import them, never the
other way round (docs/architecture.md). The imports run in a fresh interpreter, so modules an
earlier test loaded cannot hide a dependency; each module's new entries in ``sys.modules`` are
recorded, so a failure names the module that pulled the cloud package in.
"""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys

import mlops_infra.policy

FORBIDDEN_PREFIXES = (
    "mlops_infra.aws",
    "mlops_infra.gcp",
    "mlops_infra.k8s",
    "pulumi_aws",
    "pulumi_gcp",
    "pulumi_kubernetes",
)

POLICY_MODULES = [
    "mlops_infra.policy",
    *sorted(info.name for info in pkgutil.walk_packages(mlops_infra.policy.__path__, "mlops_infra.policy.")),
]

_PROBE = """
import importlib, json, sys
loaded = {}
for name in sys.argv[1:]:
    before = set(sys.modules)
    importlib.import_module(name)
    loaded[name] = sorted(set(sys.modules) - before)
print(json.dumps(loaded))
"""


def _loaded_by(modules: list[str]) -> dict[str, list[str]]:
    """Module -> the modules its import added to ``sys.modules``, imported in order in one fresh interpreter."""
    result = subprocess.run(
        [sys.executable, "-c", _PROBE, *modules], capture_output=True, text=True, check=False, timeout=120
    )
    assert result.returncode == 0, result.stderr
    loaded: dict[str, list[str]] = json.loads(result.stdout)
    return loaded


def _forbidden(modules: list[str]) -> list[str]:
    return [m for m in modules if any(m == p or m.startswith(p + ".") for p in FORBIDDEN_PREFIXES)]


def test_every_rule_and_fact_module_is_probed():
    assert "mlops_infra.policy.rules.least_privilege_iam" in POLICY_MODULES
    assert "mlops_infra.policy.facts.sagemaker_pipeline" in POLICY_MODULES
    assert "mlops_infra.policy.facts.aws_iam" in POLICY_MODULES
    assert len([m for m in POLICY_MODULES if m.startswith("mlops_infra.policy.rules.")]) >= 17


def test_the_policy_library_imports_no_cloud_package():
    offenders = {
        module: forbidden for module, added in _loaded_by(POLICY_MODULES).items() if (forbidden := _forbidden(added))
    }
    assert offenders == {}, f"policy modules that load cloud packages: {offenders}"


def test_the_probe_sees_a_cloud_import():
    # The same probe on a component module reports it: the check above is not vacuous.
    added = _loaded_by(["mlops_infra.aws.iam"])["mlops_infra.aws.iam"]
    assert "mlops_infra.aws" in _forbidden(added)
