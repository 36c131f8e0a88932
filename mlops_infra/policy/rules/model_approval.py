"""model-approval: production deploys take approved model versions only.

In protected environments:
- a SageMaker Model deploys a versioned model package from the registry (``modelPackageName``),
  not a loose S3 artifact, so only what the registry approved can serve;
- a SageMaker pipeline registers new versions as ``PendingManualApproval``, never ``Approved``;
- a Vertex AI deployment (the platform's VertexModelDeployment) requires the approval alias, and
  nothing deploys straight from Model Garden or Hugging Face;
- a KServe InferenceService serves an immutable model version, never ``latest``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from mlops_infra.policy.context import RuleContext
from mlops_infra.policy.facts.k8s_workloads import KSERVE_COMPONENTS, KSERVE_FRAMEWORKS
from mlops_infra.policy.facts.sagemaker_pipeline import pipeline_steps
from mlops_infra.policy.model import Finding, ResourceView
from mlops_infra.policy.rules.common import Handler, covered_types, dispatch, subject
from mlops_infra.policy.spec import PolicySpec
from mlops_infra.policy.values import get, is_set, is_unknown, items

ID = "model-approval"
VERTEX_DEPLOYMENT = "pulumi-python:dynamic/vertex:VertexModelDeployment"
MUTABLE_VERSION = re.compile(r"(^|[/:@])latest($|[/:@])", re.IGNORECASE)


def _containers(view: ResourceView) -> list[tuple[str, Mapping[str, Any]]]:
    found = []
    if isinstance(get(view.props, "primaryContainer"), Mapping):
        found.append(("primaryContainer", get(view.props, "primaryContainer")))
    for index, container in enumerate(items(view.props.get("containers"), "containers")):
        if isinstance(container, Mapping):
            found.append((f"containers[{index}]", container))
    return found


def _sagemaker_model(view: ResourceView, ctx: RuleContext) -> Iterator[Finding]:
    for path, container in _containers(view):
        package = container.get("modelPackageName")
        if not is_set(package):
            yield Finding(
                f"{subject(view)} (production): {path} deploys an unregistered artifact "
                f"({container.get('modelDataUrl') or container.get('image') or 'no model package'}). Set "
                f"{path}.modelPackageName to an Approved model package version ARN from the model registry."
            )
        elif isinstance(package, str) and not is_unknown(package) and ":model-package-group/" in package:
            yield Finding(
                f"{subject(view)} (production): {path}.modelPackageName is a model package group, not a "
                "version. Use the ARN of the approved version (.../model-package/<group>/<version>)."
            )


def _sagemaker_pipeline(view: ResourceView, ctx: RuleContext) -> Iterator[Finding]:
    for step in pipeline_steps(view.props):
        if step.type != "RegisterModel":
            continue
        status = step.value("ModelApprovalStatus")
        if status == "Approved":
            yield Finding(
                f"{subject(view)} (production): step {step.name!r} registers models as Approved, skipping the "
                "manual gate. Set Arguments.ModelApprovalStatus: PendingManualApproval (approval_status in the "
                "SageMaker SDK's RegisterModel / ModelStep)."
            )


def _vertex_deployment(view: ResourceView, ctx: RuleContext) -> Iterator[Finding]:
    if not is_set(view.props.get("required_alias")):
        yield Finding(
            f"{subject(view)} (production): any registered model version can be deployed. Set required_alias "
            "(the Vertex Model Registry alias that marks approval, e.g. 'approved')."
        )


def _model_garden(view: ResourceView, ctx: RuleContext) -> Iterator[Finding]:
    source = view.props.get("publisherModelName") or view.props.get("huggingFaceModelId") or "an external model"
    yield Finding(
        f"{subject(view)} (production): deploys {source} straight from Model Garden/Hugging Face, bypassing "
        "the model registry and its approval. Register the model, approve a version, then deploy that version."
    )


def _kserve(view: ResourceView, ctx: RuleContext) -> Iterator[Finding]:
    for component in KSERVE_COMPONENTS:
        for framework in KSERVE_FRAMEWORKS:
            path = f"spec.{component}.{framework}.storageUri"
            uri = get(view.props, path)
            if isinstance(uri, str) and MUTABLE_VERSION.search(uri):
                yield Finding(
                    f"{subject(view)} (production): {path} is {uri!r}, a moving pointer, not an approved "
                    "version. Point it at the immutable URI of the approved version (a version path or digest)."
                )


HANDLERS: dict[str, Handler] = {
    "aws:sagemaker/model:Model": _sagemaker_model,
    "aws:sagemaker/pipeline:Pipeline": _sagemaker_pipeline,
    VERTEX_DEPLOYMENT: _vertex_deployment,
    "gcp:vertex/aiEndpointWithModelGardenDeployment:AiEndpointWithModelGardenDeployment": _model_garden,
    "kubernetes:serving.kserve.io/v1beta1:InferenceService": _kserve,
}

SPEC = PolicySpec(
    id=ID,
    title="Production deploys take approved model versions only",
    description=(
        "In protected environments SageMaker models deploy a versioned model package (modelPackageName), pipelines "
        "register versions as PendingManualApproval, Vertex deployments require the approval alias and never deploy "
        "from Model Garden directly, and KServe serves an immutable storageUri (never 'latest')."
    ),
    remediation="Deploy from the model registry: approve a version, then pass its ARN/alias/URI to the endpoint.",
    resource_types=covered_types(HANDLERS),
    resource_check=dispatch(HANDLERS),
    protected_only=True,
)
