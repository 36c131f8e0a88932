"""GCP: the approved-alias audit log starts a Cloud Workflow that calls the deploy webhook (offline plan).

Resource by resource: the Eventarc trigger's filters and target, the two service accounts and every
role they hold, the CMEK secret and who may read it, and the workflow's calls and request body.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from test_registry_deploy_webhook import SECRET_TOKEN, WEBHOOK, with_webhook
from test_registry_realize import realize

from mlops_infra.engine.captured import CapturedResource, CapturedStack
from mlops_infra.gcp.deploy_webhook import MERGE_VERSION_ALIASES
from mlops_infra.testing import one

TRIGGER = "gcp:eventarc/trigger:Trigger"
WORKFLOW = "gcp:workflows/workflow:Workflow"
ACCOUNT = "gcp:serviceaccount/account:Account"
PROJECT_MEMBER = "gcp:projects/iAMMember:IAMMember"
KEY = "projects/acme-churn/locations/europe-west4/keyRings/churn-prod-gcp-key/cryptoKeys/churn-prod-gcp-key"


@pytest.fixture(scope="module")
def stack() -> CapturedStack:
    return realize("gcp", "prod", {"scoring": "5"}, config=SECRET_TOKEN, **with_webhook())


def mine(stack: CapturedStack, type_token: str) -> list[CapturedResource]:
    return [r for r in stack.by_type(type_token) if "gcp-deploy-on-approval" in r.name]


def account(stack: CapturedStack, suffix: str) -> str:
    (found,) = [a for a in mine(stack, ACCOUNT) if a.name.endswith(suffix)]
    return f"{found.inputs['accountId']}@acme-churn.iam.gserviceaccount.com"


def workflow_source(stack: CapturedStack) -> dict[str, Any]:
    (workflow,) = mine(stack, WORKFLOW)
    return dict(json.loads(workflow.inputs["sourceContents"]))


def steps(source: dict[str, Any]) -> dict[str, Any]:
    return {name: body for step in source["main"]["steps"] for name, body in step.items()}


def test_the_trigger_listens_to_merge_version_aliases_and_starts_the_workflow(stack: CapturedStack) -> None:
    (trigger,) = mine(stack, TRIGGER)
    (workflow,) = mine(stack, WORKFLOW)
    criteria = {(c["attribute"], c["value"]) for c in trigger.inputs["matchingCriterias"]}
    assert criteria == {
        ("type", "google.cloud.audit.log.v1.written"),
        ("serviceName", "aiplatform.googleapis.com"),
        ("methodName", "google.cloud.aiplatform.v1.ModelService.MergeVersionAliases"),
    }
    assert MERGE_VERSION_ALIASES.endswith("ModelService.MergeVersionAliases")
    assert trigger.inputs["location"] == "europe-west4"  # where the Vertex models live
    assert trigger.inputs["destination"] == {
        "workflow": f"projects/acme-churn/locations/europe-west4/workflows/{workflow.inputs['name']}"
    }
    assert trigger.inputs["serviceAccount"] == account(stack, "trigger-sa")


def test_each_account_holds_exactly_its_roles(stack: CapturedStack) -> None:
    trigger_sa = f"serviceAccount:{account(stack, 'trigger-sa')}"
    workflow_sa = f"serviceAccount:{account(stack, 'workflow-sa')}"
    grants: dict[str, set[str]] = {}
    for member in stack.by_type(PROJECT_MEMBER):
        grants.setdefault(member.inputs["member"], set()).add(member.inputs["role"])
    assert grants[trigger_sa] == {"roles/eventarc.eventReceiver", "roles/workflows.invoker"}
    (custom,) = mine(stack, "gcp:projects/iAMCustomRole:IAMCustomRole")
    assert custom.inputs["permissions"] == ["aiplatform.models.get"]
    assert grants[workflow_sa] == {f"projects/acme-churn/roles/{custom.inputs['roleId']}"}


def test_the_token_is_a_cmek_secret_only_the_workflow_reads(stack: CapturedStack) -> None:
    (secret,) = mine(stack, "gcp:secretmanager/secret:Secret")
    (replica,) = secret.inputs["replication"]["userManaged"]["replicas"]
    assert replica == {"location": "europe-west4", "customerManagedEncryption": {"kmsKeyName": KEY}}
    (version,) = mine(stack, "gcp:secretmanager/secretVersion:SecretVersion")
    assert version.inputs["secretData"] == "[secret]"
    assert "Z2hwLXRlc3Q" not in json.dumps([r.inputs for r in stack.resources])
    accessors = stack.by_type("gcp:secretmanager/secretIamMember:SecretIamMember")
    assert [(a.inputs["secretId"], a.inputs["role"], a.inputs["member"]) for a in accessors] == [
        (
            secret.inputs["secretId"],
            "roles/secretmanager.secretAccessor",
            f"serviceAccount:{account(stack, 'workflow-sa')}",
        )
    ]
    agents = {m.inputs["member"] for m in mine(stack, "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember")}
    assert agents == {
        "serviceAccount:service-123456789012@gcp-sa-secretmanager.iam.gserviceaccount.com",
        "serviceAccount:service-123456789012@gcp-sa-workflows.iam.gserviceaccount.com",
    }


def test_the_workflow_is_cmek_runs_as_its_account_and_never_logs_calls(stack: CapturedStack) -> None:
    (workflow,) = mine(stack, WORKFLOW)
    assert workflow.inputs["cryptoKeyName"] == KEY
    assert workflow.inputs["serviceAccount"].endswith(account(stack, "workflow-sa"))
    assert workflow.inputs["callLogLevel"] == "LOG_ERRORS_ONLY"  # LOG_ALL_CALLS would log the token


def test_the_workflow_asks_vertex_and_posts_the_shared_request(stack: CapturedStack) -> None:
    (secret,) = mine(stack, "gcp:secretmanager/secret:Secret")
    source = workflow_source(stack)
    assert source["main"]["params"] == ["event"]
    by_name = steps(source)
    watched = next(a["watched"] for a in by_name["read"]["assign"] if "watched" in a)
    assert watched == ["churn-prod-churn"]
    assert by_name["relevant"]["switch"][1]["condition"] == '${added != null and not("champion" in added)}'
    assert by_name["approved"]["call"] == "http.get"
    assert by_name["approved"]["args"]["auth"] == {"type": "OAuth2"}
    assert '"@champion"' in by_name["approved"]["args"]["url"]
    assert by_name["approved"]["args"]["url"].startswith('${"https://europe-west4-aiplatform.googleapis.com/v1/')
    assert by_name["token"] == {
        "call": "googleapis.secretmanager.v1.projects.secrets.versions.accessString",
        "args": {"secret_id": secret.inputs["secretId"], "version": "latest", "project_id": "acme-churn"},
        "result": "token",
    }
    call = by_name["notify"]["try"]
    assert call["call"] == "http.post"
    assert call["args"]["url"] == WEBHOOK["url"]
    assert call["args"]["headers"]["Authorization"] == '${"Bearer " + token}'
    payload = call["args"]["body"]["client_payload"]
    assert call["args"]["body"]["event_type"] == "model-approved"
    assert set(payload) == {"cloud", "stack", "registry", "version", "reference"}  # the AWS vocabulary
    assert payload["cloud"] == "gcp" and payload["stack"] == "prod" and payload["version"] == "${version}"
    assert payload["reference"].endswith('model_id + "@" + version}')
    retry = by_name["notify"]["retry"]
    assert retry["predicate"] == "${http.default_retry_predicate}" and retry["max_retries"] == 10


def test_pulumi_deployments_kind() -> None:
    stack = realize("gcp", "dev", {"scoring": "5"}, config=SECRET_TOKEN, **with_webhook("pulumi_deployments"))
    call = steps(workflow_source(stack))["notify"]["try"]
    assert call["args"]["body"] == {"operation": "update"}
    assert call["args"]["headers"]["Authorization"] == '${"token " + token}'


def test_no_webhook_no_trigger() -> None:
    stack = realize("gcp", "dev", {"scoring": "5"}, registry={"approval": {"serve": "latest_approved"}})
    assert [t.name for t in stack.by_type(TRIGGER) if "deploy-on-approval" in t.name] == []
    assert one(stack, "pulumi-python:dynamic/vertex:VertexModelDeployment")


def test_one_workflows_agent_grant_per_key_shared_by_the_webhook_and_the_drift_workflow(stack: CapturedStack) -> None:
    """Two CryptoKeyIAMMember for one key, role and member are one binding: deleting either drops both."""
    grants = [
        r
        for r in stack.by_type("gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember")
        if r.inputs["member"].endswith("@gcp-sa-workflows.iam.gserviceaccount.com")
    ]
    assert len(grants) == 1
    (grant,) = grants
    assert grant.inputs["role"] == "roles/cloudkms.cryptoKeyEncrypterDecrypter"
    workflows = stack.by_type(WORKFLOW)
    assert {w.name for w in workflows} == {
        "gcp-deploy-on-approval-workflow",
        "gcp-drift-workflow",
        "gcp-budget-alerts-workflow",
    }
    for workflow in workflows:
        assert workflow.inputs["cryptoKeyName"] == grant.inputs["cryptoKeyId"]
        assert grant.urn in workflow.dependencies
