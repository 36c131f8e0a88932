"""VertexModelDeployment provider against the fake Vertex REST server: deploy, step, canary, rollback, delete."""

import json

import pytest

from mlops_infra.gcp.dynamic.errors import VertexError
from mlops_infra.gcp.dynamic.vertex_deployment import VertexModelDeploymentProvider, canary_split, deployed_model_body

pytestmark = [pytest.mark.integration, pytest.mark.filterwarnings("ignore::FutureWarning")]

MODEL = "projects/acme-ml/locations/us-central1/models/churn"
ENDPOINT = "projects/acme-ml/locations/us-central1/endpoints/4242424242"
CPU = "aiplatform.googleapis.com/prediction/online/cpu/utilization"


def seed_model(fake, *alias_sets):
    """A model whose version i+1 carries alias_sets[i]."""
    fake.models[MODEL] = {
        "versions": {
            str(i + 1): {
                "name": MODEL,
                "versionId": str(i + 1),
                "versionAliases": list(aliases),
                "displayName": "churn",
            }
            for i, aliases in enumerate(alias_sets)
        }
    }


def deployment(key, alias="champion", **extra):
    return {
        "key": key,
        "model": MODEL,
        "alias": alias,
        "version": None,
        "revision": None,
        "machine_type": "n1-standard-4",
        "accelerator_type": None,
        "accelerator_count": 0.0,
        "min_replica_count": 1.0,
        "max_replica_count": 3.0,
        "autoscaling_metric_specs": [{"metric_name": CPU, "target": 60.0}],
        "service_account": None,
        **extra,
    }


@pytest.fixture
def props(fake_vertex):
    fake_vertex.fake.add_endpoint(ENDPOINT)
    return {
        "project": "acme-ml",
        "region": "us-central1",
        "api_endpoint": fake_vertex.url,
        "endpoint": ENDPOINT,
        "deployments": [deployment("blue")],
        "traffic_steps": [{"blue": 100.0}],
        "required_alias": "champion",
        "step_wait_seconds": 0.0,
        "canary_percentages": [10.0, 50.0, 100.0],
        "timeout_seconds": 30.0,
    }


def splits(fake):
    return [
        body.get("trafficSplit", {}) for _, route, body in fake.requests if route == "updateEndpoint"
    ]  # {} is omitted


def test_create_deploys_each_version_then_applies_the_steps_in_order(fake_vertex, props):
    fake = fake_vertex.fake
    seed_model(fake, ["default", "champion"], ["challenger"])
    props = {
        **props,
        "deployments": [deployment("blue"), deployment("green", alias="challenger", min_replica_count=2.0)],
        "traffic_steps": [{"blue": 90.0, "green": 10.0}, {"blue": 50.0, "green": 50.0}, {"green": 100.0}],
        "required_alias": None,
    }
    result = VertexModelDeploymentProvider().create(props)
    ids = result.outs["deployed_model_ids"]
    assert result.id == f"{ENDPOINT}/deployedModels"
    assert result.outs["resolved_models"] == {"blue": f"{MODEL}@1", "green": f"{MODEL}@2"}
    assert splits(fake) == [
        {ids["blue"]: 90, ids["green"]: 10},
        {ids["blue"]: 50, ids["green"]: 50},
        {ids["green"]: 100},
    ]
    assert result.outs["traffic_split"] == {"blue": 0, "green": 100}
    assert fake.endpoints[ENDPOINT]["trafficSplit"] == {ids["green"]: 100}
    deploys = [body for _, route, body in fake.requests if route == "deployModel"]
    assert [d["deployedModel"]["model"] for d in deploys] == [f"{MODEL}@1", f"{MODEL}@2"]
    assert deploys[1]["deployedModel"]["dedicatedResources"] == {
        "machineSpec": {"machineType": "n1-standard-4"},
        "minReplicaCount": 2,
        "maxReplicaCount": 3,
        "autoscalingMetricSpecs": [{"metricName": CPU, "target": 60}],
    }
    assert "trafficSplit" not in deploys[0]  # traffic moves only through the declared steps
    assert fake.errors == []


def test_accelerators_reach_the_machine_spec(fake_vertex, props):
    seed_model(fake_vertex.fake, ["default", "champion"])
    props = {**props, "deployments": [deployment("blue", accelerator_type="NVIDIA_TESLA_T4", accelerator_count=1.0)]}
    VertexModelDeploymentProvider().create(props)
    deploy = next(body for _, route, body in fake_vertex.fake.requests if route == "deployModel")
    machine = deploy["deployedModel"]["dedicatedResources"]["machineSpec"]
    assert machine["machineType"] == "n1-standard-4" and machine["acceleratorCount"] == 1
    assert machine["acceleratorType"] in (5, "NVIDIA_TESLA_T4")


def test_unapproved_version_is_refused_before_anything_is_deployed(fake_vertex, props):
    fake = fake_vertex.fake
    seed_model(fake, ["default", "challenger"])
    props = {**props, "deployments": [deployment("blue", alias="challenger")]}
    with pytest.raises(VertexError, match=r"models/churn@1 is not approved .* lacks the 'champion' alias"):
        VertexModelDeploymentProvider().create(props)
    assert "deployModel" not in fake.routes()
    assert fake.endpoints[ENDPOINT]["deployedModels"] == []


def test_missing_version_is_named(fake_vertex, props):
    seed_model(fake_vertex.fake, ["default"])
    with pytest.raises(VertexError, match=r"model version .*models/churn@champion does not exist"):
        VertexModelDeploymentProvider().create(props)


def test_moved_alias_rolls_out_as_a_canary_and_retires_the_old_version(fake_vertex, props):
    fake = fake_vertex.fake
    seed_model(fake, ["default", "champion"], [])
    provider = VertexModelDeploymentProvider()
    created = provider.create(props)
    old_id = created.outs["deployed_model_ids"]["blue"]
    # Promote version 2: the alias moves, and the model's revision changes in the stack.
    fake.models[MODEL]["versions"]["1"]["versionAliases"].remove("champion")
    fake.models[MODEL]["versions"]["2"]["versionAliases"].append("champion")
    news = {**props, "deployments": [deployment("blue", revision="2")]}
    assert provider.diff(created.id, created.outs, news).changes
    updated = provider.update(created.id, created.outs, news)
    new_id = updated.outs["deployed_model_ids"]["blue"]
    assert new_id != old_id
    assert splits(fake)[1:] == [
        {new_id: 10, old_id: 90},
        {new_id: 50, old_id: 50},
        {new_id: 100},
    ]
    assert [d["id"] for d in fake.endpoints[ENDPOINT]["deployedModels"]] == [new_id]
    assert updated.outs["resolved_models"] == {"blue": f"{MODEL}@2"}
    assert fake.errors == []


def test_replica_changes_mutate_in_place(fake_vertex, props):
    fake = fake_vertex.fake
    seed_model(fake, ["default", "champion"])
    provider = VertexModelDeploymentProvider()
    created = provider.create(props)
    news = {**props, "deployments": [deployment("blue", min_replica_count=2.0, max_replica_count=8.0)]}
    updated = provider.update(created.id, created.outs, news)
    assert updated.outs["deployed_model_ids"] == created.outs["deployed_model_ids"]
    assert fake.routes().count("deployModel") == 1
    mutate = next(body for _, route, body in fake.requests if route == "mutateDeployedModel")
    assert set(mutate["updateMask"].split(",")) == {
        "dedicatedResources.minReplicaCount",
        "dedicatedResources.maxReplicaCount",
        "dedicatedResources.autoscalingMetricSpecs",
    }
    stored = fake.endpoints[ENDPOINT]["deployedModels"][0]["dedicatedResources"]
    assert (stored["minReplicaCount"], stored["maxReplicaCount"]) == (2, 8)


def promote_version_2(fake):
    fake.models[MODEL]["versions"]["1"]["versionAliases"].remove("champion")
    fake.models[MODEL]["versions"]["2"]["versionAliases"].append("champion")


def test_an_api_failure_stops_where_it_stands_and_the_retry_finishes(fake_vertex, props):
    fake = fake_vertex.fake
    seed_model(fake, ["default", "champion"], ["challenger"])
    provider = VertexModelDeploymentProvider()
    created = provider.create({**props, "required_alias": None})
    old_id = created.outs["deployed_model_ids"]["blue"]
    news = {
        **props,
        "required_alias": None,
        "deployments": [deployment("blue"), deployment("green", alias="challenger")],
        "traffic_steps": [{"blue": 90.0, "green": 10.0}, {"green": 100.0}],
    }
    fake.fail("updateEndpoint", 3)  # create used call 1; the update's first step is call 2, the second is 3
    with pytest.raises(VertexError, match=r"setting the traffic split .* failed: INTERNAL"):
        provider.update(created.id, created.outs, news)
    green = next(i for i in fake.deployed(ENDPOINT) if i != old_id)
    assert fake.endpoints[ENDPOINT]["trafficSplit"] == {old_id: 90, green: 10}  # no traffic moved back
    retried = provider.update(created.id, created.outs, news)  # Pulumi kept the old outputs
    assert retried.outs["deployed_model_ids"] == {"blue": old_id, "green": green}  # the copy is adopted
    assert splits(fake)[-1] == {green: 100}
    assert fake.routes().count("deployModel") == 2


def test_defect_1_a_failed_undeploy_never_sends_traffic_back_to_the_retired_version(fake_vertex, props):
    fake = fake_vertex.fake
    seed_model(fake, ["default", "champion"], [])
    provider = VertexModelDeploymentProvider()
    created = provider.create(props)
    old_id = created.outs["deployed_model_ids"]["blue"]
    promote_version_2(fake)
    news = {**props, "deployments": [deployment("blue", revision="2")]}
    fake.fail("undeployModel", 1)
    with pytest.raises(VertexError, match="undeploying"):
        provider.update(created.id, created.outs, news)
    new_id = next(i for i in fake.deployed(ENDPOINT) if i != old_id)
    seen = len(fake.history)
    retried = provider.update(created.id, created.outs, news)
    assert all(old_id not in split for _, split in fake.history[seen:])
    assert retried.outs["deployed_model_ids"] == {"blue": new_id}
    assert fake.deployed(ENDPOINT) == [new_id]
    assert fake.endpoints[ENDPOINT]["trafficSplit"] == {new_id: 100}
    assert fake.routes().count("deployModel") == 2  # the first new copy is adopted, not deployed again


def test_delete_moves_traffic_off_and_undeploys(fake_vertex, props):
    fake = fake_vertex.fake
    seed_model(fake, ["default", "champion"])
    provider = VertexModelDeploymentProvider()
    created = provider.create(props)
    live = provider.read(created.id, created.outs)
    assert live.outs["traffic_split"] == {"blue": 100}
    provider.delete(created.id, created.outs)
    assert fake.endpoints[ENDPOINT] == {"name": ENDPOINT, "deployedModels": [], "trafficSplit": {}}
    assert splits(fake)[-1] == {}
    provider.delete(created.id, created.outs)  # idempotent: nothing left to undeploy
    fake.endpoints.clear()
    assert provider.read(created.id, created.outs).id is None


def test_check_and_diff(props):
    provider = VertexModelDeploymentProvider()
    failures = provider.check({}, {**props, "traffic_steps": [{"blue": 60.0}]}).failures
    assert [f.property for f in failures] == ["traffic_steps"]
    assert "sums to 60, not 100" in failures[0].reason
    assert provider.diff("x", props, {**props, "endpoint": "projects/p/locations/l/endpoints/2"}).replaces == [
        "endpoint"
    ]
    assert provider.diff("x", props, dict(props)).changes is False


def test_canary_split_keeps_whole_percentages():
    split = canary_split({"blue": 70, "green": 30}, {"blue": "1", "green": "2"}, {"blue": "3"}, 10)
    assert split == {"3": 7, "1": 63, "2": 30}
    assert sum(split.values()) == 100


def gate(fake_vertex, **extra):
    return {"error_rate_percent": 1.0, "p95_latency_ms": 300.0, "monitoring_api": fake_vertex.url, **extra}


def series_queries(fake):
    return [query for _, route, query in fake.requests if route == "listTimeSeries"]


def test_the_canary_is_judged_on_its_own_requests_and_rolled_back(fake_vertex, props):
    fake = fake_vertex.fake
    seed_model(fake, ["default", "champion"], [])
    provider = VertexModelDeploymentProvider()
    gated = {**props, "rollback_metrics": gate(fake_vertex)}
    created = provider.create(gated)
    old_id = created.outs["deployed_model_ids"]["blue"]
    first = series_queries(fake)[0]
    assert first["filter"] == (
        'resource.type = "aiplatform.googleapis.com/Endpoint" AND resource.labels.endpoint_id = "4242424242" '
        'AND metric.type = "aiplatform.googleapis.com/prediction/online/prediction_count" '
        f'AND metric.labels.deployed_model_id = "{old_id}"'
    )
    assert first["aggregation.perSeriesAligner"] == "ALIGN_DELTA"
    promote_version_2(fake)
    # Version 2 fails 5 % of its requests: 0.5 % of the endpoint's at a 10 % canary, under the 1 % threshold.
    fake.set_version_health("2", 0.05, 120.0)
    news = {**gated, "deployments": [deployment("blue", revision="2")]}
    with pytest.raises(VertexError, match=r"traffic stage 1/3 .*error rate 5.00% > 1%.*rolled back to \{'" + old_id):
        provider.update(created.id, created.outs, news)
    assert fake.endpoints[ENDPOINT]["trafficSplit"] == {old_id: 100}
    assert fake.deployed(ENDPOINT) == [old_id]
    canary_id = next(i for _, s in fake.history for i in s if i != old_id)
    assert all(f'deployed_model_id = "{canary_id}"' in q["filter"] for q in series_queries(fake)[3:])


def test_p95_latency_breach(fake_vertex, props):
    fake = fake_vertex.fake
    seed_model(fake, ["default", "champion"])
    fake.set_version_health("1", 0.0, 450.0)
    with pytest.raises(VertexError, match=r"p95 latency 450 ms > 300 ms; traffic was rolled back to no traffic"):
        VertexModelDeploymentProvider().create({**props, "rollback_metrics": gate(fake_vertex)})
    assert fake.deployed(ENDPOINT) == []
    latency = series_queries(fake)[-1]
    assert latency["aggregation.perSeriesAligner"] == "ALIGN_PERCENTILE_95"
    assert latency["aggregation.alignmentPeriod"] == "60s"


def test_not_enough_requests_fails_a_protected_stage_and_promotes_elsewhere(fake_vertex, props):
    fake = fake_vertex.fake
    seed_model(fake, ["default", "champion"])
    fake.requests_per_window = 40  # under the default minimum of 100 predictions
    provider = VertexModelDeploymentProvider()
    with pytest.raises(VertexError, match=r"not enough data \(40 predictions < 100 in 60 s\)"):
        provider.create({**props, "rollback_metrics": gate(fake_vertex)})  # required_alias: protected
    assert fake.deployed(ENDPOINT) == []
    created = provider.create({**props, "required_alias": None, "rollback_metrics": gate(fake_vertex)})
    assert fake.deployed(ENDPOINT) == list(created.outs["deployed_model_ids"].values())
    provider.delete(created.id, created.outs)
    lowered = gate(fake_vertex, min_requests=20.0)
    assert provider.create({**props, "rollback_metrics": lowered}).outs["traffic_split"] == {"blue": 100}
    with pytest.raises(ValueError, match="insufficient_data must be one of"):
        provider.create({**props, "rollback_metrics": gate(fake_vertex, insufficient_data="maybe")})


SERVED = {
    "key": "blue",
    "model": "projects/p/locations/r/models/churn",
    "machine_type": "n1-standard-4",
    "accelerator_type": "NVIDIA_TESLA_T4",
    "accelerator_count": 1,
    "min_replica_count": 2,
    "max_replica_count": 5,
    "autoscaling_metric_specs": [
        {"metric_name": "aiplatform.googleapis.com/prediction/online/cpu/utilization", "target": 70}
    ],
    "service_account": "serve@p.iam.gserviceaccount.com",
}


def test_the_rest_body_is_the_deployed_model_the_dynamic_resource_sends():
    from google.cloud.aiplatform_v1 import types

    from mlops_infra.gcp.dynamic.vertex_deployment import _dedicated_resources, deployed_display_name

    sent = types.DeployedModel(
        model="projects/p/locations/r/models/churn@3",
        display_name=deployed_display_name(SERVED),
        dedicated_resources=_dedicated_resources(SERVED),
        service_account=SERVED["service_account"],
    )
    expected = types.DeployedModel.to_dict(sent, preserving_proto_field_name=False)
    ours = types.DeployedModel.to_dict(
        types.DeployedModel.from_json(json.dumps(deployed_model_body(SERVED, "projects/p/locations/r/models/churn@3"))),
        preserving_proto_field_name=False,
    )
    assert ours == expected
