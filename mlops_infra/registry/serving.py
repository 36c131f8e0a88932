"""The realizations' entry points: which version an endpoint serves under ``serve: latest_approved``.

Each function asks the live registry when the Pulumi program really runs (``pulumi preview``/``up``),
and the stack config ``offlineApprovedVersions`` under the offline engine (:mod:`.offline`). It
returns None when the endpoint must not be deployed, after a warning that says how to approve one.

Missing-version rule (docs/approval-to-rollout.md):

- the registry does not exist yet (a first deployment, whose run creates it): a warning, and the
  endpoint is not deployed, in every environment;
- it exists with no approved version: dev warns and does not deploy the endpoint; a protected
  environment raises :class:`NoApprovedVersionError`, so the run stops and production keeps
  serving what it serves (revoking every approval never deletes a production endpoint).
"""

from __future__ import annotations

from typing import Any

import pulumi

from mlops_infra.realization import RealizeContext
from mlops_infra.registry.mlflow import aliased_storage_uri
from mlops_infra.registry.offline import OFFLINE_KEY, is_offline, offline_version
from mlops_infra.registry.sagemaker import latest_approved_package
from mlops_infra.registry.version import ApprovedVersion, Missing, NoApprovedVersionError, Resolution
from mlops_infra.registry.vertex import aliased_version
from mlops_infra.spec.approval import ServedVersion
from mlops_infra.spec.aws import check_model_package_version_arn
from mlops_infra.spec.environment import EnvironmentDefaults, effective_approval
from mlops_infra.spec.platform import PlatformSpec

MLFLOW_TRACKING_URI_KEY = "mlflowTrackingUri"
"""Stack config: the MLflow URL reachable from where ``pulumi up`` runs (ingress, or a port-forward on 127.0.0.1)."""
MLFLOW_TOKEN_KEY = "mlflowToken"
"""Secret stack config (optional): a bearer token oauth2-proxy accepts in front of MLflow."""


def follows_latest_approved(spec: PlatformSpec, defaults: EnvironmentDefaults) -> bool:
    """Whether the spec's endpoints serve the registry's newest approved version."""
    return effective_approval(spec.registry, defaults).serve is ServedVersion.LATEST_APPROVED


def latest_sagemaker_package(context: RealizeContext, endpoint: str, group_name: str) -> int | str | None:
    """The newest Approved package of ``group_name``: a version ARN (offline: the configured number or ARN)."""
    approve = (
        f"approve one (aws sagemaker update-model-package --model-package-arn ARN --model-approval-status "
        f"Approved) in the group {group_name}"
    )
    if is_offline():
        value = offline_version(endpoint)
        if isinstance(value, str):
            check_model_package_version_arn(value)
        found = _offline(value)
        settled = _settle(context, endpoint, found, where=f"the model package group {group_name}", approve=approve)
        return None if settled is None else value
    import boto3  # noqa: PLC0415 - boto3 is imported only when a registry is really asked

    client = boto3.client("sagemaker", region_name=pulumi.Config("aws").get("region"))
    resolved = _settle(
        context,
        endpoint,
        latest_approved_package(client, group_name),
        where=f"the model package group {group_name}",
        approve=approve,
    )
    return None if resolved is None else resolved.reference


def latest_vertex_version(
    context: RealizeContext, endpoint: str, *, model_id: str, region: str, alias: str, api_endpoint: str
) -> str | None:
    """``projects/P/locations/R/models/M@VERSION_ID`` of the version holding ``alias`` (the deployment's revision)."""
    project = pulumi.Config("gcp").get("project")
    if project is None and not is_offline():
        raise ValueError(
            "registry.approval.serve=latest_approved reads the Vertex model when the program runs: set gcp:project"
        )
    model = f"projects/{project or 'offline'}/locations/{region}/models/{model_id}"
    where = f"the Vertex model {model}"
    approve = f"add the version alias {alias!r} to one of its versions (Model Registry, or models.mergeVersionAliases)"
    if is_offline():
        value = offline_version(endpoint)
        found = _offline(None if value is None else f"{model}@{value}", version=value)
    else:
        from mlops_infra.gcp.dynamic.clients import model_service  # noqa: PLC0415 - slow google.cloud imports

        found = aliased_version(model_service(api_endpoint), model, alias)
    resolved = _settle(context, endpoint, found, where=where, approve=approve)
    return None if resolved is None else resolved.reference


def latest_mlflow_storage_uri(context: RealizeContext, endpoint: str, *, model_name: str, alias: str) -> str | None:
    """The storage URI of the MLflow version of ``model_name`` holding ``alias``."""
    where = f"the MLflow registered model {model_name!r}"
    approve = f"set the alias: MlflowClient().set_registered_model_alias({model_name!r}, {alias!r}, VERSION)"
    if is_offline():
        found = _offline(offline_version(endpoint))
    else:
        tracking_uri = pulumi.Config().get(MLFLOW_TRACKING_URI_KEY)
        if not tracking_uri:
            raise ValueError(
                f"registry.approval.serve=latest_approved asks MLflow when the program runs: set the stack config "
                f"{MLFLOW_TRACKING_URI_KEY} to its URL as seen from where `pulumi up` runs (its ingress, or "
                "http://127.0.0.1:PORT with a kubectl port-forward), and the secret config "
                f"{MLFLOW_TOKEN_KEY} if oauth2-proxy guards it"
            )
        token = pulumi.runtime.get_config(f"{pulumi.get_project()}:{MLFLOW_TOKEN_KEY}")
        found = aliased_storage_uri(tracking_uri, model_name, alias, token=token)
    resolved = _settle(context, endpoint, found, where=where, approve=approve)
    return None if resolved is None else resolved.reference


def serve_latest_mlflow(spec: PlatformSpec, context: RealizeContext) -> PlatformSpec:
    """``spec`` with each endpoint's artifact set to its approved MLflow version; endpoints without one dropped."""
    if not follows_latest_approved(spec, context.defaults):
        return spec
    alias = effective_approval(spec.registry, context.defaults).approved_label
    served = []
    for endpoint in spec.endpoints:
        uri = latest_mlflow_storage_uri(context, endpoint.name, model_name=spec.registry.model_name, alias=alias)
        if uri is not None:
            served.append(endpoint.model_copy(update={"model": endpoint.model.model_copy(update={"artifact": uri})}))
    return spec.model_copy(update={"endpoints": served})


def _offline(value: Any, version: Any = None) -> Resolution:
    if value is None:
        return Missing.APPROVAL
    return ApprovedVersion(reference=str(value), version=str(version or value), source=f"stack config {OFFLINE_KEY}")


def _settle(
    context: RealizeContext, endpoint: str, found: Resolution, *, where: str, approve: str
) -> ApprovedVersion | None:
    """The version to serve, or None (warned) when the endpoint is not deployed; raises in protected environments."""
    cloud = context.cloud.value
    if isinstance(found, ApprovedVersion):
        pulumi.log.info(f"{cloud}: endpoint {endpoint!r} serves {found.reference} (newest approved, {found.source})")
        return found
    prefix = f"{cloud}: endpoint {endpoint!r} follows registry.approval.serve=latest_approved"
    offline = f" (offline plans: set the stack config {OFFLINE_KEY}.{endpoint})" if is_offline() else ""
    if found is Missing.REGISTRY:
        pulumi.log.warn(
            f"{prefix} and {where} does not exist yet (this run creates it): the endpoint is not deployed; "
            f"{approve}, then run `pulumi up` again"
        )
        return None
    if context.defaults.protected:
        raise NoApprovedVersionError(
            f"{prefix} but {where} has no approved version: the protected environment "
            f"{context.defaults.environment!r} serves approved versions only, and this run stops so the endpoint "
            f"keeps serving what it serves. {approve[0].upper()}{approve[1:]}, then run `pulumi up` again{offline}"
        )
    pulumi.log.warn(f"{prefix} but {where} has no approved version: the endpoint is not deployed; {approve}{offline}")
    return None
