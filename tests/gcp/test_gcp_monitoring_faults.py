"""Fault injection for VertexModelMonitoringJob: fail every call of create, adopt, update and delete, then retry.

For each scenario a clean run counts the calls the fake server receives (N). Then, for every n in
1..N and both failure modes (the call fails before its effect, or takes effect and its answer is
lost), a fresh fake runs the operation with request n failing, retries it with the same inputs, and
checks: the endpoint has exactly one monitoring job (none after a delete), with the declared
config and running; Vertex refused nothing (no second job, no delete of a running job); destroy
leaves no job behind, since a job is billed while it exists.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from fake_vertex_server import FakeVertex, FakeVertexServer
from test_gcp_monitoring_job import ENDPOINT, job_props

from mlops_infra.gcp.dynamic.errors import VertexError
from mlops_infra.gcp.dynamic.vertex_monitoring import VertexModelMonitoringJobProvider

pytestmark = [pytest.mark.integration, pytest.mark.filterwarnings("ignore::FutureWarning")]

MODES = ("before", "after")


def seed(fake: FakeVertex) -> None:
    fake.add_endpoint(ENDPOINT)
    fake.endpoints[ENDPOINT]["deployedModels"] = [
        {"id": i, "model": "m", "modelVersionId": v} for i, v in (("111", "1"), ("222", "2"), ("333", "3"))
    ]


@dataclass
class Scenario:
    """``setup(fake, url)`` returns the prior outputs (or None); ``news(url)`` the declared inputs."""

    name: str
    setup: Callable[[FakeVertex, str], dict[str, Any] | None]
    news: Callable[[str], dict[str, Any]]
    operation: str  # create, update or delete


def _existing(fake: FakeVertex, url: str) -> dict[str, Any]:
    return dict(VertexModelMonitoringJobProvider().create(job_props(url)).outs)


def _lost_and_paused(fake: FakeVertex, url: str) -> None:
    """A job an earlier create made (its answer lost) that was paused since: the create must adopt it."""
    outs = _existing(fake, url)
    fake.monitoring_jobs[outs["name"]]["state"] = "JOB_STATE_PAUSED"


def _rolled_out(url: str) -> dict[str, Any]:
    return job_props(url, deployed_model_ids=["333"], monitor_interval_hours=2.0, sample_rate=0.25)


SCENARIOS = [
    Scenario("create", lambda fake, url: None, job_props, "create"),
    Scenario("create: adopt the job a lost answer left, paused", _lost_and_paused, _rolled_out, "create"),
    Scenario("update: a rollout changed the deployed models", _existing, _rolled_out, "update"),
    Scenario("delete: a running job", _existing, lambda url: {}, "delete"),
]


def _run(scenario: Scenario, olds: dict[str, Any] | None, news: dict[str, Any]) -> dict[str, Any] | None:
    provider = VertexModelMonitoringJobProvider()
    if scenario.operation == "create":
        return dict(provider.create(news).outs)
    assert olds is not None
    if scenario.operation == "update":
        return dict(provider.update(olds["name"], olds, news).outs)
    provider.delete(olds["name"], olds)
    return None


def _case(server: FakeVertexServer, scenario: Scenario, fail_at: int | None, mode: str) -> tuple[int, list[str]]:
    """Run one case; the number of calls the operation made and the problems found."""
    fake = server.fake
    try:
        seed(fake)
        olds = scenario.setup(fake, server.url)
        news = scenario.news(server.url)
        baseline = len(fake.requests)
        if fail_at is not None:
            fake.fail_call(baseline + fail_at, after=mode == "after")
        problems: list[str] = []
        try:
            outs = _run(scenario, olds, news)
            failed = False
        except VertexError:
            failed = True
        calls = len(fake.requests) - baseline
        if fail_at is not None and not failed:
            problems.append("the injected failure did not fail the operation")
        if failed:
            fake.fail_calls.clear()
            outs = _run(scenario, olds, news)  # the retry: same inputs, state as Pulumi kept it
        if fake.errors:
            problems.append(f"Vertex refused requests: {fake.errors}")
        jobs = [j for j in fake.monitoring_jobs.values() if j["endpoint"] == ENDPOINT]
        if scenario.operation == "delete":
            if jobs:
                problems.append(f"delete left {[j['name'] for j in jobs]}")
            return calls, problems
        assert outs is not None
        if [j["name"] for j in jobs] != [outs["name"]]:
            problems.append(f"jobs {[j['name'] for j in jobs]} but state has {outs['name']}")
            return calls, problems
        job = jobs[0]
        declared = sorted(news["deployed_model_ids"])
        if sorted(c["deployedModelId"] for c in job["modelDeploymentMonitoringObjectiveConfigs"]) != declared:
            problems.append(f"job watches {job['modelDeploymentMonitoringObjectiveConfigs']}, not {declared}")
        interval = f"{int(news['monitor_interval_hours']) * 3600}s"
        if job["modelDeploymentMonitoringScheduleConfig"] != {"monitorInterval": interval}:
            problems.append(f"interval {job['modelDeploymentMonitoringScheduleConfig']} is not {interval}")
        if job["loggingSamplingStrategy"]["randomSampleConfig"]["sampleRate"] != news["sample_rate"]:
            problems.append(f"sampling {job['loggingSamplingStrategy']} is not {news['sample_rate']}")
        if job["state"] != "JOB_STATE_RUNNING":
            problems.append(f"the job is {job['state']}")
        VertexModelMonitoringJobProvider().delete(outs["name"], outs)
        if fake.monitoring_jobs:
            problems.append(f"destroy left {list(fake.monitoring_jobs)}")
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


def test_the_fault_matrix_covers_every_route_the_provider_calls(fresh_fake_vertex) -> None:
    """The clean runs exercise list, create, patch and its operation, resume, get, pause, delete."""
    routes: set[str] = set()
    for scenario in SCENARIOS:
        server = fresh_fake_vertex()
        seed(server.fake)
        olds = scenario.setup(server.fake, server.url)
        start = len(server.fake.requests)
        _run(scenario, olds, scenario.news(server.url))
        routes |= set(server.fake.routes()[start:])
    assert routes == {
        "listModelDeploymentMonitoringJobs",
        "createModelDeploymentMonitoringJob",
        "updateModelDeploymentMonitoringJob",
        "getOperation",
        "resumeModelDeploymentMonitoringJob",
        "getModelDeploymentMonitoringJob",
        "pauseModelDeploymentMonitoringJob",
        "deleteModelDeploymentMonitoringJob",
    }
