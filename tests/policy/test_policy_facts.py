"""Components refuse an insecure input by calling the rule, not a copy of it.

``TrainingPipelineArgs`` checks a supplied SageMaker pipeline definition with
``mlops_infra.aws.pipeline_definition.security_findings``, which runs the step checks of
encryption-at-rest, encryption-in-transit and network-isolation; these tests pin that the component
and the policy judge every definition alike (the old copy checked only Training and Processing
steps, and read parameter references differently).
"""

from __future__ import annotations

import copy
import json

import pytest
from pydantic import ValidationError

from mlops_infra.aws.iam import UNSCOPABLE_ACTIONS as COMPONENT_UNSCOPABLE
from mlops_infra.aws.pipeline_definition import security_findings
from mlops_infra.aws.training_pipeline_args import TrainingPipelineArgs
from mlops_infra.policy.config import PolicyConfig
from mlops_infra.policy.evaluate import resource_violations
from mlops_infra.policy.facts.aws_iam import UNSCOPABLE_ACTIONS
from mlops_infra.policy.model import ResourceView
from mlops_infra.policy.rules import REGISTRY

IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/churn-train:1.4.2"
PIPELINE = "aws:sagemaker/pipeline:Pipeline"
STEP_RULES = ("encryption-at-rest", "encryption-in-transit", "network-isolation")


def _definition() -> dict:
    training = {
        "Name": "Train",
        "Type": "Training",
        "Arguments": {
            "AlgorithmSpecification": {"TrainingImage": IMAGE, "TrainingInputMode": "File"},
            "RoleArn": "${ExecutionRoleArn}",
            "OutputDataConfig": {"S3OutputPath": "${ArtifactS3Uri}/model", "KmsKeyId": "${KmsKeyArn}"},
            "ResourceConfig": {
                "InstanceType": "ml.m5.xlarge",
                "InstanceCount": 1,
                "VolumeSizeInGB": 30,
                "VolumeKmsKeyId": "${KmsKeyArn}",
            },
            "StoppingCondition": {"MaxRuntimeInSeconds": 3600},
            "EnableNetworkIsolation": {"Get": "Parameters.Isolate"},
            "EnableInterContainerTrafficEncryption": True,
        },
    }
    transform = {
        "Name": "Score",
        "Type": "Transform",
        "DependsOn": ["Train"],
        "Arguments": {
            "ModelName": "churn",
            "TransformInput": {"DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "s3://b/in"}}},
            "TransformOutput": {"S3OutputPath": "s3://b/out", "KmsKeyId": "${KmsKeyArn}"},
            "TransformResources": {
                "InstanceType": "ml.m5.large",
                "InstanceCount": 1,
                "VolumeKmsKeyId": "${KmsKeyArn}",
            },
        },
    }
    return {
        "Version": "2020-12-01",
        "Parameters": [{"Name": "Isolate", "Type": "Boolean", "DefaultValue": True}],
        "Steps": [training, transform],
    }


def _args(definition: dict) -> dict:
    return {
        "model_package_group_name": "churn-models",
        "training_image_uri": IMAGE,
        "processing_image_uri": IMAGE,
        "training_instance_type": "ml.m5.xlarge",
        "processing_instance_type": "ml.m5.large",
        "volume_size_gb": 50,
        "max_runtime_seconds": 7200,
        "gate": {"name": "auc", "threshold": 0.8, "direction": "maximize"},
        "pipeline_definition": definition,
    }


def _policy_messages(definition: dict) -> list[str]:
    view = ResourceView(PIPELINE, {"pipelineDefinition": json.dumps(definition)}, "urn:test", "churn")
    found = []
    for policy_id in STEP_RULES:
        found += [v.message for v in resource_violations(REGISTRY[policy_id], view, {}, PolicyConfig())]
    return found


def _without_transform_volume_key(d: dict) -> None:
    del d["Steps"][1]["Arguments"]["TransformResources"]["VolumeKmsKeyId"]


def _isolation_default_false(d: dict) -> None:
    d["Parameters"][0]["DefaultValue"] = False


def _no_traffic_encryption(d: dict) -> None:
    d["Steps"][0]["Arguments"]["EnableInterContainerTrafficEncryption"] = False


MUTATIONS = {
    "secure": lambda d: None,
    "transform volume without a key": _without_transform_volume_key,
    "isolation parameter defaults to false": _isolation_default_false,
    "no traffic encryption": _no_traffic_encryption,
}


@pytest.mark.parametrize("case", MUTATIONS)
def test_the_component_and_the_policy_judge_a_definition_alike(case):
    definition = _definition()
    MUTATIONS[case](definition)
    component = security_findings(definition)
    policy = _policy_messages(definition)
    assert [f"Pipeline 'churn': {message}" for message in component] == policy
    assert bool(component) == (case != "secure")
    if component:
        with pytest.raises(ValidationError, match="allow_insecure_definition"):
            TrainingPipelineArgs.model_validate(_args(copy.deepcopy(definition)))
        TrainingPipelineArgs.model_validate({**_args(definition), "allow_insecure_definition": True})
    else:
        TrainingPipelineArgs.model_validate(_args(definition))


def test_a_transform_step_without_a_key_is_refused_by_the_component():
    # The component's former copy checked Training and Processing steps only.
    definition = _definition()
    _without_transform_volume_key(definition)
    with pytest.raises(ValidationError, match=r"step 'Score' \(Transform\) leaves its ML storage volume"):
        TrainingPipelineArgs.model_validate(_args(definition))


def test_components_and_rules_share_the_unscopable_actions():
    assert COMPONENT_UNSCOPABLE is UNSCOPABLE_ACTIONS
