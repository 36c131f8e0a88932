"""encryption-at-rest on SageMaker jobs whose instance types have local NVMe storage (no volume key there)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from policy_factories import KEY_ARN, check, findings, view

from mlops_infra.policy.rules.encryption_at_rest import pipeline_findings

RULE = "encryption-at-rest"
PIPELINE = "aws:sagemaker/pipeline:Pipeline"


def definition(instance_type: Any, step: str = "Training", volume_key: bool = False, default: Any = None) -> str:
    cluster: dict[str, Any] = {"InstanceType": instance_type, "InstanceCount": 1, "VolumeSizeInGB": 30}
    if volume_key:
        cluster["VolumeKmsKeyId"] = KEY_ARN
    if step == "Training":
        arguments = {"ResourceConfig": cluster, "OutputDataConfig": {"S3OutputPath": "s3://b/m", "KmsKeyId": KEY_ARN}}
    else:
        output = {"Outputs": [], "KmsKeyId": KEY_ARN}
        arguments = {"ProcessingResources": {"ClusterConfig": cluster}, "ProcessingOutputConfig": output}
    parameters = [] if default is None else [{"Name": "Type", "Type": "String", "DefaultValue": default}]
    steps = [{"Name": "Job", "Type": step, "Arguments": arguments}]
    return json.dumps({"Version": "2020-12-01", "Parameters": parameters, "Steps": steps})


@pytest.mark.parametrize("step", ["Training", "Processing", "QualityCheck"])
@pytest.mark.parametrize("instance_type", ["ml.g5.xlarge", "ml.g4dn.xlarge", "ml.p3dn.24xlarge"])
def test_pipeline_steps_on_local_storage_need_no_volume_key(step: str, instance_type: str) -> None:
    assert check(RULE, view(PIPELINE, {"pipelineDefinition": definition(instance_type, step)})) == []


@pytest.mark.parametrize("step", ["Training", "Processing"])
def test_pipeline_steps_on_ebs_volumes_still_need_one(step: str) -> None:
    [finding] = findings(check(RULE, view(PIPELINE, {"pipelineDefinition": definition("ml.m5.xlarge", step)})))
    assert "ML storage volume without a customer-managed key" in finding.message
    assert check(RULE, view(PIPELINE, {"pipelineDefinition": definition("ml.m5.xlarge", step, True)})) == []


def test_a_parameterized_type_is_judged_by_its_default_and_fails_closed_without_one() -> None:
    parameter = {"Get": "Parameters.Type"}
    assert list(pipeline_findings({"pipelineDefinition": definition(parameter, default="ml.g5.xlarge")})) == []
    assert list(pipeline_findings({"pipelineDefinition": definition(parameter, default="ml.m5.large")}))
    # No default: the type is chosen at execution, so the volume may be EBS and needs the key.
    assert list(pipeline_findings({"pipelineDefinition": definition(parameter)}))


def test_training_job_and_tuning_job_on_local_storage() -> None:
    output = {"s3OutputPath": "s3://b/m", "kmsKeyId": KEY_ARN}
    gpu = {"outputDataConfig": output, "resourceConfig": {"instanceType": "ml.g5.2xlarge", "instanceCount": 1}}
    assert check(RULE, view("aws:sagemaker/trainingJob:TrainingJob", gpu)) == []
    cpu = {**gpu, "resourceConfig": {"instanceType": "ml.m5.2xlarge", "instanceCount": 1}}
    [finding] = findings(check(RULE, view("aws:sagemaker/trainingJob:TrainingJob", cpu)))
    assert "resourceConfig.volumeKmsKeyId" in finding.message
    tuning = {"trainingJobDefinition": gpu}
    assert check(RULE, view("aws:sagemaker/hyperParameterTuningJob:HyperParameterTuningJob", tuning)) == []
    # The S3 output still needs the key on a GPU type.
    no_output = {"resourceConfig": gpu["resourceConfig"]}
    [output_finding] = findings(check(RULE, view("aws:sagemaker/trainingJob:TrainingJob", no_output)))
    assert "outputDataConfig.kmsKeyId" in output_finding.message


def test_monitoring_job_definition_and_inline_schedule_on_local_storage() -> None:
    outputs = {"kmsKeyId": KEY_ARN, "monitoringOutputs": {"s3Output": {"s3Uri": "s3://b/o"}}}
    job = {
        "dataQualityJobOutputConfig": outputs,
        "jobResources": {"clusterConfig": {"instanceType": "ml.g4dn.xlarge", "instanceCount": 1}},
    }
    token = "aws:sagemaker/dataQualityJobDefinition:DataQualityJobDefinition"
    assert check(RULE, view(token, job)) == []
    cpu = {**job, "jobResources": {"clusterConfig": {"instanceType": "ml.m5.large", "instanceCount": 1}}}
    [finding] = findings(check(RULE, view(token, cpu)))
    assert "jobResources.clusterConfig.volumeKmsKeyId" in finding.message
    base = {
        "monitoringOutputConfig": {"kmsKeyId": KEY_ARN},
        "monitoringResources": {"clusterConfig": {"instanceType": "ml.g5.xlarge", "instanceCount": 1}},
    }
    schedule = {"monitoringScheduleConfig": {"monitoringJobDefinition": base}}
    assert check(RULE, view("aws:sagemaker/monitoringSchedule:MonitoringSchedule", schedule)) == []
    base["monitoringResources"] = {"clusterConfig": {"instanceType": "ml.m5.large", "instanceCount": 1}}
    assert findings(check(RULE, view("aws:sagemaker/monitoringSchedule:MonitoringSchedule", schedule)))
