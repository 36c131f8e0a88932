"""network-isolation: models, training, processing and monitoring jobs run network-isolated or in
your VPC; notebooks run in a VPC subnet on Shielded VMs.

"Isolated or in a VPC" follows the architecture contract: network isolation (no outbound calls)
is the strongest, a VPC with your subnets and security groups is the accepted alternative for
containers that must reach data sources.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from mlops_infra.policy.context import RuleContext
from mlops_infra.policy.facts.sagemaker_pipeline import NETWORK, enabled, job_steps, present
from mlops_infra.policy.model import Finding, ResourceView
from mlops_infra.policy.rules.common import SAGEMAKER_JOB_DEFINITION, Handler, covered_types, dispatch, subject
from mlops_infra.policy.spec import PolicySpec
from mlops_infra.policy.values import get, is_set, is_true, items, known

ID = "network-isolation"


def _isolated_or_vpc(view: ResourceView, flag: str, vpc: str, what: str) -> Iterator[Finding]:
    if not is_true(get(view.props, flag), flag) and not is_set(get(view.props, f"{vpc}.subnets")):
        yield Finding(
            f"{subject(view)}: {what} can reach the internet. Set {flag}: true (no outbound network), "
            f"or {vpc} with your subnets and securityGroupIds."
        )


def _model(view: ResourceView, ctx: RuleContext) -> Iterator[Finding]:
    yield from _isolated_or_vpc(view, "enableNetworkIsolation", "vpcConfig", "the model container")


def _notebook(view: ResourceView, ctx: RuleContext) -> Iterator[Finding]:
    if not is_set(view.props.get("subnetId")):
        yield Finding(
            f"{subject(view)}: the notebook runs in the SageMaker service network, not your VPC. Set subnetId "
            "and securityGroups."
        )


def _training_job(view: ResourceView, ctx: RuleContext) -> Iterator[Finding]:
    yield from _isolated_or_vpc(view, "enableNetworkIsolation", "vpcConfig", "the training container")


def _tuning_job(view: ResourceView, ctx: RuleContext) -> Iterator[Finding]:
    bases = (["trainingJobDefinition"] if is_set(view.props.get("trainingJobDefinition")) else []) + [
        f"trainingJobDefinitions[{i}]"
        for i, _ in enumerate(items(view.props.get("trainingJobDefinitions"), "trainingJobDefinitions"))
    ]
    for base in bases:
        yield from _isolated_or_vpc(
            view, f"{base}.enableNetworkIsolation", f"{base}.vpcConfig", f"{base}'s training container"
        )


def _job_definition(view: ResourceView, ctx: RuleContext) -> Iterator[Finding]:
    yield from _isolated_or_vpc(
        view, "networkConfig.enableNetworkIsolation", "networkConfig.vpcConfig", "the monitoring job"
    )


def _monitoring_schedule(view: ResourceView, ctx: RuleContext) -> Iterator[Finding]:
    base = "monitoringScheduleConfig.monitoringJobDefinition"
    if is_set(get(view.props, base)):
        yield from _isolated_or_vpc(
            view,
            f"{base}.networkConfig.enableNetworkIsolation",
            f"{base}.networkConfig.vpcConfig",
            "the monitoring job",
        )


def pipeline_findings(props: Mapping[str, Any]) -> Iterator[str]:
    """The steps of ``props["pipelineDefinition"]`` neither network-isolated nor in a VPC (one message each).

    The SageMaker pipeline rule and ``mlops_infra.aws.TrainingPipeline`` (for a supplied definition)
    both call this.
    """
    for step in job_steps(props):
        paths = NETWORK.get(step.type)
        if paths is None:
            continue
        flag, vpc = paths
        if not enabled(step.value(flag)) and not present(step.value(f"{vpc}.Subnets")):
            yield (
                f"step {step.name!r} ({step.type}) can reach the internet. Set "
                f"Arguments.{flag}: true or Arguments.{vpc} (Subnets, SecurityGroupIds) in pipelineDefinition "
                "(enable_network_isolation / network_config in the SageMaker SDK)."
            )


def _pipeline(view: ResourceView, ctx: RuleContext) -> Iterator[Finding]:
    for message in pipeline_findings(view.props):
        yield Finding(f"{subject(view)}: {message}")


def _shielded(base: str) -> Handler:
    prefix = f"{base}." if base else ""

    def check(view: ResourceView, ctx: RuleContext) -> Iterator[Finding]:
        for flag, what in (("enableVtpm", "Shielded VM (vTPM)"), ("enableIntegrityMonitoring", "integrity monitoring")):
            path = f"{prefix}shieldedInstanceConfig.{flag}"
            if known(get(view.props, path), path) is False:
                yield Finding(f"{subject(view)}: {what} is turned off. Remove {path}: false (it defaults to true).")

    return check


HANDLERS: dict[str, Handler] = {
    "aws:sagemaker/model:Model": _model,
    "aws:sagemaker/notebookInstance:NotebookInstance": _notebook,
    "aws:sagemaker/trainingJob:TrainingJob": _training_job,
    "aws:sagemaker/hyperParameterTuningJob:HyperParameterTuningJob": _tuning_job,
    "aws:sagemaker/dataQualityJobDefinition:DataQualityJobDefinition": _job_definition,
    "aws:sagemaker/monitoringSchedule:MonitoringSchedule": _monitoring_schedule,
    "aws:sagemaker/pipeline:Pipeline": _pipeline,
    "gcp:workbench/instance:Instance": _shielded("gceSetup"),
    "gcp:notebooks/instance:Instance": _shielded(""),
    "gcp:notebooks/runtime:Runtime": _shielded("virtualMachine.virtualMachineConfig"),
}

SPEC = PolicySpec(
    id=ID,
    title="Models and jobs isolated or in a VPC; notebooks in a VPC on Shielded VMs",
    description=(
        "SageMaker models, training, tuning, processing and monitoring jobs (raw resources and pipeline "
        "definition steps) enable network isolation or run in your VPC; notebook instances have a subnetId; "
        "Vertex AI notebooks and runtimes keep Shielded VM (vTPM) and integrity monitoring on. On Kubernetes "
        "isolation is the namespace's default-deny NetworkPolicy (k8s-namespace-guardrails)."
    ),
    remediation="Pass subnets/security groups (or isolation) to the component, or set the named property.",
    resource_types={
        **covered_types(HANDLERS),
        "aws": (*covered_types(HANDLERS)["aws"], "aws:sagemaker/*JobDefinition"),
    },
    checkov_ids=("CKV_AWS_306", "CKV_AWS_370", "CKV_GCP_126", "CKV_GCP_127"),
    resource_check=dispatch(HANDLERS, [(SAGEMAKER_JOB_DEFINITION, _job_definition)]),
)
