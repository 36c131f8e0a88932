"""The steps of a SageMaker pipeline definition (the JSON in ``pipelineDefinition``).

Each job step's ``Arguments`` is the request of the matching API (CreateTrainingJob,
CreateProcessingJob, ...), in PascalCase. Values may be pipeline expressions such as
``{"Get": "Parameters.KmsKey"}``; a parameter reference resolves to its DefaultValue when the
definition declares one, and otherwise counts as set (the value is chosen at execution time).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mlops_infra.policy.values import as_document

UNRESOLVED = object()  # an expression whose value is chosen at execution time


@dataclass(frozen=True)
class PipelineStep:
    """One step: name, type (Training, Processing, ...), its Arguments and the path in the definition."""

    name: str
    type: str
    arguments: Mapping[str, Any]
    path: str
    parameters: Mapping[str, Any]

    def value(self, dotted: str) -> Any:
        """An argument by dotted path, with parameter references resolved (UNRESOLVED when not resolvable)."""
        current: Any = self.arguments
        for part in dotted.split("."):
            current = self._resolve(current)
            if not isinstance(current, Mapping):
                return None
            current = current.get(part)
        return self._resolve(current)

    def _resolve(self, value: Any) -> Any:
        if isinstance(value, Mapping) and set(value) == {"Get"} and isinstance(value["Get"], str):
            reference = value["Get"]
            if reference.startswith("Parameters."):
                return self.parameters.get(reference.removeprefix("Parameters."), UNRESOLVED)
            return UNRESOLVED
        if isinstance(value, Mapping) and len(value) == 1 and next(iter(value)).startswith("Std:"):
            return UNRESOLVED
        return value


def _walk_steps(steps: Any, path: str, parameters: Mapping[str, Any]) -> list[PipelineStep]:
    found: list[PipelineStep] = []
    for index, step in enumerate(steps if isinstance(steps, list) else []):
        if not isinstance(step, Mapping):
            continue
        where = f"{path}[{index}]"
        arguments = step.get("Arguments")
        found.append(
            PipelineStep(
                name=str(step.get("Name", where)),
                type=str(step.get("Type", "")),
                arguments=arguments if isinstance(arguments, Mapping) else {},
                path=where,
                parameters=parameters,
            )
        )
        if isinstance(arguments, Mapping):  # Condition steps nest their branches.
            for branch in ("IfSteps", "ElseSteps"):
                found += _walk_steps(arguments.get(branch), f"{where}.Arguments.{branch}", parameters)
    return found


def pipeline_steps(props: Mapping[str, Any]) -> list[PipelineStep]:
    """Every step of ``pipelineDefinition`` (raises UnknownValue while the JSON is not known)."""
    definition = as_document(props.get("pipelineDefinition"), "pipelineDefinition")
    if not isinstance(definition, Mapping):
        return []
    parameters = {
        str(p["Name"]): p.get("DefaultValue", UNRESOLVED)
        for p in definition.get("Parameters") or []
        if isinstance(p, Mapping) and "Name" in p
    }
    return _walk_steps(definition.get("Steps"), "pipelineDefinition.Steps", parameters)


def present(value: Any) -> bool:
    """Set in the definition: a non-empty literal, or an expression resolved at execution time."""
    return value is UNRESOLVED or (value is not None and value not in ("", [], {}))


def enabled(value: Any) -> bool:
    """A boolean argument that is true (or decided at execution time)."""
    return value is UNRESOLVED or value is True or (isinstance(value, str) and value.lower() == "true")


# Where each job-type step keeps what the rules check (CreateXxx request shapes).
OUTPUT_KMS = {
    "Training": "OutputDataConfig.KmsKeyId",
    "Processing": "ProcessingOutputConfig.KmsKeyId",
    "QualityCheck": "ProcessingOutputConfig.KmsKeyId",
    "ClarifyCheck": "ProcessingOutputConfig.KmsKeyId",
    "Transform": "TransformOutput.KmsKeyId",
}
VOLUME_KMS = {
    "Training": "ResourceConfig.VolumeKmsKeyId",
    "Processing": "ProcessingResources.ClusterConfig.VolumeKmsKeyId",
    "QualityCheck": "ProcessingResources.ClusterConfig.VolumeKmsKeyId",
    "ClarifyCheck": "ProcessingResources.ClusterConfig.VolumeKmsKeyId",
    "Transform": "TransformResources.VolumeKmsKeyId",
}
INSTANCE_TYPE = {
    "Training": "ResourceConfig.InstanceType",
    "Processing": "ProcessingResources.ClusterConfig.InstanceType",
    "QualityCheck": "ProcessingResources.ClusterConfig.InstanceType",
    "ClarifyCheck": "ProcessingResources.ClusterConfig.InstanceType",
    "Transform": "TransformResources.InstanceType",
}
# (isolation flag, VPC config) per step type.
NETWORK = {
    "Training": ("EnableNetworkIsolation", "VpcConfig"),
    "Model": ("EnableNetworkIsolation", "VpcConfig"),
    "Processing": ("NetworkConfig.EnableNetworkIsolation", "NetworkConfig.VpcConfig"),
    "QualityCheck": ("NetworkConfig.EnableNetworkIsolation", "NetworkConfig.VpcConfig"),
    "ClarifyCheck": ("NetworkConfig.EnableNetworkIsolation", "NetworkConfig.VpcConfig"),
}
INTER_CONTAINER = {
    "Training": "EnableInterContainerTrafficEncryption",
    "Processing": "NetworkConfig.EnableInterContainerTrafficEncryption",
    "QualityCheck": "NetworkConfig.EnableInterContainerTrafficEncryption",
    "ClarifyCheck": "NetworkConfig.EnableInterContainerTrafficEncryption",
}


def tuning_definitions(step: PipelineStep) -> list[PipelineStep]:
    """A Tuning step's training job definition(s), as Training-shaped pseudo steps."""
    found = []
    single = step.value("TrainingJobDefinition")
    many = step.value("TrainingJobDefinitions")
    definitions = ([single] if isinstance(single, Mapping) else []) + (many if isinstance(many, list) else [])
    for index, definition in enumerate(definitions):
        if isinstance(definition, Mapping):
            found.append(
                PipelineStep(
                    f"{step.name}[{index}]",
                    "Training",
                    definition,
                    f"{step.path}.Arguments.TrainingJobDefinition",
                    step.parameters,
                )
            )
    return found


def job_steps(props: Mapping[str, Any]) -> list[PipelineStep]:
    """Job-like steps, tuning definitions expanded into Training steps."""
    steps = []
    for step in pipeline_steps(props):
        steps += tuning_definitions(step) if step.type == "Tuning" else [step]
    return steps
