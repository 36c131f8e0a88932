"""FeatureStore (and the SecureBucket under it) under mocks: children, key wiring, IAM, protection, validation."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pulumi
import pydantic
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlops_infra.aws.feature_store import FeatureStore, FeatureStoreArgs
from mlops_infra.aws.feature_store_args import FEATURE_NAME_PATTERN, MAX_FEATURES, RESERVED_FEATURE_NAMES
from mlops_infra.aws.platform_key import PlatformKey
from mlops_infra.aws.secure_bucket import SecureBucket, SecureBucketArgs
from mlops_infra.engine import ProgramError, run_program
from mlops_infra.engine.captured import CapturedResource, CapturedStack
from mlops_infra.testing import child_resources, iam_statements, one, plan, required_tags_present

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "aws" / "feature_store.py"
TOKEN = "mlops-infra:aws:FeatureStore"
SECURE_BUCKET = "mlops-infra:aws:SecureBucket"
BUCKET = "aws:s3/bucket:Bucket"
SSE = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
VERSIONING = "aws:s3/bucketVersioning:BucketVersioning"
PUBLIC_ACCESS_BLOCK = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
OWNERSHIP = "aws:s3/bucketOwnershipControls:BucketOwnershipControls"
BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
LIFECYCLE = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
DATABASE = "aws:glue/catalogDatabase:CatalogDatabase"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
FEATURE_GROUP = "aws:sagemaker/featureGroup:FeatureGroup"
KMS_KEY = "aws:kms/key:Key"
KEY_ARN = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555"
ACCOUNT = "123456789012"
BUCKET_NAME = f"churn-dev-features-offline-store-{ACCOUNT}-us-east-1"
BUCKET_ARN = f"arn:aws:s3:::{BUCKET_NAME}"


def customer_group(**overrides: Any) -> dict[str, Any]:
    group: dict[str, Any] = {
        "name": "customer",
        "description": "Latest profile per customer",
        "features": [
            {"name": "customer_id", "type": "String"},
            {"name": "event_time", "type": "Fractional"},
            {"name": "age", "type": "Integral"},
            {"name": "balance", "type": "Fractional"},
        ],
        "entity_key": "customer_id",
        "event_time": "event_time",
        "online_ttl": {"unit": "Days", "value": 30},
    }
    return {**group, **overrides}


def txn_group(**overrides: Any) -> dict[str, Any]:
    group: dict[str, Any] = {
        "name": "transactions",
        "features": [
            {"name": "txn_id", "type": "Integral"},
            {"name": "ts", "type": "String"},
            {"name": "amount", "type": "Fractional"},
        ],
        "entity_key": "txn_id",
        "event_time": "ts",
        "online": False,
        "table_format": "Iceberg",
    }
    return {**group, **overrides}


def store_args(**overrides: Any) -> dict[str, Any]:
    return {"kms_key_arn": KEY_ARN, "feature_groups": [customer_group(), txn_group()], **overrides}


def store_plan(args: dict[str, Any] | None = None, environment: str = "dev") -> CapturedStack:
    return plan(lambda: FeatureStore("features", store_args() if args is None else args), environment=environment)


def group_named(stack: CapturedStack, logical: str) -> CapturedResource:
    (group,) = [g for g in stack.by_type(FEATURE_GROUP) if g.name == f"features-group-{logical}"]
    return group


@pytest.fixture(scope="module")
def dev() -> CapturedStack:
    return store_plan()


@pytest.fixture(scope="module")
def prod() -> CapturedStack:
    return store_plan(environment="prod")


@pytest.fixture(scope="module")
def shared_key_prod() -> CapturedStack:
    """No key given: the stack's shared platform key encrypts everything."""
    return store_plan({"feature_groups": [customer_group(), txn_group()]}, environment="prod")


# --- structure -------------------------------------------------------------------------------------


def test_children_types_and_counts(dev: CapturedStack) -> None:
    component = one(dev, TOKEN)
    counts: dict[str, int] = {}
    for child in child_resources(dev, component.urn):
        counts[child.type] = counts.get(child.type, 0) + 1
    assert counts == {
        SECURE_BUCKET: 1,
        BUCKET: 1,
        SSE: 1,
        VERSIONING: 1,
        PUBLIC_ACCESS_BLOCK: 1,
        OWNERSHIP: 1,
        BUCKET_POLICY: 1,
        LIFECYCLE: 1,
        DATABASE: 1,
        ROLE: 1,
        ROLE_POLICY: 1,
        FEATURE_GROUP: 2,
    }
    # With an explicit key nothing else is created: no shared platform key, no stray resources.
    assert len(dev.resources) == 1 + sum(counts.values())
    assert dev.by_type(KMS_KEY) == []


def test_every_child_leads_to_the_component(dev: CapturedStack) -> None:
    component = one(dev, TOKEN)
    by_urn = dev.by_urn()
    for resource in dev.resources:
        if resource.urn == component.urn:
            continue
        chain = resource
        while chain.parent is not None and chain.parent != component.urn:
            chain = by_urn[chain.parent]
        assert chain.parent == component.urn, resource.urn
    secure_bucket = one(dev, SECURE_BUCKET)
    assert secure_bucket.parent == component.urn
    assert {r.type for r in dev.children_of(secure_bucket.urn)} == {
        BUCKET,
        SSE,
        VERSIONING,
        PUBLIC_ACCESS_BLOCK,
        OWNERSHIP,
        BUCKET_POLICY,
        LIFECYCLE,
    }


def test_child_names_are_stable(dev: CapturedStack) -> None:
    """Logical names are part of URNs: renaming one replaces live resources (needs an alias)."""
    component = one(dev, TOKEN)
    assert sorted(r.name for r in child_resources(dev, component.urn)) == [
        "features-database",
        "features-group-customer",
        "features-group-transactions",
        "features-offline-store",
        "features-offline-store-bucket",
        "features-offline-store-encryption",
        "features-offline-store-lifecycle",
        "features-offline-store-ownership",
        "features-offline-store-policy",
        "features-offline-store-public-access-block",
        "features-offline-store-versioning",
        "features-role",
        "features-role-policy",
    ]


def test_physical_names_are_explicit(dev: CapturedStack) -> None:
    assert one(dev, BUCKET).inputs["bucket"] == BUCKET_NAME
    assert one(dev, DATABASE).inputs["name"] == "churn_dev_features"
    assert one(dev, ROLE).inputs["name"] == "churn-dev-us-east-1-features-feature-store"
    assert group_named(dev, "customer").inputs["featureGroupName"] == "churn-dev-features-customer"
    assert group_named(dev, "transactions").inputs["featureGroupName"] == "churn-dev-features-transactions"


def test_outputs_are_registered() -> None:
    def program() -> None:
        store = FeatureStore("features", store_args())
        pulumi.export("bucket", store.bucket_name)
        pulumi.export("bucketArn", store.bucket_arn)
        pulumi.export("role", store.role_arn)
        pulumi.export("database", store.database_name)
        pulumi.export("groups", store.feature_group_names)

    outputs = plan(program).outputs
    assert outputs == {
        "bucket": BUCKET_NAME,
        "bucketArn": BUCKET_ARN,
        "role": f"arn:aws:iam::{ACCOUNT}:role/churn-dev-us-east-1-features-feature-store",
        "database": "churn_dev_features",
        "groups": {"customer": "churn-dev-features-customer", "transactions": "churn-dev-features-transactions"},
    }


def test_feature_groups_wait_for_role_policy_bucket_and_database(dev: CapturedStack) -> None:
    needed = {one(dev, ROLE_POLICY).urn, one(dev, DATABASE).urn, one(dev, BUCKET_POLICY).urn, one(dev, SSE).urn}
    for group in dev.by_type(FEATURE_GROUP):
        assert needed <= set(group.dependencies), group.name


# --- encryption ------------------------------------------------------------------------------------


def test_bucket_encryption_uses_the_key_with_a_bucket_key(dev: CapturedStack) -> None:
    (rule,) = one(dev, SSE).inputs["rules"]
    assert rule["applyServerSideEncryptionByDefault"] == {"sseAlgorithm": "aws:kms", "kmsMasterKeyId": KEY_ARN}
    assert rule["bucketKeyEnabled"] is True
    assert one(dev, SSE).inputs["bucket"] == BUCKET_NAME


def test_online_and_offline_stores_use_the_same_key(dev: CapturedStack) -> None:
    customer = group_named(dev, "customer").inputs
    assert customer["onlineStoreConfig"]["securityConfig"]["kmsKeyId"] == KEY_ARN
    assert customer["offlineStoreConfig"]["s3StorageConfig"]["kmsKeyId"] == KEY_ARN
    assert group_named(dev, "transactions").inputs["offlineStoreConfig"]["s3StorageConfig"]["kmsKeyId"] == KEY_ARN


def test_shared_platform_key_is_the_default(shared_key_prod: CapturedStack) -> None:
    key = one(shared_key_prod, KMS_KEY)
    assert key.parent == one(shared_key_prod, "mlops-infra:aws:PlatformKey").urn
    (rule,) = one(shared_key_prod, SSE).inputs["rules"]
    bucket_key = rule["applyServerSideEncryptionByDefault"]["kmsMasterKeyId"]
    assert bucket_key.startswith(f"arn:aws:kms:us-east-1:{ACCOUNT}:key/")
    customer = group_named(shared_key_prod, "customer").inputs
    assert customer["onlineStoreConfig"]["securityConfig"]["kmsKeyId"] == bucket_key
    assert customer["offlineStoreConfig"]["s3StorageConfig"]["kmsKeyId"] == bucket_key
    statements = iam_statements(one(shared_key_prod, ROLE_POLICY))
    (kms,) = [s for s in statements if s["Sid"] == "EncryptionKey"]
    assert kms["Resource"] == [bucket_key]


def test_key_output_from_the_program_is_accepted() -> None:
    """A key created in the same program is only known at deploy time (an Output)."""

    def program() -> None:
        key = PlatformKey("features-key")
        FeatureStore("features", FeatureStoreArgs(kms_key_arn=key.arn, feature_groups=[customer_group()]))

    stack = plan(program)
    key_arn = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/"
    (rule,) = one(stack, SSE).inputs["rules"]
    used = rule["applyServerSideEncryptionByDefault"]["kmsMasterKeyId"]
    assert used.startswith(key_arn)
    assert one(stack, FEATURE_GROUP).inputs["onlineStoreConfig"]["securityConfig"]["kmsKeyId"] == used
    assert one(stack, KMS_KEY).name == "features-key-key"


# --- bucket controls -------------------------------------------------------------------------------


def test_public_access_block_is_complete(dev: CapturedStack) -> None:
    inputs = one(dev, PUBLIC_ACCESS_BLOCK).inputs
    for flag in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"):
        assert inputs[flag] is True, flag
    assert one(dev, OWNERSHIP).inputs["rule"] == {"objectOwnership": "BucketOwnerEnforced"}


def test_bucket_policy_denies_plain_http(dev: CapturedStack) -> None:
    statements = iam_statements(one(dev, BUCKET_POLICY))
    (tls,) = [
        s
        for s in statements
        if s["Effect"] == "Deny" and s.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}
    ]
    assert tls["Principal"] == "*"
    assert tls["Action"] == ["s3:*"]
    assert tls["Resource"] == [BUCKET_ARN, f"{BUCKET_ARN}/*"]
    assert all(s["Effect"] == "Deny" for s in statements), "the bucket policy grants nothing"
    # S3 rejects a policy written while the public access block is still being applied.
    assert one(dev, PUBLIC_ACCESS_BLOCK).urn in one(dev, BUCKET_POLICY).dependencies


def test_versioning_on_and_force_destroy_off(dev: CapturedStack) -> None:
    assert one(dev, VERSIONING).inputs["versioningConfiguration"] == {"status": "Enabled"}
    assert one(dev, BUCKET).inputs["forceDestroy"] is False


def test_default_lifecycle_moves_old_offline_data(dev: CapturedStack) -> None:
    (rule,) = one(dev, LIFECYCLE).inputs["rules"]
    assert rule["status"] == "Enabled"
    assert rule["filter"] == {}
    assert rule["transitions"] == [
        {"days": 90, "storageClass": "STANDARD_IA"},
        {"days": 365, "storageClass": "GLACIER_IR"},
    ]
    assert rule["noncurrentVersionExpiration"] == {"noncurrentDays": 90}
    assert rule["abortIncompleteMultipartUpload"] == {"daysAfterInitiation": 7}


def test_lifecycle_follows_settings() -> None:
    stack = store_plan(store_args(offline_transition_to_ia_days=30, offline_transition_to_glacier_ir_days=None))
    (rule,) = one(stack, LIFECYCLE).inputs["rules"]
    assert rule["transitions"] == [{"days": 30, "storageClass": "STANDARD_IA"}]
    off = store_plan(
        store_args(
            offline_transition_to_ia_days=None,
            offline_transition_to_glacier_ir_days=None,
            offline_noncurrent_version_expiration_days=None,
        )
    )
    assert off.by_type(LIFECYCLE) == []


# --- feature groups --------------------------------------------------------------------------------


def test_feature_definitions_are_wired(dev: CapturedStack) -> None:
    customer = group_named(dev, "customer").inputs
    assert customer["featureDefinitions"] == [
        {"featureName": "customer_id", "featureType": "String"},
        {"featureName": "event_time", "featureType": "Fractional"},
        {"featureName": "age", "featureType": "Integral"},
        {"featureName": "balance", "featureType": "Fractional"},
    ]
    assert customer["recordIdentifierFeatureName"] == "customer_id"
    assert customer["eventTimeFeatureName"] == "event_time"
    assert customer["description"] == "Latest profile per customer"
    assert customer["roleArn"] == f"arn:aws:iam::{ACCOUNT}:role/churn-dev-us-east-1-features-feature-store"


def test_online_store_ttl_and_tier(dev: CapturedStack) -> None:
    online = group_named(dev, "customer").inputs["onlineStoreConfig"]
    assert online["enableOnlineStore"] is True
    assert online["storageType"] == "Standard"
    assert online["ttlDuration"] == {"unit": "Days", "value": 30}
    no_ttl = store_plan(store_args(feature_groups=[customer_group(online_ttl=None)]))
    assert "ttlDuration" not in one(no_ttl, FEATURE_GROUP).inputs["onlineStoreConfig"]


def test_offline_only_group_has_no_online_store(dev: CapturedStack) -> None:
    assert "onlineStoreConfig" not in group_named(dev, "transactions").inputs


def test_online_only_group_has_no_offline_store() -> None:
    stack = store_plan(store_args(feature_groups=[customer_group(offline_store=False)]))
    assert "offlineStoreConfig" not in one(stack, FEATURE_GROUP).inputs


def test_glue_and_iceberg_table_formats(dev: CapturedStack) -> None:
    glue = group_named(dev, "customer").inputs["offlineStoreConfig"]
    iceberg = group_named(dev, "transactions").inputs["offlineStoreConfig"]
    assert glue["tableFormat"] == "Glue"
    assert iceberg["tableFormat"] == "Iceberg"
    for config, table in ((glue, "churn_dev_features_customer"), (iceberg, "churn_dev_features_transactions")):
        assert config["disableGlueTableCreation"] is False
        assert config["dataCatalogConfig"] == {
            "catalog": "AwsDataCatalog",
            "database": "churn_dev_features",
            "tableName": table,
        }
    assert glue["s3StorageConfig"]["s3Uri"] == f"s3://{BUCKET_NAME}/customer"
    assert iceberg["s3StorageConfig"]["s3Uri"] == f"s3://{BUCKET_NAME}/transactions"


def test_store_without_groups_still_builds_its_storage() -> None:
    stack = store_plan({"kms_key_arn": KEY_ARN})
    assert stack.by_type(FEATURE_GROUP) == []
    assert len(stack.by_type(BUCKET)) == 1
    assert len(stack.by_type(DATABASE)) == 1


# --- IAM -------------------------------------------------------------------------------------------


def test_role_trusts_sagemaker_in_this_account_only(dev: CapturedStack) -> None:
    (trust,) = iam_statements(one(dev, ROLE), "assumeRolePolicy")
    assert trust["Principal"] == {"Service": "sagemaker.amazonaws.com"}
    assert trust["Action"] == "sts:AssumeRole"
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT}}


def test_role_policy_is_scoped_to_bucket_key_and_database(dev: CapturedStack) -> None:
    statements = {s["Sid"]: s for s in iam_statements(one(dev, ROLE_POLICY))}
    for sid, statement in statements.items():
        assert statement["Effect"] == "Allow", sid
        assert all("*" not in action for action in statement["Action"]), sid
        assert "*" not in statement["Resource"], sid
    glue = f"arn:aws:glue:us-east-1:{ACCOUNT}"
    assert {sid: s["Resource"] for sid, s in statements.items()} == {
        "OfflineBucket": [BUCKET_ARN],
        "OfflineObjects": [f"{BUCKET_ARN}/*"],
        "EncryptionKey": [KEY_ARN],
        "OfflineTables": [
            f"{glue}:catalog",
            f"{glue}:database/churn_dev_features",
            f"{glue}:table/churn_dev_features/*",
        ],
    }
    assert statements["OfflineObjects"]["Action"] == ["s3:GetObject", "s3:PutObject", "s3:PutObjectAcl"]
    assert "s3:DeleteObject" not in json.dumps(statements)
    assert all(a.startswith("kms:") for a in statements["EncryptionKey"]["Action"])
    assert all(a.startswith("glue:") for a in statements["OfflineTables"]["Action"])
    assert one(dev, ROLE_POLICY).inputs["role"] == one(dev, ROLE).inputs["name"]


# --- conventions: tags and protection --------------------------------------------------------------


@pytest.mark.parametrize("stack_name", ["dev", "prod", "shared_key_prod"])
def test_required_tags_on_every_taggable_resource(stack_name: str, request: pytest.FixtureRequest) -> None:
    stack: CapturedStack = request.getfixturevalue(stack_name)
    assert required_tags_present(stack) == []
    assert one(stack, BUCKET).inputs["tags"]["purpose"] == "feature-store-offline"


def test_stateful_resources_protected_in_prod(shared_key_prod: CapturedStack) -> None:
    stateful = [one(shared_key_prod, BUCKET), one(shared_key_prod, KMS_KEY), one(shared_key_prod, DATABASE)]
    stateful += shared_key_prod.by_type(FEATURE_GROUP)
    assert len(stateful) == 5
    for resource in stateful:
        assert resource.protect and resource.retain_on_delete, resource.urn
    # Configuration children are replaceable; protecting them would only block fixes.
    assert not one(shared_key_prod, BUCKET_POLICY).protect
    assert not one(shared_key_prod, ROLE).protect


def test_nothing_protected_in_dev() -> None:
    stack = store_plan({"feature_groups": [customer_group()]}, environment="dev")
    assert one(stack, KMS_KEY) is not None
    assert [r.urn for r in stack.resources if r.protect or r.retain_on_delete] == []


# --- validation ------------------------------------------------------------------------------------

FEATURES = ("feature_groups", 0, "features")
INVALID_ARGS = [
    pytest.param(
        store_args(feature_groups=[customer_group(entity_key="missing")]),
        ("feature_groups", 0, "entity_key"),
        id="record-identifier-not-a-feature",
    ),
    pytest.param(
        store_args(feature_groups=[customer_group(entity_key="balance")]),
        ("feature_groups", 0, "entity_key"),
        id="record-identifier-fractional",
    ),
    pytest.param(
        store_args(feature_groups=[customer_group(event_time="age")]),
        ("feature_groups", 0, "event_time"),
        id="event-time-integral",
    ),
    pytest.param(
        store_args(
            feature_groups=[customer_group(features=[*customer_group()["features"], {"name": "AGE", "type": "String"}])]
        ),
        FEATURES,
        id="duplicate-feature-names",
    ),
    pytest.param(
        store_args(feature_groups=[customer_group(online=False, offline_store=False, online_ttl=None)]),
        ("feature_groups", 0, "offline_store"),
        id="no-store-enabled",
    ),
    pytest.param(
        store_args(feature_groups=[txn_group(online_ttl={"unit": "Days", "value": 1})]),
        ("feature_groups", 0, "online_ttl"),
        id="ttl-without-online-store",
    ),
    pytest.param(
        store_args(feature_groups=[customer_group(online_ttl={"unit": "Months", "value": 1})]),
        ("feature_groups", 0, "online_ttl", "unit"),
        id="ttl-unit",
    ),
    pytest.param(
        store_args(feature_groups=[customer_group(name="bad_name!")]),
        ("feature_groups", 0, "name"),
        id="bad-group-name",
    ),
    pytest.param(
        store_args(feature_groups=[customer_group(), customer_group(name="Customer")]),
        ("feature_groups",),
        id="duplicate-group-names",
    ),
    pytest.param(
        store_args(feature_groups=[customer_group(features=[{"name": "customer id", "type": "String"}])]),
        (*FEATURES, 0, "name"),
        id="bad-feature-name",
    ),
    pytest.param(
        store_args(feature_groups=[customer_group(features=[{"name": "write_time", "type": "String"}])]),
        (*FEATURES, 0, "name"),
        id="reserved-feature-name",
    ),
    pytest.param(
        store_args(feature_groups=[customer_group(features=[{"name": "x", "type": "Boolean"}])]),
        (*FEATURES, 0, "type"),
        id="unknown-feature-type",
    ),
    pytest.param(
        store_args(
            feature_groups=[
                customer_group(features=[{"name": f"f{i}", "type": "String"} for i in range(MAX_FEATURES + 1)])
            ]
        ),
        FEATURES,
        id="too-many-features",
    ),
    pytest.param(
        store_args(offline_transition_to_ia_days=200, offline_transition_to_glacier_ir_days=210),
        ("offline_transition_to_glacier_ir_days",),
        id="glacier-before-ia-minimum",
    ),
    pytest.param(
        store_args(offline_transition_to_ia_days=10),
        ("offline_transition_to_ia_days",),
        id="ia-before-30-days",
    ),
    pytest.param(store_args(allow_public_access=True), ("allow_public_access",), id="unknown-field"),
    pytest.param(
        store_args(kms_key_arn="arn:aws:kms:us-east-1:123456789012:alias/features"),
        ("kms_key_arn",),
        id="alias-instead-of-key-arn",
    ),
]


@pytest.mark.parametrize(("args", "loc"), INVALID_ARGS)
def test_invalid_args_name_the_field(args: dict[str, Any], loc: tuple[Any, ...]) -> None:
    with pytest.raises(pydantic.ValidationError) as caught:
        FeatureStoreArgs.model_validate(args)
    assert caught.value.errors()[0]["loc"] == loc


@pytest.mark.parametrize(("args", "loc"), INVALID_ARGS[:6])
def test_invalid_args_register_nothing(args: dict[str, Any], loc: tuple[Any, ...]) -> None:
    failures: list[pydantic.ValidationError] = []

    def program() -> None:
        try:
            FeatureStore("features", args)
        except pydantic.ValidationError as exc:
            failures.append(exc)

    stack = plan(program)
    assert len(failures) == 1
    assert stack.resources == []
    # Uncaught, the engine reports a one-paragraph error naming the field path.
    with pytest.raises(ProgramError, match=re.escape(".".join(str(part) for part in loc))):
        plan(lambda: FeatureStore("features", args))


_VALID_FEATURE_NAME = re.compile(FEATURE_NAME_PATTERN)


def _is_invalid_feature_name(name: str) -> bool:
    return _VALID_FEATURE_NAME.fullmatch(name) is None or name.lower() in RESERVED_FEATURE_NAMES


@settings(max_examples=25, deadline=None)
@given(
    st.one_of(
        st.text(max_size=80).filter(_is_invalid_feature_name),
        st.sampled_from(sorted(RESERVED_FEATURE_NAMES)).map(str.upper),
        st.from_regex(r"[a-z][a-z0-9]{64,80}", fullmatch=True),
        st.from_regex(r"[a-z]+[ .$/:]+[a-z]+", fullmatch=True),
    )
)
def test_invalid_feature_names_always_fail_on_that_field(name: str) -> None:
    features = [*customer_group()["features"], {"name": name, "type": "String"}]
    with pytest.raises(pydantic.ValidationError) as caught:
        FeatureStoreArgs.model_validate(store_args(feature_groups=[customer_group(features=features)]))
    assert [error["loc"] for error in caught.value.errors()] == [(*FEATURES, 4, "name")]


# --- SecureBucket on its own (shared with other components) ----------------------------------------


def test_secure_bucket_without_versioning_or_lifecycle() -> None:
    stack = plan(lambda: SecureBucket("data", SecureBucketArgs(purpose="data", kms_key_arn=KEY_ARN, versioning=False)))
    assert stack.by_type(VERSIONING) == []
    assert stack.by_type(LIFECYCLE) == []
    assert one(stack, BUCKET).inputs["bucket"] == f"churn-dev-data-{ACCOUNT}-us-east-1"
    assert len(stack.by_type(SSE)) == len(stack.by_type(PUBLIC_ACCESS_BLOCK)) == len(stack.by_type(BUCKET_POLICY)) == 1


@pytest.mark.parametrize(
    ("fields", "loc"),
    [
        ({"versioning": False, "noncurrent_version_expiration_days": 30}, ("noncurrent_version_expiration_days",)),
        ({"transition_to_ia_days": 60, "transition_to_glacier_ir_days": 61}, ("transition_to_glacier_ir_days",)),
        ({"purpose": "Not A Slug"}, ("purpose",)),
        ({"kms_key_arn": None}, ("kms_key_arn",)),
    ],
)
def test_secure_bucket_invalid_args(fields: dict[str, Any], loc: tuple[str, ...]) -> None:
    with pytest.raises(pydantic.ValidationError) as caught:
        SecureBucketArgs.model_validate({"purpose": "data", "kms_key_arn": KEY_ARN, **fields})
    # A union field (str | Output) reports the member tried after the field name.
    assert caught.value.errors()[0]["loc"][: len(loc)] == loc


# --- the example -----------------------------------------------------------------------------------


def test_example_plans_in_dev() -> None:
    stack = run_program(EXAMPLE, "dev", [])
    assert len(stack.by_type(FEATURE_GROUP)) == 2
    assert required_tags_present(stack) == []
    assert [r.urn for r in stack.resources if r.protect] == []
    groups = stack.outputs["featureGroupNames"]
    assert groups == {
        "customer-profile": "feature-store-dev-churn-features-customer-profile",
        "transactions": "feature-store-dev-churn-features-transactions",
    }
    profile = next(g for g in stack.by_type(FEATURE_GROUP) if g.name.endswith("customer-profile")).inputs
    assert profile["offlineStoreConfig"]["tableFormat"] == "Iceberg"
    assert profile["onlineStoreConfig"]["ttlDuration"] == {"unit": "Days", "value": 365}
    assert stack.outputs["offlineBucketName"].startswith("feature-store-dev-churn-features-offline-store-")


def test_example_plans_in_prod() -> None:
    stack = run_program(EXAMPLE, "prod", ["environment=prod"])
    assert required_tags_present(stack) == []
    assert all(r.inputs["tags"]["environment"] == "prod" for r in stack.by_type(FEATURE_GROUP))
    protected = {r.type for r in stack.resources if r.protect and r.retain_on_delete}
    assert protected == {BUCKET, KMS_KEY, DATABASE, FEATURE_GROUP}
    assert stack.outputs["glueDatabaseName"] == "feature_store_prod_churn_features"
