"""data-capture: production endpoints record requests and responses (for drift detection and audit).

Applies in protected environments only. Serverless-only SageMaker endpoint configurations are
exempt: SageMaker does not support data capture on serverless variants.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from mlops_infra.conventions.markers import NO_DATA_CAPTURE_MARKER
from mlops_infra.policy.context import RuleContext
from mlops_infra.policy.markers import annotated
from mlops_infra.policy.model import Finding, ResourceView
from mlops_infra.policy.rules.common import Handler, covered_types, dispatch, subject
from mlops_infra.policy.spec import PolicySpec
from mlops_infra.policy.values import get, is_set, is_true, is_unknown, items, known

ID = "data-capture"


def _sagemaker(view: ResourceView, ctx: RuleContext) -> Iterator[Finding]:
    variants = items(view.props.get("productionVariants"), "productionVariants")
    if variants and all(isinstance(v, Mapping) and is_set(v.get("serverlessConfig")) for v in variants):
        return
    if not is_true(get(view.props, "dataCaptureConfig.enableCapture"), "dataCaptureConfig.enableCapture"):
        yield Finding(
            f"{subject(view)} (production): requests and responses are not captured. Set dataCaptureConfig "
            "with enableCapture: true, captureOptions [Input, Output], destinationS3Uri and kmsKeyId."
        )
        return
    options = "dataCaptureConfig.captureOptions"
    modes = {
        str(known(known(o, f"{options}[{i}]").get("captureMode"), f"{options}[{i}].captureMode"))
        for i, o in enumerate(items(get(view.props, options), options))
        if is_unknown(o) or isinstance(o, Mapping)
    }
    if not {"Input", "Output"} <= modes:
        yield Finding(
            f"{subject(view)} (production): dataCaptureConfig.captureOptions captures only "
            f"{', '.join(sorted(modes)) or 'nothing'}; capture both Input and Output."
        )
    sampling = known(
        get(view.props, "dataCaptureConfig.initialSamplingPercentage"), "dataCaptureConfig.initialSamplingPercentage"
    )
    if isinstance(sampling, (int, float)) and sampling <= 0:
        yield Finding(
            f"{subject(view)} (production): dataCaptureConfig.initialSamplingPercentage is {sampling}; set it above 0."
        )


def _vertex(view: ResourceView, ctx: RuleContext) -> Iterator[Finding]:
    config = "predictRequestResponseLoggingConfig"
    if not is_true(get(view.props, f"{config}.enabled"), f"{config}.enabled"):
        yield Finding(
            f"{subject(view)} (production): prediction requests and responses are not logged. Set "
            f"{config}.enabled: true, samplingRate > 0 and bigqueryDestination.outputUri."
        )
        return
    rate = known(get(view.props, f"{config}.samplingRate"), f"{config}.samplingRate")
    if isinstance(rate, (int, float)) and rate <= 0:
        yield Finding(f"{subject(view)} (production): {config}.samplingRate is {rate}; set it above 0.")


def _kserve(view: ResourceView, ctx: RuleContext) -> Iterator[Finding]:
    if not isinstance(get(view.props, "spec.predictor"), Mapping):
        return
    if not is_set(get(view.props, "spec.predictor.logger")):
        yield Finding(
            f"{subject(view)} (production): spec.predictor.logger is not set, so requests and responses "
            "are not captured. Set spec.predictor.logger with mode: all and url (the capture sink)."
        )
        return
    mode = known(get(view.props, "spec.predictor.logger.mode"), "spec.predictor.logger.mode")
    if mode not in (None, "all"):  # KServe's default mode is "all"
        yield Finding(
            f"{subject(view)} (production): spec.predictor.logger.mode is {mode!r}; set it to 'all' to "
            "capture both requests and responses."
        )


def _seldon(view: ResourceView, ctx: RuleContext) -> Iterator[Finding]:
    if annotated(view, NO_DATA_CAPTURE_MARKER):
        return  # accepted on purpose, in code and on the object
    yield Finding(
        f"{subject(view)} (production): a Seldon Core v2 Model records no requests or responses (the scheduler "
        "does not apply spec.logger; payloads reach Kafka only through a Seldon Pipeline), so drift and audit have "
        f'no data. Serve it with KServe and a predictor logger, or annotate the Model {NO_DATA_CAPTURE_MARKER}: "true" '
        "to accept serving without capture."
    )


HANDLERS: dict[str, Handler] = {
    "aws:sagemaker/endpointConfiguration:EndpointConfiguration": _sagemaker,
    "gcp:vertex/aiEndpoint:AiEndpoint": _vertex,
    "kubernetes:serving.kserve.io/v1beta1:InferenceService": _kserve,
    "kubernetes:mlops.seldon.io/v1alpha1:Model": _seldon,
}

SPEC = PolicySpec(
    id=ID,
    title="Production endpoints capture requests and responses",
    description=(
        "In protected environments: SageMaker endpoint configurations enable dataCaptureConfig for Input and "
        "Output; Vertex AI endpoints enable predictRequestResponseLoggingConfig; KServe InferenceServices set "
        "a predictor logger with mode all; Seldon Core v2 Models, which cannot record payloads, carry the explicit "
        f'{NO_DATA_CAPTURE_MARKER}: "true" annotation.'
    ),
    remediation="Give the endpoint component a capture destination (S3 prefix, BigQuery table or logger URL).",
    resource_types=covered_types(HANDLERS),
    resource_check=dispatch(HANDLERS),
    protected_only=True,
)
