"""An explicit public opt-in carries the allow marker, so the no-public-access policy accepts it."""

import pytest

from mlops_infra.policy.evaluate import evaluate_stack
from mlops_infra.testing import plan

MARKER = "mlops-infra_allow-public"


def _public_findings(stack):
    return [v for v in evaluate_stack(stack) if v.policy_id == "no-public-access"]


@pytest.mark.parametrize("allowed", [False, True])
def test_secure_bucket_marker_follows_the_opt_in(allowed):
    from mlops_infra.gcp.secure_bucket import SecureBucket

    stack = plan(
        lambda: SecureBucket("public-assets", {"region": "europe-west4", "allow_public_access": allowed}),
        environment="prod",
        config={"gcp:project": "churn-ml-prod", "gcp:region": "europe-west4"},
    )
    bucket = stack.by_type("gcp:storage/bucket:Bucket")[0].inputs
    assert (bucket["labels"].get(MARKER) == "true") is allowed
    assert bucket["publicAccessPrevention"] == ("inherited" if allowed else "enforced")
    assert _public_findings(stack) == []
