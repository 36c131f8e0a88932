"""``check`` (evaluate_view) and the policy pack's per-policy path find the same violations.

``evaluate_view`` reads each rule's level once per stack and skips the rules whose check has no
handler for a resource's type; the pack calls ``resource_violations`` for every policy on every
resource. On a stack that breaks many rules on three clouds, the two must agree exactly.
"""

from __future__ import annotations

import pulumi
import pulumi_aws as aws
import pulumi_gcp as gcp
import pulumi_kubernetes as k8s
import pytest

from mlops_infra.policy.config import PolicyConfig
from mlops_infra.policy.evaluate import evaluate_view, resource_violations, stack_view, stack_violations
from mlops_infra.policy.model import Enforcement
from mlops_infra.policy.rules import REGISTRY
from mlops_infra.testing import plan


def _careless_program() -> None:
    """Resources written without the library: no keys, no tags, public, all-at-once rollouts."""
    bucket = aws.s3.Bucket("raw-data")
    aws.s3.BucketPublicAccessBlock("raw-data-public", bucket=bucket.id, block_public_acls=False)
    aws.sagemaker.EndpointConfiguration(
        "serving",
        production_variants=[
            {"variant_name": "all", "model_name": "m", "instance_type": "ml.p4d.24xlarge", "initial_instance_count": 1}
        ],
    )
    aws.sagemaker.Endpoint("serving", endpoint_config_name="serving")
    aws.cloudwatch.LogGroup("logs")
    aws.sns.Topic("alerts")
    gcp.storage.Bucket("features", location="EU")
    gcp.vertex.AiEndpoint("scoring", display_name="scoring", location="europe-west4")
    k8s.apps.v1.Deployment(
        "server",
        spec={
            "selector": {"matchLabels": {"app": "server"}},
            "strategy": {"type": "Recreate"},
            "template": {
                "metadata": {"labels": {"app": "server"}},
                "spec": {"containers": [{"name": "server", "image": "server:latest"}]},
            },
        },
    )
    pulumi.export("bucket", bucket.id)


@pytest.mark.parametrize("environment", ["prod", "dev"])
def test_check_and_the_per_policy_path_agree_on_a_stack_that_breaks_many_rules(environment: str) -> None:
    stack = stack_view(plan(_careless_program, environment=environment))
    config = PolicyConfig()
    by_check = evaluate_view(stack, config)
    by_policy = [
        violation
        for spec in REGISTRY.values()
        for view in stack.resources
        if view.custom
        for violation in resource_violations(spec, view, stack.config, config)
    ] + [violation for spec in REGISTRY.values() for violation in stack_violations(spec, stack, config)]
    assert sorted(by_check, key=repr) == sorted(by_policy, key=repr)
    # prod: most rules block; dev: only the always-mandatory ones do, the rest advise.
    mandatory = {v.policy_id for v in by_check if v.enforcement is Enforcement.MANDATORY}
    assert len(mandatory) >= 5 if environment == "prod" else 1 <= len(mandatory) <= 3


def test_a_disabled_policy_finds_nothing_on_either_path() -> None:
    stack = stack_view(plan(_careless_program, environment="prod"))
    config = PolicyConfig(enforcement={"encryption-at-rest": Enforcement.DISABLED})
    assert [v for v in evaluate_view(stack, config) if v.policy_id == "encryption-at-rest"] == []
    spec = REGISTRY["encryption-at-rest"]
    assert [v for view in stack.resources for v in resource_violations(spec, view, stack.config, config)] == []
