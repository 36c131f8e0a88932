"""FeatureStore: CMEK offline store, feature groups over BigQuery, private online store, synced views."""

import pydantic
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlops_infra.engine import ProgramError
from mlops_infra.gcp import FeatureStore, FeatureStoreArgs
from mlops_infra.testing import child_resources, one, required_tags_present

GROUP = {
    "name": "customer",
    "table": "customer_features",
    "entity_id_columns": ["customer_id"],
    "columns": [
        {"name": "customer_id", "type": "STRING", "mode": "REQUIRED"},
        {"name": "event_time", "type": "TIMESTAMP"},
        {"name": "tenure_months", "type": "INT64"},
        {"name": "monthly_charges", "type": "FLOAT64"},
        {"name": "churned", "type": "BOOL"},
    ],
    "partition_column": "event_time",
    "features": [{"name": "tenure_months"}, {"name": "monthly_charges"}, {"name": "churned"}],
}
VIEW = {
    "name": "serving",
    "features": {"customer": ["tenure_months", "monthly_charges"]},
    "schedule": {"cron": "0 * * * *"},
}
KEY = "projects/acme-ml/locations/us-central1/keyRings/churn-dev-platform/cryptoKeys/churn-dev-platform"


def store(**overrides):
    return lambda: FeatureStore("features", {"feature_groups": [GROUP], "feature_views": [VIEW], **overrides})


def test_offline_store_is_a_cmek_dataset_the_vertex_agent_can_read(gcp_plan):
    stack = gcp_plan(store())
    dataset = one(stack, "gcp:bigquery/dataset:Dataset")
    assert dataset.inputs["datasetId"] == "churn_dev_features"
    assert dataset.inputs["location"] == "us-central1"
    assert dataset.inputs["defaultEncryptionConfiguration"] == {"kmsKeyName": KEY}
    bq_grant = next(
        g for g in stack.by_type("gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember") if "bq-" in g.inputs["member"]
    )
    assert bq_grant.urn in dataset.dependencies
    reader = one(stack, "gcp:bigquery/datasetIamMember:DatasetIamMember")
    assert reader.inputs["role"] == "roles/bigquery.dataViewer"
    assert "gcp-sa-aiplatform" in reader.inputs["member"]


def test_source_table_and_feature_group(gcp_plan):
    stack = gcp_plan(store())
    table = one(stack, "gcp:bigquery/table:Table")
    assert table.inputs["tableId"] == "customer_features"
    assert table.inputs["encryptionConfiguration"] == {"kmsKeyName": KEY}
    assert table.inputs["timePartitioning"] == {"type": "DAY", "field": "event_time"}
    assert table.inputs["deletionProtection"] is True
    group = one(stack, "gcp:vertex/aiFeatureGroup:AiFeatureGroup")
    assert group.inputs["name"] == "churn_dev_customer"
    assert group.inputs["bigQuery"] == {
        "bigQuerySource": {"inputUri": "bq://acme-ml.churn_dev_features.customer_features"},
        "entityIdColumns": ["customer_id"],
    }
    assert table.urn in group.dependencies
    features = {
        f.inputs["name"]: f.inputs for f in stack.by_type("gcp:vertex/aiFeatureGroupFeature:AiFeatureGroupFeature")
    }
    assert set(features) == {"tenure_months", "monthly_charges", "churned"}
    assert all(f["featureGroup"] == "churn_dev_customer" and f["region"] == "us-central1" for f in features.values())
    assert features["churned"]["versionColumnName"] == "churned"


def test_online_store_is_private_by_default_with_cmek(gcp_plan):
    stack = gcp_plan(store())
    online = one(stack, "gcp:vertex/aiFeatureOnlineStore:AiFeatureOnlineStore")
    assert online.inputs["optimized"] == {}
    assert online.inputs["encryptionSpec"] == {"kmsKeyName": KEY}
    assert online.inputs["dedicatedServingEndpoint"] == {
        "privateServiceConnectConfig": {"enablePrivateServiceConnect": True, "projectAllowlists": ["acme-ml"]}
    }
    vertex_grant = next(
        g for g in stack.by_type("gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember") if "aiplatform" in g.inputs["member"]
    )
    assert vertex_grant.urn in online.dependencies


def test_public_online_endpoint_needs_an_explicit_opt_in(gcp_plan):
    stack = gcp_plan(store(online_store={"allow_public_endpoint": True}))
    online = one(stack, "gcp:vertex/aiFeatureOnlineStore:AiFeatureOnlineStore")
    assert online.inputs["dedicatedServingEndpoint"]["privateServiceConnectConfig"] == {
        "enablePrivateServiceConnect": False
    }
    assert online.inputs["labels"]["mlops-infra_allow-public"] == "true"


def test_bigtable_store_autoscales_within_bounds(gcp_plan):
    stack = gcp_plan(
        store(online_store={"storage": "bigtable", "min_nodes": 2, "max_nodes": 6, "cpu_utilization_target": 60})
    )
    online = one(stack, "gcp:vertex/aiFeatureOnlineStore:AiFeatureOnlineStore")
    assert online.inputs["bigtable"] == {
        "autoScaling": {"minNodeCount": 2, "maxNodeCount": 6, "cpuUtilizationTarget": 60}
    }
    assert "optimized" not in online.inputs


def test_feature_view_sync_reads_the_cron_in_its_time_zone(gcp_plan):
    berlin = {**VIEW, "schedule": {"cron": "30 2 * * *", "time_zone": "Europe/Berlin"}}
    stack = gcp_plan(store(feature_views=[berlin]))
    view = one(stack, "gcp:vertex/aiFeatureOnlineStoreFeatureview:AiFeatureOnlineStoreFeatureview")
    assert view.inputs["syncConfig"] == {"cron": "TZ=Europe/Berlin 30 2 * * *"}


def test_feature_view_syncs_registry_features_on_a_cron(gcp_plan):
    stack = gcp_plan(store())
    view = one(stack, "gcp:vertex/aiFeatureOnlineStoreFeatureview:AiFeatureOnlineStoreFeatureview")
    assert view.inputs["featureOnlineStore"] == "churn_dev_online"
    assert view.inputs["syncConfig"] == {"cron": "0 * * * *"}
    assert view.inputs["featureRegistrySource"] == {
        "featureGroups": [{"featureGroupId": "churn_dev_customer", "featureIds": ["tenure_months", "monthly_charges"]}]
    }
    feature_urns = {
        f.urn
        for f in stack.by_type("gcp:vertex/aiFeatureGroupFeature:AiFeatureGroupFeature")
        if f.inputs["name"] != "churned"
    }
    assert feature_urns <= set(view.dependencies)


def test_staging_bucket_labels_parents_and_prod_protection(gcp_plan):
    stack = gcp_plan(store(), environment="prod")
    component = one(stack, "mlops-infra:gcp:FeatureStore")
    below = {r.type for r in child_resources(stack, component.urn)}
    assert {
        "gcp:storage/bucket:Bucket",
        "gcp:vertex/aiFeatureGroup:AiFeatureGroup",
        "mlops-infra:gcp:SecureBucket",
    } <= below
    assert required_tags_present(stack) == []
    for token in (
        "gcp:bigquery/dataset:Dataset",
        "gcp:bigquery/table:Table",
        "gcp:vertex/aiFeatureGroup:AiFeatureGroup",
        "gcp:vertex/aiFeatureOnlineStore:AiFeatureOnlineStore",
        "gcp:storage/bucket:Bucket",
    ):
        assert one(stack, token).protect, token
    bucket = one(stack, "gcp:storage/bucket:Bucket")
    assert bucket.inputs["name"] == "churn-prod-features-staging"
    assert bucket.inputs["publicAccessPrevention"] == "enforced"


def test_existing_table_is_not_created(gcp_plan):
    group = {k: v for k, v in GROUP.items() if k not in ("columns", "partition_column")}
    stack = gcp_plan(lambda: FeatureStore("features", {"feature_groups": [group], "online_store": None}))
    assert stack.by_type("gcp:bigquery/table:Table") == []
    assert stack.by_type("gcp:vertex/aiFeatureOnlineStore:AiFeatureOnlineStore") == []


@pytest.mark.parametrize(
    ("change", "location", "fragment"),
    [
        ({"feature_views": [{**VIEW, "features": {"orders": ["x"]}}]}, (), "unknown feature group 'orders'"),
        ({"feature_views": [{**VIEW, "features": {"customer": ["age"]}}]}, (), "has no features ['age']"),
        (
            {"feature_views": [{**VIEW, "schedule": {"cron": "hourly"}}]},
            ("feature_views", 0, "schedule", "cron"),
            "5 fields",
        ),
        (
            {"feature_views": [{**VIEW, "schedule": {"cron": "99 99 * * *"}}]},
            ("feature_views", 0, "schedule", "cron"),
            "outside 0-59",
        ),
        (
            {"feature_views": [{**VIEW, "schedule": {"cron": "0 * * * *", "time_zone": "Mars/Olympus"}}]},
            ("feature_views", 0, "schedule", "time_zone"),
            "IANA",
        ),
        ({"online_store": {"allow_public_endpoint": 1}}, ("online_store", "allow_public_endpoint"), "boolean"),
        ({"online_store": {"storage": "bigtable", "min_nodes": 1, "max_nodes": 20}}, ("online_store",), "10 x"),
        ({"feature_groups": [{**GROUP, "entity_id_columns": ["id"]}]}, ("feature_groups", 0), "['id']"),
        ({"feature_groups": [{**GROUP, "name": "Customer"}]}, ("feature_groups", 0, "name"), "pattern"),
    ],
)
def test_invalid_settings_fail_naming_the_field(change, location, fragment):
    with pytest.raises(pydantic.ValidationError) as info:
        FeatureStoreArgs.model_validate(
            {"region": "us-central1", "feature_groups": [GROUP], "feature_views": [VIEW], **change}
        )
    error = info.value.errors()[0]
    assert error["loc"] == location
    assert fragment in error["msg"]


def test_invalid_settings_register_nothing(gcp_plan):
    with pytest.raises(ProgramError, match="feature_groups"):
        gcp_plan(lambda: FeatureStore("features", {"feature_groups": []}))


@settings(max_examples=25, deadline=None)
@given(
    name=st.text(min_size=1, max_size=70).filter(
        lambda s: not s.isascii() or not s[:1].islower() or len(s) > 60 or not s.replace("_", "").isalnum()
    )
)
def test_invalid_feature_names_always_name_the_field(name):
    group = {**GROUP, "features": [{"name": name}], "columns": None}
    with pytest.raises(pydantic.ValidationError) as info:
        FeatureStoreArgs.model_validate({"region": "us-central1", "feature_groups": [group]})
    assert info.value.errors()[0]["loc"][:3] == ("feature_groups", 0, "features")
