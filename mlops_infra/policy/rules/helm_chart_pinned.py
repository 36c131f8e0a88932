"""helm-chart-pinned: every Helm release a program installs names one exact chart version.

A Release without ``version`` installs whatever the repository serves as newest on the day
of ``pulumi up``; a range (``^1.2``, ``~1.2``, ``>=1``) or ``latest`` does the same within its
bounds. Either way the plan that was reviewed and tested is not what is deployed, and two stacks
of the same program drift apart. A chart read from a local directory or a ``.tgz`` archive URL is
pinned by its source and passes.
"""

from __future__ import annotations

from collections.abc import Iterator

from mlops_infra.policy.context import RuleContext
from mlops_infra.policy.facts.helm import HELM_RELEASE, is_exact_version, pinned_by_source
from mlops_infra.policy.model import Finding, ResourceView
from mlops_infra.policy.rules.common import Handler, covered_types, dispatch, subject
from mlops_infra.policy.spec import PolicySpec
from mlops_infra.policy.values import known

ID = "helm-chart-pinned"


def _chart(view: ResourceView, ctx: RuleContext) -> Iterator[Finding]:
    chart = known(view.props.get("chart"), "chart")
    if pinned_by_source(chart):
        return
    version = known(view.props.get("version"), "version")
    if is_exact_version(version):
        return
    got = "no version" if version in (None, "") else f"version {version!r}"
    yield Finding(
        f"{subject(view)}: chart {chart!r} has {got}, so each deploy installs whatever the repository serves "
        'newest. Set version to one exact chart version (e.g. "v1.19.1" or "88.5.3"), not a range or latest.'
    )


HANDLERS: dict[str, Handler] = {HELM_RELEASE: _chart}

SPEC = PolicySpec(
    id=ID,
    title="Helm releases install an exact chart version",
    description=(
        "Every Helm Release sets version to one exact SemVer release: not missing, not a range, not latest "
        "(a chart from a local directory or a .tgz archive URL is pinned by its source)."
    ),
    remediation=(
        "Set version to the exact chart version you tested (helm search repo CHART --versions), "
        'e.g. version="v1.19.1"; record it with the date you checked it, '
        "as mlops_infra/k8s/prerequisites/charts.py does."
    ),
    resource_types=covered_types(HANDLERS),
    resource_check=dispatch(HANDLERS),
)
