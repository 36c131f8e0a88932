"""An A/B challenger on the fake Vertex server: its split survives the champion's canary, and retiring it is safe.

The realization declares two deployments on one endpoint, ``primary`` (the champion's model) and
``challenger`` (its own registered model), with one traffic step ``{primary: 100 - p, challenger: p}``.
These tests drive :class:`VertexModelDeploymentProvider` through the updates that matter:

- a moved champion alias rolls out as a canary of the champion's share only, and the challenger keeps its
  percent at every stage (never more, never less);
- retiring the challenger (alone, or together with a champion canary) never raises its share, takes all
  traffic off it before it is undeployed, and leaves no copy of it deployed (no leaked replicas);
- a metric breach during the champion's canary restores the A/B split and undeploys only the canary copy.
"""

import pytest

from mlops_infra.gcp.dynamic.errors import VertexError
from mlops_infra.gcp.dynamic.vertex_deployment import VertexModelDeploymentProvider

pytestmark = [pytest.mark.integration, pytest.mark.filterwarnings("ignore::FutureWarning")]

PREFIX = "projects/acme-ml/locations/us-central1/models/"
CHAMPION = PREFIX + "churn"
CHALLENGER = PREFIX + "churn-scoring-challenger"
ENDPOINT = "projects/acme-ml/locations/us-central1/endpoints/4242424242"
CPU = "aiplatform.googleapis.com/prediction/online/cpu/utilization"


def seed(fake, model, versions):
    """``versions``: version id -> its aliases."""
    fake.models[model] = {
        "versions": {
            v: {"name": model, "versionId": v, "versionAliases": list(a), "displayName": model.rsplit("/", 1)[-1]}
            for v, a in versions.items()
        }
    }


def deployment(key, model, **extra):
    return {
        "key": key,
        "model": model,
        "alias": "champion",
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
def ab(fake_vertex):
    """Champion version 1 and challenger version 7 approved; an 85/15 A/B split created on the endpoint."""
    fake = fake_vertex.fake
    fake.add_endpoint(ENDPOINT)
    seed(fake, CHAMPION, {"1": ["default", "champion"], "2": []})
    seed(fake, CHALLENGER, {"7": ["default", "champion"]})
    props = {
        "project": "acme-ml",
        "region": "us-central1",
        "api_endpoint": fake_vertex.url,
        "endpoint": ENDPOINT,
        "deployments": [deployment("primary", CHAMPION), deployment("challenger", CHALLENGER)],
        "traffic_steps": [{"primary": 85.0, "challenger": 15.0}],
        "required_alias": "champion",
        "step_wait_seconds": 0.0,
        "canary_percentages": [10.0, 50.0, 100.0],
        "timeout_seconds": 30.0,
    }
    provider = VertexModelDeploymentProvider()
    created = provider.create(props)
    return fake, provider, props, created


def promote_champion_2(fake):
    versions = fake.models[CHAMPION]["versions"]
    versions["1"]["versionAliases"].remove("champion")
    versions["2"]["versionAliases"].append("champion")


def test_the_challenger_is_deployed_on_the_same_endpoint_at_its_percent(ab):
    fake, _, _, created = ab
    ids = created.outs["deployed_model_ids"]
    assert created.outs["resolved_models"] == {"primary": f"{CHAMPION}@1", "challenger": f"{CHALLENGER}@7"}
    assert fake.endpoints[ENDPOINT]["trafficSplit"] == {ids["primary"]: 85, ids["challenger"]: 15}
    assert created.outs["traffic_split"] == {"primary": 85, "challenger": 15}
    assert sorted(fake.deployed(ENDPOINT)) == sorted(ids.values())


def test_an_unapproved_challenger_is_refused_in_a_protected_environment(fake_vertex):
    fake = fake_vertex.fake
    fake.add_endpoint(ENDPOINT)
    seed(fake, CHAMPION, {"1": ["default", "champion"]})
    seed(fake, CHALLENGER, {"1": ["default", "challenger"]})  # registered, not yet approved by a reviewer
    props = {
        "project": "acme-ml",
        "region": "us-central1",
        "api_endpoint": fake_vertex.url,
        "endpoint": ENDPOINT,
        "deployments": [deployment("primary", CHAMPION), deployment("challenger", CHALLENGER)],
        "traffic_steps": [{"primary": 90.0, "challenger": 10.0}],
        "required_alias": "champion",
        "canary_percentages": [100.0],
        "timeout_seconds": 30.0,
    }
    with pytest.raises(VertexError, match=r"churn-scoring-challenger@champion does not exist"):
        VertexModelDeploymentProvider().create(props)
    assert "deployModel" not in fake.routes()


def test_the_champion_canary_keeps_the_challenger_share_at_every_stage(ab):
    fake, provider, props, created = ab
    ids = created.outs["deployed_model_ids"]
    promote_champion_2(fake)
    news = {**props, "deployments": [deployment("primary", CHAMPION, revision="2"), props["deployments"][1]]}
    seen = len(fake.history)
    updated = provider.update(created.id, created.outs, news)
    new = updated.outs["deployed_model_ids"]
    assert new["challenger"] == ids["challenger"]  # the challenger copy is kept, not redeployed
    assert new["primary"] != ids["primary"]
    stages = [split for _, split in fake.history[seen:]]
    assert stages == [
        {ids["primary"]: 77, new["primary"]: 8, ids["challenger"]: 15},  # 10 % of the champion's 85
        {ids["primary"]: 43, new["primary"]: 42, ids["challenger"]: 15},
        {new["primary"]: 85, ids["challenger"]: 15},
    ]
    assert sorted(fake.deployed(ENDPOINT)) == sorted(new.values())  # the old champion copy is undeployed
    assert fake.routes().count("deployModel") == 3  # champion 1, challenger, champion 2


def test_retiring_the_challenger_takes_traffic_off_before_undeploying_it(ab):
    fake, provider, props, created = ab
    ids = created.outs["deployed_model_ids"]
    news = {**props, "deployments": [props["deployments"][0]], "traffic_steps": [{"primary": 100.0}]}
    seen = len(fake.history)
    updated = provider.update(created.id, created.outs, news)
    assert [split for _, split in fake.history[seen:]] == [{ids["primary"]: 100}]
    undeploy_at = next(i for i, (_, route, _) in enumerate(fake.requests) if route == "undeployModel")
    last_split_at = max(i for i, (_, route, _) in enumerate(fake.requests) if route == "updateEndpoint")
    assert last_split_at < undeploy_at
    assert fake.deployed(ENDPOINT) == [ids["primary"]]
    assert updated.outs["deployed_model_ids"] == {"primary": ids["primary"]}


def test_retiring_the_challenger_during_a_champion_canary_never_raises_its_share(ab):
    fake, provider, props, created = ab
    ids = created.outs["deployed_model_ids"]
    promote_champion_2(fake)
    news = {
        **props,
        "deployments": [deployment("primary", CHAMPION, revision="2")],
        "traffic_steps": [{"primary": 100.0}],
    }
    seen = len(fake.history)
    updated = provider.update(created.id, created.outs, news)
    new_primary = updated.outs["deployed_model_ids"]["primary"]
    shares = [split.get(ids["challenger"], 0) for _, split in fake.history[seen:]]
    assert all(share <= 15 for share in shares) and shares[-1] == 0
    assert fake.endpoints[ENDPOINT]["trafficSplit"] == {new_primary: 100}
    assert fake.deployed(ENDPOINT) == [new_primary]  # old champion and challenger: no replica left behind
    assert fake.errors == []


def test_a_breach_in_the_champion_canary_restores_the_ab_split(ab, fake_vertex):
    fake, provider, props, created = ab
    ids = created.outs["deployed_model_ids"]
    # An 8 % canary serves 80 of the fake's 1000 predictions per window: judged from 50 on.
    gate = {"error_rate_percent": 1.0, "p95_latency_ms": 300.0, "min_requests": 50.0, "monitoring_api": fake_vertex.url}
    fake.set_version_health("2", 0.05, 120.0)  # champion version 2 fails 5 % of its requests
    promote_champion_2(fake)
    news = {
        **props,
        "rollback_metrics": gate,
        "deployments": [deployment("primary", CHAMPION, revision="2"), props["deployments"][1]],
    }
    with pytest.raises(VertexError, match=r"traffic stage 1/3 .*error rate 5.00% > 1%.*rolled back"):
        provider.update(created.id, {**created.outs, "rollback_metrics": gate}, news)
    assert fake.endpoints[ENDPOINT]["trafficSplit"] == {ids["primary"]: 85, ids["challenger"]: 15}
    assert sorted(fake.deployed(ENDPOINT)) == sorted(ids.values())  # only the canary copy was undeployed


def test_delete_undeploys_champion_and_challenger(ab):
    fake, provider, _, created = ab
    provider.delete(created.id, created.outs)
    assert fake.endpoints[ENDPOINT] == {"name": ENDPOINT, "deployedModels": [], "trafficSplit": {}}
