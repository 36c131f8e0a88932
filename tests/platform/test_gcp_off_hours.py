"""Off-hours on GCP: the endpoints' models undeployed at stop and redeployed, as declared, at start (Workflows)."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from test_governance_ops import GCP_CONFIG, realize

from mlops_infra.engine import ProgramError
from mlops_infra.engine.captured import CapturedResource, CapturedStack
from mlops_infra.gcp.dynamic.vertex_deployment import deployed_model_body
from mlops_infra.gcp.off_hours import ENDPOINT_PERMISSIONS
from mlops_infra.gcp.off_hours_workflow import off_hours_workflow
from mlops_infra.spec.cloud import Cloud
from mlops_infra.spec.support import OFF_HOURS_REALIZED_BY

BERLIN_EVENINGS = {"stop": {"cron": "0 19 * * 1-5", "time_zone": "Europe/Berlin"}}


@pytest.fixture(scope="module")
def dev() -> CapturedStack:
    return realize("gcp", "dev", GCP_CONFIG, off_hours=BERLIN_EVENINGS)


def off_hours(stack: CapturedStack, type_token: str) -> list[CapturedResource]:
    return [r for r in stack.by_type(type_token) if r.name.startswith("gcp-off-hours")]


def workflow_of(stack: CapturedStack) -> dict[str, Any]:
    (workflow,) = off_hours(stack, "gcp:workflows/workflow:Workflow")
    return json.loads(workflow.inputs["sourceContents"])


def steps(block: dict[str, Any]) -> dict[str, Any]:
    """A workflow's or subworkflow's steps by name."""
    return {name: body for step in block["steps"] for name, body in step.items()}


def test_gcp_realizes_off_hours():
    assert Cloud.GCP in OFF_HOURS_REALIZED_BY


def test_stop_and_start_jobs_start_the_workflow_with_their_action_in_the_spec_time_zone(dev):
    jobs = {j.name: j.inputs for j in off_hours(dev, "gcp:cloudscheduler/job:Job")}
    assert set(jobs) == {"gcp-off-hours-stop", "gcp-off-hours-start"}
    stop, start = jobs["gcp-off-hours-stop"], jobs["gcp-off-hours-start"]
    assert (stop["schedule"], stop["timeZone"]) == ("0 19 * * 1-5", "Europe/Berlin")
    assert (start["schedule"], start["timeZone"]) == ("0 7 * * 1-5", "UTC")  # the spec's default morning
    for action, job in (("stop", stop), ("start", start)):
        target = job["httpTarget"]
        assert target["uri"].endswith("/workflows/churn-dev-gcp-off-hours/executions")
        assert json.loads(json.loads(base64.b64decode(target["body"]))["argument"]) == {"action": action}
        assert target["oauthToken"]["serviceAccountEmail"].startswith("churn-dev-gcp-off-hours@")


def test_the_workflow_is_cmek_encrypted_and_runs_as_its_own_account(dev):
    (workflow,) = off_hours(dev, "gcp:workflows/workflow:Workflow")
    assert workflow.inputs["cryptoKeyName"]
    assert workflow.inputs["callLogLevel"] == "LOG_ERRORS_ONLY"
    (account,) = off_hours(dev, "gcp:serviceaccount/account:Account")
    assert account.urn in workflow.dependencies
    grants = {r.urn for r in dev.by_type("gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember")}
    assert grants & set(workflow.dependencies)  # the Workflows agent may use the key before it deploys


def test_the_account_holds_four_endpoint_permissions_and_the_invoker_role_only(dev):
    (role,) = off_hours(dev, "gcp:projects/iAMCustomRole:IAMCustomRole")
    assert role.inputs["permissions"] == list(ENDPOINT_PERMISSIONS)
    roles = sorted(m.inputs["role"] for m in off_hours(dev, "gcp:projects/iAMMember:IAMMember"))
    assert roles == [f"projects/acme-churn/roles/{role.inputs['roleId']}", "roles/workflows.invoker"]
    assert not off_hours(dev, "gcp:serviceaccount/iAMMember:IAMMember")  # the spec's models run as Vertex's default


def test_failed_runs_alert_the_warning_channels(dev):
    (policy,) = off_hours(dev, "gcp:monitoring/alertPolicy:AlertPolicy")
    condition = policy.inputs["conditions"][0]["conditionThreshold"]
    assert 'resource.labels.workflow_id="churn-dev-gcp-off-hours"' in condition["filter"]
    assert 'metric.labels.status="FAILED"' in condition["filter"]
    assert policy.inputs["notificationChannels"]


def test_the_morning_redeploys_what_the_endpoint_declared(dev):
    (deployment,) = dev.by_type("pulumi-python:dynamic/vertex:VertexModelDeployment")
    declared = deployment.inputs["deployments"]
    (endpoint,) = steps(workflow_of(dev)["main"])["init"]["assign"][0]["endpoints"]
    assert endpoint["name"] == deployment.inputs["endpoint"]
    assert [m["key"] for m in endpoint["models"]] == [d["key"] for d in declared]
    assert [m["share"] for m in endpoint["models"]] == [
        deployment.inputs["traffic_steps"][-1][d["key"]] for d in declared
    ]
    body = endpoint["models"][0]["deployedModel"]
    assert body["displayName"] == "primary [mlops-infra:primary]" and endpoint["names"] == [body["displayName"]]
    resources = body["dedicatedResources"]
    assert resources["machineSpec"] == {"machineType": declared[0]["machine_type"]}
    assert (resources["minReplicaCount"], resources["maxReplicaCount"]) == (
        declared[0]["min_replica_count"],
        declared[0]["max_replica_count"],
    )


def test_prod_keeps_its_endpoints_up():
    prod = realize("gcp", "prod", GCP_CONFIG, off_hours=BERLIN_EVENINGS, monitoring={"drift": None})
    assert not [r for r in prod.resources if r.name.startswith("gcp-off-hours")]


def test_off_hours_and_vertex_model_monitoring_are_refused_together():
    with pytest.raises(ProgramError) as error:
        realize(
            "gcp",
            "dev",
            GCP_CONFIG,
            off_hours={},
            gcp={"drift_engine": "vertex_model_monitoring"},
            monitoring={"enabled": True},
        )
    assert "off_hours.environments" in str(error.value) and "new ids" in str(error.value)
    assert error.value.registered == []


# --- the workflow definition ------------------------------------------------------------------------------------

A = {
    "key": "blue",
    "model": "projects/p/locations/r/models/churn",
    "machine_type": "n1-standard-4",
    "min_replica_count": 1,
    "max_replica_count": 2,
}


def definition() -> dict[str, Any]:
    models = [
        {"key": "blue", "share": 90, "deployedModel": deployed_model_body(A, "m@3")},
        {"key": "green", "share": 10, "deployedModel": deployed_model_body({**A, "key": "green"}, "m@4")},
    ]
    return off_hours_workflow(
        region="europe-west4", endpoints=[{"name": "projects/p/locations/r/endpoints/1", "models": models}]
    )


def test_the_main_step_runs_stop_or_start_and_refuses_anything_else():
    main = steps(definition()["main"])
    assert definition()["main"]["params"] == ["input"]
    assert [(c["condition"], c["next"]) for c in main["choose"]["switch"]] == [
        ('${action == "stop"}', "stop"),
        ('${action == "start"}', "start"),
    ]
    assert main["choose"]["next"] == "refuse" and "raise" in main["refuse"]
    assert main["stop"]["for"]["steps"][0]["stop_one"]["call"] == "stop_endpoint"
    assert main["start"]["for"]["steps"][0]["start_one"]["call"] == "start_endpoint"


def test_stop_takes_traffic_off_then_undeploys_only_the_declared_models():
    stop = steps(definition()["stop_endpoint"])
    assert list(stop) == ["read", "no_traffic", "undeploy_each"]
    assert stop["no_traffic"]["args"]["body"] == {"trafficSplit": {}}
    assert stop["no_traffic"]["args"]["updateMask"] == "trafficSplit"
    loop = steps(stop["undeploy_each"]["for"])
    assert loop["declared"]["switch"][0]["condition"] == "${deployed.displayName in endpoint.names}"
    assert loop["declared"]["next"] == "continue"
    assert loop["undeploy"]["call"].endswith("endpoints.undeployModel")
    assert loop["undeploy"]["args"]["body"] == {"deployedModelId": "${deployed.id}"}
    (endpoint,) = steps(definition()["main"])["init"]["assign"][0]["endpoints"]
    assert endpoint["names"] == ["blue [mlops-infra:blue]", "green [mlops-infra:green]"]


def test_start_keeps_a_live_copy_deploys_the_missing_ones_and_sets_the_declared_split():
    start = steps(definition()["start_endpoint"])
    assert list(start) == ["read", "init", "each", "traffic"]
    loop = steps(start["each"]["for"])
    assert list(loop) == ["none_yet", "find", "deploy_if_missing", "route"]
    (missing,) = loop["deploy_if_missing"]["switch"]
    assert missing["condition"] == "${id == null}"
    deploy = missing["steps"][0]["deploy"]
    assert deploy["call"].endswith("endpoints.deployModel")
    assert deploy["args"]["body"] == {"deployedModel": "${model.deployedModel}"}
    assert deploy["args"]["region"] == "europe-west4"
    assert loop["route"]["switch"][0]["steps"][0]["share"]["assign"] == [{"split[id]": "${model.share}"}]
    assert start["traffic"]["args"]["body"] == {"trafficSplit": "${split}"}


def test_off_hours_without_endpoints_is_refused_naming_the_field():
    from pydantic import ValidationError

    from mlops_infra.gcp import OffHoursArgs

    week = {"cron": "0 20 * * 1-5", "time_zone": "UTC"}
    with pytest.raises(ValidationError) as error:
        OffHoursArgs.model_validate({"region": "europe-west4", "stop": week, "start": week, "endpoints": []})
    assert error.value.errors()[0]["loc"] == ("endpoints",)
