"""helm-chart-pinned on raw programs: a Helm Release without an exact chart version is flagged, a pinned one is not."""

from __future__ import annotations

from typing import Any

import pulumi_kubernetes as k8s
import pytest

from mlops_infra.engine.captured import CapturedStack
from mlops_infra.policy.evaluate import evaluate_stack
from mlops_infra.policy.facts.helm import is_exact_version, pinned_by_source
from mlops_infra.policy.model import Enforcement
from mlops_infra.testing import plan

RULE = "helm-chart-pinned"
REPO = {"repo": "https://kubernetes.github.io/ingress-nginx"}
UNPINNED = {
    "missing": None,
    "empty": "",
    "latest": "latest",
    "caret": "^4.13.0",
    "tilde": "~4.13",
    "floor": ">=4.0.0",
    "wildcard": "4.x",
    "minor": "4.13",
    "star": "*",
}
PINNED = {"plain": "4.13.3", "v-prefixed": "v1.19.1", "pre-release": "1.0.0-rc.1"}


def _release(name: str, version: str | None, chart: str = "ingress-nginx") -> None:
    args: dict[str, Any] = {"chart": chart, "namespace": "ingress"}
    if version is not None:
        args["version"] = version
    if not pinned_by_source(chart):
        args["repository_opts"] = REPO
    k8s.helm.v3.Release(name, **args)


def _program() -> None:
    for name, version in {**UNPINNED, **PINNED}.items():
        _release(name, version)
    _release("local", None, chart="./charts/ingress")
    _release("archive", None, chart="https://example.com/charts/ingress-nginx-4.13.3.tgz")


@pytest.fixture(scope="module", params=["prod", "dev"])
def stack(request: pytest.FixtureRequest) -> CapturedStack:
    return plan(_program, environment=request.param)


def test_unpinned_releases_are_flagged_and_pinned_ones_pass(stack: CapturedStack) -> None:
    found = {v.urn.rsplit("::", 1)[-1]: v for v in evaluate_stack(stack) if v.policy_id == RULE}
    assert set(found) == set(UNPINNED)
    expected = Enforcement.MANDATORY if stack.stack == "prod" else Enforcement.ADVISORY
    assert {v.enforcement for v in found.values()} == {expected}
    assert "has no version" in found["missing"].message and "'latest'" in found["latest"].message
    assert "exact chart version" in found["caret"].message


def test_the_fact_agrees_with_the_rule() -> None:
    assert not any(is_exact_version(v) for v in UNPINNED.values())
    assert all(is_exact_version(v) for v in PINNED.values())
    assert pinned_by_source("oci://ghcr.io/acme/charts/app-1.2.3.tgz") and not pinned_by_source("oci://ghcr.io/a/b")
