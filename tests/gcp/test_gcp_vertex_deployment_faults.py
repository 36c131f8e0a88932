"""Fault injection for VertexModelDeployment: fail every call of create, update and delete, then retry.

For each scenario a clean run first counts the calls the fake server receives (N). Then, for
every n in 1..N and both failure modes (the call fails before its effect, or takes effect and
its answer is lost), a fresh fake runs the operation with request n failing, retries it with
the same inputs (after a failed update Pulumi keeps the previous outputs, so the retry gets
them again), and checks: the split is the declared one, every deployed model is in state, no
orphan copy remains, traffic never moved back to a version being retired, and destroy leaves
nothing deployed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from fake_vertex_server import FakeVertex, FakeVertexServer

from mlops_infra.gcp.dynamic.errors import VertexError
from mlops_infra.gcp.dynamic.vertex_deployment import VertexModelDeploymentProvider

pytestmark = [pytest.mark.integration, pytest.mark.filterwarnings("ignore::FutureWarning")]

MODEL = "projects/acme-ml/locations/us-central1/models/churn"
ENDPOINT = "projects/acme-ml/locations/us-central1/endpoints/4242424242"
CPU = "aiplatform.googleapis.com/prediction/online/cpu/utilization"
MODES = ("before", "after")


def deployment(key: str, alias: str = "champion", **extra: Any) -> dict[str, Any]:
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


def base_props(url: str, **extra: Any) -> dict[str, Any]:
    return {
        "project": "acme-ml",
        "region": "us-central1",
        "api_endpoint": url,
        "endpoint": ENDPOINT,
        "deployments": [deployment("blue")],
        "traffic_steps": [{"blue": 100.0}],
        "required_alias": None,
        "step_wait_seconds": 0.0,
        "canary_percentages": [100.0],
        "timeout_seconds": 30.0,
        **extra,
    }


def seed(fake: FakeVertex) -> None:
    """Version 1 is the champion (and ``blue``), version 2 the challenger (and ``green``)."""
    fake.add_endpoint(ENDPOINT)
    fake.models[MODEL] = {
        "versions": {
            v: {"name": MODEL, "versionId": v, "versionAliases": aliases, "displayName": "churn"}
            for v, aliases in (("1", ["default", "champion", "blue"]), ("2", ["challenger", "green"]))
        }
    }


def promote(fake: FakeVertex) -> None:
    fake.models[MODEL]["versions"]["1"]["versionAliases"].remove("champion")
    fake.models[MODEL]["versions"]["2"]["versionAliases"].append("champion")


@dataclass
class Scenario:
    """``setup(fake, url)`` returns the prior outputs (or None); ``news(url)`` the declared inputs."""

    name: str
    setup: Callable[[FakeVertex, str], dict[str, Any] | None]
    news: Callable[[str], dict[str, Any]]
    operation: str  # create, update or delete


def _create_two(fake: FakeVertex, url: str) -> dict[str, Any]:
    props = base_props(
        url,
        deployments=[deployment("blue", alias="blue"), deployment("red", alias="blue")],
        traffic_steps=[{"blue": 50.0, "red": 50.0}],
    )
    return dict(VertexModelDeploymentProvider().create(props).outs)


def _create_blue(fake: FakeVertex, url: str) -> dict[str, Any]:
    outs = dict(VertexModelDeploymentProvider().create(_canary_news(url)).outs)
    promote(fake)
    return outs


def _canary_news(url: str) -> dict[str, Any]:
    gate = {"error_rate_percent": 1.0, "p95_latency_ms": 300.0, "monitoring_api": url}
    return base_props(url, required_alias="champion", canary_percentages=[10.0, 50.0, 100.0], rollback_metrics=gate)


SCENARIOS = [
    Scenario(
        "create: two versions, three steps",
        lambda fake, url: None,
        lambda url: base_props(
            url,
            deployments=[deployment("blue"), deployment("green", alias="challenger")],
            traffic_steps=[{"blue": 90.0, "green": 10.0}, {"blue": 50.0, "green": 50.0}, {"green": 100.0}],
        ),
        "create",
    ),
    Scenario(
        "update: moved alias, 3-stage canary gated on metrics",
        _create_blue,
        _canary_news,
        "update",
    ),
    Scenario(
        "update: add green, retire red, resize blue, two steps",
        _create_two,
        lambda url: base_props(
            url,
            deployments=[deployment("blue", alias="blue", min_replica_count=2.0), deployment("green", alias="green")],
            traffic_steps=[{"blue": 90.0, "green": 10.0}, {"blue": 50.0, "green": 50.0}],
        ),
        "update",
    ),
    Scenario("delete: two versions", _create_two, lambda url: {}, "delete"),
]


def _run(
    provider: VertexModelDeploymentProvider, scenario: Scenario, olds: dict[str, Any] | None, news: dict[str, Any]
) -> dict[str, Any] | None:
    if scenario.operation == "create":
        return dict(provider.create(news).outs)
    if scenario.operation == "update":
        assert olds is not None
        return dict(provider.update(f"{ENDPOINT}/deployedModels", olds, news).outs)
    assert olds is not None
    provider.delete(f"{ENDPOINT}/deployedModels", olds)
    return None


def _shares(split: dict[str, int], ids: set[str]) -> int:
    return sum(v for k, v in split.items() if k in ids)


def _check_forward(fake: FakeVertex, start: int, olds: dict[str, Any] | None, final_ids: set[str]) -> list[str]:
    """Every split since ``start``: each retired copy's share never grows, the new copies' never shrinks."""
    problems = []
    old_ids = set((olds or {}).get("deployed_model_ids", {}).values())
    retired = old_ids - final_ids
    incoming = final_ids - old_ids
    splits = [split for _, split in fake.history[start:]]
    previous = next((split for _, split in reversed(fake.history[:start])), {})
    for split in splits:
        for deployed_id in retired:
            if split.get(deployed_id, 0) > previous.get(deployed_id, 0):
                problems.append(f"traffic moved back to retired {deployed_id}: {previous} -> {split}")
        if incoming and _shares(split, incoming) < _shares(previous, incoming) and split:
            problems.append(f"the new copies lost traffic: {previous} -> {split}")
        previous = split
    return problems


def _case(server: FakeVertexServer, scenario: Scenario, fail_at: int | None, mode: str) -> tuple[int, list[str]]:
    """Run one case on a fresh ``server``; the number of calls the operation made and the problems found."""
    fake = server.fake
    try:
        seed(fake)
        olds = scenario.setup(fake, server.url)
        news = scenario.news(server.url)
        provider = VertexModelDeploymentProvider()
        baseline, history = len(fake.requests), len(fake.history)
        if fail_at is not None:
            fake.fail_call(baseline + fail_at, after=mode == "after")
        problems: list[str] = []
        try:
            outs = _run(provider, scenario, olds, news)
            failed = False
        except VertexError:
            failed = True
        calls = len(fake.requests) - baseline
        if fail_at is not None and not failed:
            problems.append("the injected failure did not fail the operation")
        if failed and scenario.operation == "create" and fake.deployed(ENDPOINT):
            problems.append(f"a failed create left {fake.deployed(ENDPOINT)} deployed (not in any state)")
        if failed:
            fake.fail_calls.clear()
            outs = _run(provider, scenario, olds, news)  # the retry: same inputs, state as Pulumi kept it
        live = fake.endpoints[ENDPOINT]
        if scenario.operation == "delete":
            if live["deployedModels"] or live["trafficSplit"]:
                problems.append(f"delete left {fake.deployed(ENDPOINT)} / {live['trafficSplit']}")
            return calls, problems
        assert outs is not None
        ids = dict(outs["deployed_model_ids"])
        declared = {ids[k]: int(v) for k, v in news["traffic_steps"][-1].items() if v}
        if live["trafficSplit"] != declared:
            problems.append(f"split {live['trafficSplit']} is not the declared {declared}")
        if sorted(fake.deployed(ENDPOINT)) != sorted(ids.values()):
            problems.append(f"deployed {fake.deployed(ENDPOINT)} but state has {ids}")
        versions = {d["id"]: d["modelVersionId"] for d in live["deployedModels"]}
        wanted = {k: v.rsplit("@", 1)[-1] for k, v in outs["resolved_models"].items()}
        if {k: versions.get(i) for k, i in ids.items()} != wanted:
            problems.append(f"state {ids} does not serve the resolved versions {wanted}")
        if scenario.operation == "update":
            problems += _check_forward(fake, history, olds, set(ids.values()))
        provider.delete(f"{ENDPOINT}/deployedModels", outs)
        if live["deployedModels"] or live["trafficSplit"]:
            problems.append(f"destroy left {fake.deployed(ENDPOINT)} / {live['trafficSplit']}")
        return calls, problems
    finally:
        server.stop()


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_a_failure_at_every_call_then_a_retry_converges(scenario: Scenario, fresh_fake_vertex) -> None:
    calls, problems = _case(fresh_fake_vertex(), scenario, None, "before")
    assert problems == [] and calls > 0
    failures = {
        f"call {n} ({mode})": found
        for n in range(1, calls + 1)
        for mode in MODES
        if (found := _case(fresh_fake_vertex(), scenario, n, mode)[1])
    }
    assert failures == {}, f"{len(failures)} of {2 * calls} cases failed"


def test_the_fault_matrix_covers_every_route_of_the_rollout(fresh_fake_vertex) -> None:
    """The clean runs exercise deploy, its operation, mutate, traffic splits, metrics and undeploy."""
    routes: set[str] = set()
    for scenario in SCENARIOS:
        server = fresh_fake_vertex()
        seed(server.fake)
        olds = scenario.setup(server.fake, server.url)
        start = len(server.fake.requests)
        _run(VertexModelDeploymentProvider(), scenario, olds, scenario.news(server.url))
        routes |= set(server.fake.routes()[start:])
    assert routes >= {
        "getModel",
        "getEndpoint",
        "deployModel",
        "getOperation",
        "mutateDeployedModel",
        "updateEndpoint",
        "listTimeSeries",
        "undeployModel",
    }
