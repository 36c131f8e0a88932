"""The planned ModelRegistry, created in a local moto server with the inputs the offline plan captured.

moto 5.2 facts this test is built around (checked against its source and a live server):
- ``events.test_event_pattern`` is a stub (HTTP 200, no ``Result``), so the captured pattern is
  checked through moto's own matcher instead: a probe rule with that pattern on a separate bus
  forwards matching events to an SQS queue.
- Rules deliver only to SQS, logs, archives and buses (an SNS target raises), hence the probe bus.
- ``put_model_package_group_policy`` is not implemented; the captured policy's ARNs are checked
  against the ARNs moto assigns instead.
"""

from __future__ import annotations

import fnmatch
import json
import socket
from pathlib import Path
from typing import Any

import pytest
from moto_server import aws_client, moto_endpoint, running_moto_server  # noqa: F401 - moto_endpoint is a fixture

from mlops_infra.engine import run_program
from mlops_infra.engine.captured import CapturedStack
from mlops_infra.testing import iam_statements, one

pytestmark = pytest.mark.integration

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "aws" / "model_registry.py"
DETAIL_TYPE = "SageMaker Model Package State Change"


@pytest.fixture(scope="module")
def planned() -> CapturedStack:
    """The example, planned offline for prod (so packages start pending manual approval)."""
    return run_program(EXAMPLE, "dev", ["environment=prod"])


def registry_child(stack, type_token):
    """The registry's own child of ``type_token`` (the example also declares a budget with its own topic)."""
    registry = one(stack, "mlops-infra:aws:ModelRegistry")
    (child,) = [r for r in stack.by_type(type_token) if r.parent == registry.urn]
    return child


def tags_of(inputs: dict[str, Any]) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in sorted(inputs["tags"].items())]


def approval_event(package: dict[str, Any], status: str) -> dict[str, Any]:
    """A SageMaker state-change event as EventBridge receives it for ``package``."""
    detail = {
        "ModelPackageGroupName": package["ModelPackageGroupName"],
        "ModelPackageVersion": package["ModelPackageVersion"],
        "ModelPackageArn": package["ModelPackageArn"],
        "ModelApprovalStatus": status,
    }
    return {
        "Source": "aws.sagemaker",
        "DetailType": DETAIL_TYPE,
        "Detail": json.dumps(detail),
        "Resources": [package["ModelPackageArn"]],
        "EventBusName": "approval-probe",
    }


def test_planned_registry_works_in_moto(planned: CapturedStack, moto_endpoint: str) -> None:  # noqa: F811
    sagemaker = aws_client("sagemaker", moto_endpoint)
    events = aws_client("events", moto_endpoint)
    sns = aws_client("sns", moto_endpoint)
    kms = aws_client("kms", moto_endpoint)
    sqs = aws_client("sqs", moto_endpoint)

    group_in = one(planned, "aws:sagemaker/modelPackageGroup:ModelPackageGroup").inputs
    rule_in = one(planned, "aws:cloudwatch/eventRule:EventRule").inputs
    topic_in = registry_child(planned, "aws:sns/topic:Topic").inputs
    (topic_target,) = [
        t.inputs
        for t in planned.by_type("aws:cloudwatch/eventTarget:EventTarget")
        if t.inputs["arn"].startswith("arn:aws:sns:")
    ]
    group_statements = iam_statements(
        one(planned, "aws:sagemaker/modelPackageGroupPolicy:ModelPackageGroupPolicy"), "resourcePolicy"
    )
    group_name = group_in["modelPackageGroupName"]

    # The registry itself, as planned.
    group_arn = sagemaker.create_model_package_group(
        ModelPackageGroupName=group_name,
        ModelPackageGroupDescription=group_in["modelPackageGroupDescription"],
        Tags=tags_of(group_in),
    )["ModelPackageGroupArn"]
    planned_group_arns = {r for s in group_statements for r in s["Resource"] if ":model-package-group/" in r}
    assert planned_group_arns == {group_arn}

    # The approvals topic, encrypted with a customer-managed key (moto's stands in for the planned one).
    assert topic_in["kmsMasterKeyId"].startswith("arn:aws:kms:")
    key_arn = kms.create_key(Description="platform key stand-in")["KeyMetadata"]["Arn"]
    topic_arn = sns.create_topic(
        Name=topic_in["name"],
        Attributes={"KmsMasterKeyId": key_arn, "SignatureVersion": str(topic_in["signatureVersion"])},
        Tags=tags_of(topic_in),
    )["TopicArn"]
    assert topic_arn == topic_target["arn"]
    assert sns.get_topic_attributes(TopicArn=topic_arn)["Attributes"]["KmsMasterKeyId"] == key_arn

    # The rule with the captured pattern, targeting the topic; the topic policy names the real rule ARN.
    rule_arn = events.put_rule(
        Name=rule_in["name"],
        EventPattern=rule_in["eventPattern"],
        State=rule_in["state"],
        Description=rule_in["description"],
    )["RuleArn"]
    events.put_targets(Rule=rule_in["name"], Targets=[{"Id": topic_target["targetId"], "Arn": topic_arn}])
    assert [t["Arn"] for t in events.list_targets_by_rule(Rule=rule_in["name"])["Targets"]] == [topic_arn]
    assert json.loads(events.describe_rule(Name=rule_in["name"])["EventPattern"]) == json.loads(rule_in["eventPattern"])
    planned_policy = registry_child(planned, "aws:sns/topicPolicy:TopicPolicy").inputs["policy"]
    fake_rule_arn = json.loads(planned_policy)["Statement"][0]["Condition"]["ArnEquals"]["aws:SourceArn"]
    sns.set_topic_attributes(
        TopicArn=topic_arn, AttributeName="Policy", AttributeValue=planned_policy.replace(fake_rule_arn, rule_arn)
    )
    stored_policy = json.loads(sns.get_topic_attributes(TopicArn=topic_arn)["Attributes"]["Policy"])
    assert stored_policy["Statement"][0]["Condition"] == {"ArnEquals": {"aws:SourceArn": rule_arn}}

    # A new package starts with the status the component prescribes, then a person approves it.
    initial = planned.outputs["initialApprovalStatus"]
    assert initial == "PendingManualApproval"
    package_arn = sagemaker.create_model_package(
        ModelPackageGroupName=group_name, ModelApprovalStatus=initial, ModelPackageDescription="churn v1"
    )["ModelPackageArn"]
    package_patterns = [r for s in group_statements for r in s["Resource"] if ":model-package/" in r]
    assert any(fnmatch.fnmatchcase(package_arn, pattern) for pattern in package_patterns)
    assert sagemaker.describe_model_package(ModelPackageName=package_arn)["ModelApprovalStatus"] == initial
    approved = sagemaker.list_model_packages(ModelPackageGroupName=group_name, ModelApprovalStatus="Approved")
    assert approved["ModelPackageSummaryList"] == []
    sagemaker.update_model_package(ModelPackageArn=package_arn, ModelApprovalStatus="Approved")
    package = sagemaker.describe_model_package(ModelPackageName=package_arn)
    assert package["ModelApprovalStatus"] == "Approved"
    approved = sagemaker.list_model_packages(ModelPackageGroupName=group_name, ModelApprovalStatus="Approved")
    assert [p["ModelPackageArn"] for p in approved["ModelPackageSummaryList"]] == [package_arn]

    # The captured pattern selects exactly this group's approvals (moto's EventBridge matcher).
    events.create_event_bus(Name="approval-probe")
    queue_url = sqs.create_queue(QueueName="approval-probe")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name="probe", EventBusName="approval-probe", EventPattern=rule_in["eventPattern"])
    events.put_targets(Rule="probe", EventBusName="approval-probe", Targets=[{"Id": "queue", "Arn": queue_arn}])
    other_group = {**package, "ModelPackageGroupName": f"{group_name}-other"}
    sent = [approval_event(package, "Rejected"), approval_event(other_group, "Approved")]
    sent += [approval_event(package, "PendingManualApproval"), approval_event(package, "Approved")]
    result = events.put_events(Entries=sent)
    assert result["FailedEntryCount"] == 0
    received = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
    details = [json.loads(m["Body"])["detail"] for m in received]
    assert [(d["ModelPackageGroupName"], d["ModelApprovalStatus"]) for d in details] == [(group_name, "Approved")]
    assert details[0]["ModelPackageArn"] == package_arn


def test_moto_server_helper_binds_loopback_and_stops() -> None:
    with running_moto_server() as url:
        host, port = url.removeprefix("http://").split(":")
        assert host == "127.0.0.1"
        assert int(port) > 0
        with socket.create_connection((host, int(port)), timeout=2):
            pass
    with pytest.raises(OSError), socket.create_connection((host, int(port)), timeout=2):
        pass
