"""PlatformKey: rotation, purpose, service-agent grants, labels and protection."""

import pulumi
import pulumi_gcp as gcp
import pydantic
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlops_infra.engine import ProgramError
from mlops_infra.gcp import PlatformKey, PlatformKeyArgs, SecureBucket
from mlops_infra.gcp.platform_key import key_name_or_shared
from mlops_infra.testing import child_resources, one, required_tags_present

PROJECT_NUMBER = "123456789012"  # the offline engine's project number


def test_key_rotates_every_90_days_and_encrypts(gcp_plan):
    stack = gcp_plan(lambda: PlatformKey("platform"))
    key = one(stack, "gcp:kms/cryptoKey:CryptoKey")
    ring = one(stack, "gcp:kms/keyRing:KeyRing")
    assert key.inputs["rotationPeriod"] == "7776000s"
    assert key.inputs["purpose"] == "ENCRYPT_DECRYPT"
    assert key.inputs["versionTemplate"] == {"algorithm": "GOOGLE_SYMMETRIC_ENCRYPTION", "protectionLevel": "SOFTWARE"}
    assert ring.inputs == {"location": "us-central1", "name": "churn-dev-platform"}
    assert key.inputs["keyRing"] == "projects/acme-ml/locations/us-central1/keyRings/churn-dev-platform"
    assert ring.urn in key.dependencies


def test_each_service_agent_may_use_the_key(gcp_plan):
    stack = gcp_plan(lambda: PlatformKey("platform"))
    key_id = "projects/acme-ml/locations/us-central1/keyRings/churn-dev-platform/cryptoKeys/churn-dev-platform"
    members = {
        m.inputs["member"]
        for m in stack.by_type("gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember")
        if m.inputs["cryptoKeyId"] == key_id and m.inputs["role"] == "roles/cloudkms.cryptoKeyEncrypterDecrypter"
    }
    assert members == {
        f"serviceAccount:service-{PROJECT_NUMBER}@gcp-sa-aiplatform.iam.gserviceaccount.com",
        f"serviceAccount:bq-{PROJECT_NUMBER}@bigquery-encryption.iam.gserviceaccount.com",
        f"serviceAccount:service-{PROJECT_NUMBER}@gs-project-accounts.iam.gserviceaccount.com",
        f"serviceAccount:service-{PROJECT_NUMBER}@gcp-sa-artifactregistry.iam.gserviceaccount.com",
    }


def test_children_are_parented_labelled_and_protected_in_prod(gcp_plan):
    stack = gcp_plan(lambda: PlatformKey("platform", {"protection_level": "HSM"}), environment="prod")
    component = one(stack, "mlops-infra:gcp:PlatformKey")
    children = child_resources(stack, component.urn)
    assert {c.type for c in children} >= {"gcp:kms/keyRing:KeyRing", "gcp:kms/cryptoKey:CryptoKey"}
    assert required_tags_present(stack) == []
    key = one(stack, "gcp:kms/cryptoKey:CryptoKey")
    assert key.inputs["labels"]["environment"] == "prod"
    assert key.inputs["versionTemplate"]["protectionLevel"] == "HSM"
    for stateful in ("gcp:kms/cryptoKey:CryptoKey", "gcp:kms/keyRing:KeyRing"):
        assert one(stack, stateful).protect and one(stack, stateful).retain_on_delete


def test_dev_keys_are_not_protected(gcp_plan):
    stack = gcp_plan(lambda: PlatformKey("platform"))
    assert not one(stack, "gcp:kms/cryptoKey:CryptoKey").protect


def test_shared_key_is_created_once_and_explicit_keys_are_kept(gcp_plan):
    names = []

    def program():
        names.append(key_name_or_shared(None, "us-central1"))
        names.append(key_name_or_shared(None, "us-central1"))
        names.append(key_name_or_shared("projects/p/locations/us-central1/keyRings/r/cryptoKeys/k", "us-central1"))

    stack = gcp_plan(program)
    assert len(stack.by_type("gcp:kms/cryptoKey:CryptoKey")) == 1
    assert names[2] == "projects/p/locations/us-central1/keyRings/r/cryptoKeys/k"


def test_a_second_region_gets_its_own_key(gcp_plan):
    def program():
        key_name_or_shared(None, "us-central1")
        key_name_or_shared(None, "europe-west4")

    stack = gcp_plan(program)
    rings = {r.name: r.inputs["location"] for r in stack.by_type("gcp:kms/keyRing:KeyRing")}
    assert rings == {"platform-ring": "us-central1", "platform-europe-west4-ring": "europe-west4"}


def test_rotation_longer_than_90_days_fails_before_anything_is_registered(gcp_plan):
    with pytest.raises(ProgramError, match="rotation_period_days"):
        gcp_plan(lambda: PlatformKey("platform", {"rotation_period_days": 365}))


def test_missing_region_names_the_field(offline_plan, monkeypatch):
    for variable in ("GOOGLE_REGION", "GCLOUD_REGION", "CLOUDSDK_COMPUTE_REGION"):
        monkeypatch.delenv(variable, raising=False)
    with pytest.raises(ProgramError, match="region"):
        offline_plan(lambda: PlatformKey("platform"))


@settings(max_examples=25, deadline=None)
@given(days=st.one_of(st.integers(max_value=0), st.integers(min_value=91)))
def test_invalid_rotation_always_names_the_field(days):
    with pytest.raises(pydantic.ValidationError) as info:
        PlatformKeyArgs(region="us-central1", rotation_period_days=days)
    assert info.value.errors()[0]["loc"] == ("rotation_period_days",)


def test_extra_members_must_be_identities():
    with pytest.raises(pydantic.ValidationError) as info:
        PlatformKeyArgs(region="us-central1", extra_encrypter_members=["allUsers"])
    assert info.value.errors()[0]["loc"] == ("extra_encrypter_members", 0)


def test_components_with_an_explicit_provider_get_a_key_in_that_provider(gcp_plan):
    def program():
        other = gcp.Provider("analytics", project="acme-analytics", region="us-central1")
        SecureBucket("shared", {"bucket_name": "acme-shared-data"}, opts=pulumi.ResourceOptions(provider=other))
        SecureBucket("local")

    stack = gcp_plan(program)
    keys = {k.name: k for k in stack.by_type("gcp:kms/cryptoKey:CryptoKey")}
    assert set(keys) == {"platform-key", "platform-analytics-key"}
    assert "analytics" in (keys["platform-analytics-key"].provider or "")
    buckets = {b.inputs["name"]: b for b in stack.by_type("gcp:storage/bucket:Bucket")}
    assert (
        buckets["acme-shared-data"]
        .inputs["encryption"]["defaultKmsKeyName"]
        .endswith("/cryptoKeys/churn-dev-platform-analytics")
    )
    assert (
        buckets["churn-dev-local"].inputs["encryption"]["defaultKmsKeyName"].endswith("/cryptoKeys/churn-dev-platform")
    )
