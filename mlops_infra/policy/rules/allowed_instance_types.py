"""allowed-instance-types: instance and machine types come from the configured allow-list.

Patterns are shell globs (``ml.m5.*``, ``n1-standard-*``); the default list holds the common
general-purpose, compute, memory and mainstream GPU families and leaves out the largest training
families (p4d, p5, trn1, a3), which a stack allows explicitly in its policy config.

A pattern admits a type only where the provider offers it: a SageMaker type must be in botocore's
enumeration of its job kind (endpoint, training, processing, monitoring, transform, notebook) and a
Vertex deployment's machine type in the documented prediction machine types
(``policy.facts.instance_types``), so ``ml.m5.*`` does not let ``ml.m5d.large`` into a processing job.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterator, Mapping
from typing import Any

from mlops_infra.policy.context import RuleContext
from mlops_infra.policy.facts.instance_types import SageMakerKind, VertexUse, sagemaker_problem, vertex_problem
from mlops_infra.policy.facts.k8s_workloads import workloads
from mlops_infra.policy.facts.sagemaker_pipeline import INSTANCE_TYPE, job_steps
from mlops_infra.policy.model import Finding, ResourceView
from mlops_infra.policy.rules.common import SAGEMAKER_JOB_DEFINITION, subject
from mlops_infra.policy.spec import PolicySpec
from mlops_infra.policy.values import get, is_unknown, items, walk

ID = "allowed-instance-types"
INSTANCE_TYPE_LABELS = ("node.kubernetes.io/instance-type", "beta.kubernetes.io/instance-type")
KARPENTER_NODE_POOL = "kubernetes:karpenter.sh/v1:NodePool"
VERTEX_MODEL_DEPLOYMENT = "pulumi-python:dynamic/vertex:VertexModelDeployment"
# Extended resources that are GPUs: a request or limit of one is checked as its resource name
# ("nvidia.com/gpu"), so an allow-list admits Kubernetes GPUs only when it lists that name.
GPU_RESOURCE_SUFFIX = "/gpu"

# Paths of instance/machine type properties per type token ("[]" = every list element).
PATHS: dict[str, tuple[str, ...]] = {
    "aws:sagemaker/endpointConfiguration:EndpointConfiguration": (
        "productionVariants[].instanceType",
        "shadowProductionVariants[].instanceType",
    ),
    "aws:sagemaker/notebookInstance:NotebookInstance": ("instanceType",),
    "aws:sagemaker/trainingJob:TrainingJob": (
        "resourceConfig.instanceType",
        "resourceConfig.instanceGroups[].instanceType",
    ),
    "aws:sagemaker/hyperParameterTuningJob:HyperParameterTuningJob": (
        "trainingJobDefinition.resourceConfig.instanceType",
        "trainingJobDefinition.hyperParameterTuningResourceConfig.instanceType",
        "trainingJobDefinitions[].resourceConfig.instanceType",
    ),
    "aws:sagemaker/dataQualityJobDefinition:DataQualityJobDefinition": ("jobResources.clusterConfig.instanceType",),
    "aws:sagemaker/monitoringSchedule:MonitoringSchedule": (
        "monitoringScheduleConfig.monitoringJobDefinition.monitoringResources.clusterConfig.instanceType",
    ),
    "aws:ec2/instance:Instance": ("instanceType",),
    "aws:ec2/launchTemplate:LaunchTemplate": ("instanceType",),
    "aws:eks/nodeGroup:NodeGroup": ("instanceTypes[]",),
    "gcp:workbench/instance:Instance": ("gceSetup.machineType",),
    "gcp:notebooks/instance:Instance": ("machineType",),
    "gcp:notebooks/runtime:Runtime": ("virtualMachine.virtualMachineConfig.machineType",),
    "gcp:compute/instance:Instance": ("machineType",),
    "gcp:compute/instanceTemplate:InstanceTemplate": ("machineType",),
    "gcp:container/nodePool:NodePool": ("nodeConfig.machineType",),
    "gcp:container/cluster:Cluster": ("nodeConfig.machineType",),
    "gcp:vertex/aiDeploymentResourcePool:AiDeploymentResourcePool": ("dedicatedResources.machineSpec.machineType",),
    "gcp:vertex/aiIndexEndpointDeployedIndex:AiIndexEndpointDeployedIndex": (
        "dedicatedResources.machineSpec.machineType",
    ),
    "gcp:vertex/aiPersistentResource:AiPersistentResource": ("resourcePools[].machineSpec.machineType",),
    "gcp:vertex/aiEndpointWithModelGardenDeployment:AiEndpointWithModelGardenDeployment": (
        "deployConfig.dedicatedResources.machineSpec.machineType",
        "deployConfig.dedicatedResources.machineSpec.acceleratorType",
    ),
    VERTEX_MODEL_DEPLOYMENT: ("deployments[].machine_type", "deployments[].accelerator_type"),
}


# The SageMaker job kind (botocore enumeration) or Vertex use of each type token's instance/machine types.
SAGEMAKER_KIND: dict[str, SageMakerKind] = {
    "aws:sagemaker/endpointConfiguration:EndpointConfiguration": "endpoint",
    "aws:sagemaker/notebookInstance:NotebookInstance": "notebook",
    "aws:sagemaker/trainingJob:TrainingJob": "training",
    "aws:sagemaker/hyperParameterTuningJob:HyperParameterTuningJob": "training",
    "aws:sagemaker/dataQualityJobDefinition:DataQualityJobDefinition": "monitoring",
    "aws:sagemaker/monitoringSchedule:MonitoringSchedule": "monitoring",
}
STEP_KIND: dict[str, SageMakerKind] = {
    "Training": "training",
    "Processing": "processing",
    "QualityCheck": "processing",
    "ClarifyCheck": "processing",
    "Transform": "transform",
}
VERTEX_USE: dict[str, VertexUse] = {
    VERTEX_MODEL_DEPLOYMENT: "prediction",
    "gcp:vertex/aiDeploymentResourcePool:AiDeploymentResourcePool": "prediction",
    "gcp:vertex/aiEndpointWithModelGardenDeployment:AiEndpointWithModelGardenDeployment": "prediction",
}
MACHINE_TYPE_SUFFIXES = ("machineType", "machine_type")


def _offered(view: ResourceView, path: str, value: str, step_kind: SageMakerKind | None) -> str | None:
    """Why the provider does not offer ``value`` where ``path`` uses it, or None (also when nothing says)."""
    kind = step_kind or SAGEMAKER_KIND.get(view.type)
    if kind is None and SAGEMAKER_JOB_DEFINITION.match(view.type):
        kind = "monitoring"
    if kind is not None:
        return sagemaker_problem(value, kind)
    use = VERTEX_USE.get(view.type)
    if use is not None and path.endswith(MACHINE_TYPE_SUFFIXES):
        return vertex_problem(value, use)
    return None


def _values(props: Mapping[str, Any], path: str) -> list[tuple[str, Any]]:
    """(concrete path, value) for a path whose ``[]`` parts fan out over list elements."""
    head, sep, rest = path.partition("[]")
    if not sep:
        return [(path, get(props, path))]
    found = []
    for index, element in enumerate(items(get(props, head), head)):
        concrete = f"{head}[{index}]"
        if not rest:
            found.append((concrete, element))
        elif isinstance(element, Mapping):
            found += [(f"{concrete}.{p}", v) for p, v in _values(element, rest.lstrip("."))]
    return found


def _pipeline(view: ResourceView) -> list[tuple[str, Any, SageMakerKind | None]]:
    return [
        (f"step {s.name!r} Arguments.{INSTANCE_TYPE[s.type]}", s.value(INSTANCE_TYPE[s.type]), STEP_KIND.get(s.type))
        for s in job_steps(view.props)
        if s.type in INSTANCE_TYPE
    ]


def _k8s(view: ResourceView) -> list[tuple[str, Any]]:
    found: list[tuple[str, Any]] = []
    for pod, _ in workloads(view.type, view.props):
        selector = pod.spec.get("nodeSelector")
        if isinstance(selector, Mapping):
            found += [(f"{pod.path}.nodeSelector[{k}]", v) for k, v in selector.items() if k in INSTANCE_TYPE_LABELS]
        for path, value in walk(pod.spec.get("affinity"), f"{pod.path}.affinity"):
            if (
                isinstance(value, Mapping)
                and value.get("key") in INSTANCE_TYPE_LABELS
                and value.get("operator") == "In"
            ):
                found += [(f"{path}.values", v) for v in items(value.get("values"), f"{path}.values")]
    found += _gpu_requests(view)
    if view.type == KARPENTER_NODE_POOL:
        for index, requirement in enumerate(items(get(view.props, "spec.template.spec.requirements"), "requirements")):
            if isinstance(requirement, Mapping) and requirement.get("key") in INSTANCE_TYPE_LABELS:
                where = f"spec.template.spec.requirements[{index}].values"
                found += [(where, v) for v in items(requirement.get("values"), where)]
    return found


def _gpu_requests(view: ResourceView) -> list[tuple[str, Any]]:
    """Non-zero GPU requests/limits of every container, as (path, resource name)."""
    found: list[tuple[str, Any]] = []
    for container in (c for _, containers in workloads(view.type, view.props) for c in containers):
        resources = container.spec.get("resources")
        for section in ("requests", "limits"):
            amounts = resources.get(section) if isinstance(resources, Mapping) else None
            if isinstance(amounts, Mapping):
                found += [
                    (f"{container.path}.resources.{section}[{name}]", str(name))
                    for name, amount in amounts.items()
                    if str(name).endswith(GPU_RESOURCE_SUFFIX) and _nonzero(amount)
                ]
    return found


def _nonzero(amount: Any) -> bool:
    """A GPU count other than 0 (unknown counts count: fail closed)."""
    if isinstance(amount, bool):
        return amount
    if isinstance(amount, (int, float)):
        return amount != 0
    return not (isinstance(amount, str) and amount.strip() in ("0", "0.0", ""))


def check(view: ResourceView, ctx: RuleContext) -> Iterator[Finding]:
    with ctx.unknowns():
        candidates: list[tuple[str, Any, SageMakerKind | None]]
        if view.type == "aws:sagemaker/pipeline:Pipeline":
            candidates = _pipeline(view)
        elif view.package == "kubernetes":
            candidates = [(path, value, None) for path, value in _k8s(view)]
        else:
            paths = PATHS.get(view.type) or (
                ("jobResources.clusterConfig.instanceType",) if SAGEMAKER_JOB_DEFINITION.match(view.type) else ()
            )
            candidates = [(p, v, None) for path in paths for p, v in _values(view.props, path)]
        allowed = ctx.config.instance_types_for(ctx.environment)
        named = ctx.environment is not None and ctx.environment in ctx.config.allowed_instance_types_by_environment
        where = f"allowedInstanceTypesByEnvironment.{ctx.environment}" if named else "allowedInstanceTypes"
        for path, value, step_kind in candidates:
            if not isinstance(value, str) or is_unknown(value) or not value:
                continue
            problem = _offered(view, path, value, step_kind)
            if problem is not None:
                yield Finding(
                    f"{subject(view)}: {path} is {value}: {problem}. An allow-list pattern cannot admit it; "
                    "pick a type the service offers for this use."
                )
            elif not any(fnmatch.fnmatchcase(value, pattern) for pattern in allowed):
                what = f"asks for a GPU ({value})" if path.endswith(f"[{value}]") else f"is {value}"
                yield Finding(
                    f"{subject(view)}: {path} {what}, which is not in the allowed instance types"
                    f"{f' of environment {ctx.environment}' if named else ''}. Use an allowed type, or add it "
                    f"to {where} in the policy config if it is approved for this stack."
                )


SPEC = PolicySpec(
    id=ID,
    title="Instance and machine types from the allow-list",
    description=(
        "SageMaker instance types (endpoints, notebooks, training, tuning, monitoring, pipeline steps), EC2/EKS node "
        "types, GCP machine types (Workbench, notebooks, Compute, GKE node pools, Vertex deployment resources) and "
        "Vertex accelerator types, the product's VertexModelDeployment machine and accelerator types, Kubernetes "
        "instance-type node selectors, affinities and Karpenter NodePool requirements, and Kubernetes GPU requests "
        "(nvidia.com/gpu in any workload's or InferenceService's requests/limits, checked as that name) match the "
        "allow-list of the resource's environment: allowedInstanceTypesByEnvironment[environment] when it names the "
        "environment (default: dev admits no GPUs and nothing above *.xlarge / *-standard-4), else "
        "allowedInstanceTypes. A pattern admits a SageMaker type only for the job kinds botocore's service model "
        "offers it for (endpoint, training, processing, monitoring, transform, notebook) and a Vertex deployment's "
        "machine type only when the Vertex documentation lists it for prediction (policy/facts/instance_types.json)."
    ),
    remediation=(
        "Pick an allowed type or extend allowedInstanceTypes (or allowedInstanceTypesByEnvironment.<env>) in the "
        "policy config (glob patterns; list nvidia.com/gpu to admit Kubernetes GPUs)."
    ),
    resource_types={
        "aws": (*sorted(t for t in PATHS if t.startswith("aws:")), "aws:sagemaker/pipeline:Pipeline"),
        "gcp": (*sorted(t for t in PATHS if t.startswith("gcp:")), VERTEX_MODEL_DEPLOYMENT),
        "kubernetes": (
            "every workload with a pod spec (nodeSelector, nodeAffinity, GPU requests/limits), InferenceService",
            KARPENTER_NODE_POOL,
        ),
    },
    resource_check=check,
    config_properties=("allowedInstanceTypes", "allowedInstanceTypesByEnvironment"),
)
