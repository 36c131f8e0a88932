"""SecureBucket: CMEK, uniform access, public access prevention, versioning, lifecycle, key wiring."""

import pydantic
import pytest

from mlops_infra.gcp import SecureBucket, SecureBucketArgs
from mlops_infra.testing import one, required_tags_present

EXPLICIT_KEY = "projects/acme-ml/locations/us-central1/keyRings/team/cryptoKeys/data"


def test_bucket_is_private_encrypted_and_versioned(gcp_plan):
    stack = gcp_plan(lambda: SecureBucket("datasets"))
    bucket = one(stack, "gcp:storage/bucket:Bucket")
    key = one(stack, "gcp:kms/cryptoKey:CryptoKey")
    inputs = bucket.inputs
    assert inputs["name"] == "churn-dev-datasets"
    assert inputs["location"] == "US-CENTRAL1"
    assert inputs["uniformBucketLevelAccess"] is True
    assert inputs["publicAccessPrevention"] == "enforced"
    assert inputs["versioning"] == {"enabled": True}
    assert inputs["forceDestroy"] is False
    assert inputs["encryption"]["defaultKmsKeyName"].endswith("/cryptoKeys/churn-dev-platform")
    assert key.urn in bucket.dependencies
    actions = [(r["action"]["type"], r["condition"]) for r in inputs["lifecycleRules"]]
    assert ("Delete", {"daysSinceNoncurrentTime": 30, "withState": "ARCHIVED"}) in actions
    assert ("AbortIncompleteMultipartUpload", {"age": 7}) in actions
    assert inputs["softDeletePolicy"] == {"retentionDurationSeconds": 7 * 86400}
    assert required_tags_present(stack) == []


def test_bucket_waits_for_the_storage_agent_grant(gcp_plan):
    stack = gcp_plan(lambda: SecureBucket("datasets"))
    bucket = one(stack, "gcp:storage/bucket:Bucket")
    grant = next(
        r
        for r in stack.by_type("gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember")
        if "gs-project-accounts" in r.inputs["member"]
    )
    assert grant.urn in bucket.dependencies


def test_explicit_key_creates_no_shared_key(gcp_plan):
    stack = gcp_plan(lambda: SecureBucket("datasets", {"kms_key_name": EXPLICIT_KEY, "bucket_name": "acme-datasets"}))
    bucket = one(stack, "gcp:storage/bucket:Bucket")
    assert bucket.inputs["encryption"] == {"defaultKmsKeyName": EXPLICIT_KEY}
    assert bucket.inputs["name"] == "acme-datasets"
    assert stack.by_type("gcp:kms/cryptoKey:CryptoKey") == []


def test_expiry_and_explicit_public_opt_out(gcp_plan):
    stack = gcp_plan(lambda: SecureBucket("public", {"expire_objects_after_days": 90, "allow_public_access": True}))
    bucket = one(stack, "gcp:storage/bucket:Bucket")
    assert bucket.inputs["publicAccessPrevention"] == "inherited"
    assert {"action": {"type": "Delete"}, "condition": {"age": 90, "withState": "LIVE"}} in bucket.inputs[
        "lifecycleRules"
    ]


def test_bucket_protected_in_prod(gcp_plan):
    stack = gcp_plan(lambda: SecureBucket("datasets"), environment="prod")
    bucket = one(stack, "gcp:storage/bucket:Bucket")
    assert bucket.protect and bucket.retain_on_delete


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("bucket_name", "Bad_Name"),
        ("noncurrent_version_days", 0),
        ("storage_class", "HOT"),
        ("region", "mars"),
        # Security switches are strict booleans: 'true' or 1 is not an opt-in.
        ("allow_public_access", "true"),
        ("force_destroy", 1),
        ("kms_key_name", "projects/p/keyRings/r"),
    ],
)
def test_invalid_settings_name_the_field(field, value):
    with pytest.raises(pydantic.ValidationError) as info:
        SecureBucketArgs(**{"region": "us-central1", field: value})
    assert info.value.errors()[0]["loc"] == (field,)
