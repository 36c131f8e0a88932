"""The guardrails' k8s-pod-security rule (mlops_infra.policy) finds nothing in the k8s-kserve stack."""

import copy

import pytest

from mlops_infra.engine import run_program

rule = pytest.importorskip("mlops_infra.policy.rules.k8s_pod_security")
from mlops_infra.policy.config import PolicyConfig  # noqa: E402
from mlops_infra.policy.context import RuleContext  # noqa: E402
from mlops_infra.policy.model import ResourceView, ViewOptions  # noqa: E402


def _findings(resource, props, environment):
    view = ResourceView(
        type=resource.type,
        props=props,
        urn=resource.urn,
        name=resource.name,
        options=ViewOptions(protect=resource.protect, parent=resource.parent),
    )
    context = RuleContext(PolicyConfig(), environment)
    found = list(rule.check(view, context))
    assert context.skipped == []  # every value was known offline
    return found


@pytest.mark.parametrize("environment", ["prod", "dev"])
def test_stack_has_no_pod_security_violations(environment):
    stack = run_program("stacks/k8s-kserve", environment, [])
    workloads = [r for r in stack.custom_resources() if r.package == "kubernetes"]
    assert [f for r in workloads for f in _findings(r, r.inputs, environment)] == []
    # The rule does look at our pods: a weakened copy of one is reported.
    deployment = stack.by_type("kubernetes:apps/v1:Deployment")[0]
    weakened = copy.deepcopy(deployment.inputs)
    weakened["spec"]["template"]["spec"]["containers"][0]["securityContext"]["readOnlyRootFilesystem"] = False
    assert _findings(deployment, weakened, environment)
