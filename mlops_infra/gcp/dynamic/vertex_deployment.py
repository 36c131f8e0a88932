"""``VertexModelDeployment``: model versions deployed to a Vertex AI endpoint, and its traffic split.

pulumi-gcp cannot deploy a model to an endpoint, so this dynamic resource does it with
google-cloud-aiplatform. It owns the endpoint's traffic split.

- Create deploys every declared version (dedicated machines, replica bounds, autoscaling
  targets), then applies ``traffic_steps`` in order.
- Update deploys new or changed versions, changes replica bounds in place
  (``mutateDeployedModel``), applies the steps in order, and only then undeploys what is gone.
  If a step fails or the endpoint does not show the requested split, the previous split is
  restored, new deployments are removed, and the update fails (automatic rollback).
- Delete moves traffic off the managed versions and undeploys them.

When ``required_alias`` is set (protected environments), a version without that alias is
refused before anything is deployed: the alias is the approval.
"""

# ruff: noqa: PLC0415 - google.cloud imports take seconds; they run only when a provider method does.

from __future__ import annotations

import itertools
import time
from typing import Any

import pulumi
import pulumi.dynamic as dyn

from mlops_infra.gcp.dynamic import clients, rollback_metrics
from mlops_infra.gcp.dynamic.errors import (
    VertexError,
    is_not_found,
    vertex_call,
    wait,
)
from mlops_infra.gcp.dynamic.props import DEFAULT_OPERATION_TIMEOUT_SECONDS, timeout_of, without_provider
from mlops_infra.gcp.traffic import check_traffic_steps, renormalize

# A change to one of these needs a new deployed model; replica bounds and autoscaling mutate in place.
IDENTITY_FIELDS = ("machine_type", "accelerator_type", "accelerator_count", "service_account", "display_name")
SCALING_FIELDS = ("min_replica_count", "max_replica_count", "autoscaling_metric_specs")
REPLACE_FIELDS = ("project", "region", "endpoint", "api_endpoint")
MUTABLE_PATHS = [
    "dedicated_resources.min_replica_count",
    "dedicated_resources.max_replica_count",
    "dedicated_resources.autoscaling_metric_specs",
]


def _steps(props: dict[str, Any]) -> list[dict[str, int]]:
    """Steps with whole-number shares (the engine sends numbers as floats)."""
    return [{k: int(v) for k, v in step.items()} for step in props.get("traffic_steps") or []]


def _deployments(props: dict[str, Any]) -> list[dict[str, Any]]:
    return list(props.get("deployments") or [])


def validate(props: dict[str, Any]) -> None:
    """Keys unique, one model reference each, and every traffic step valid (sums to 100, known keys)."""
    deployments = _deployments(props)
    keys = [str(d.get("key")) for d in deployments]
    if not deployments:
        raise ValueError("deployments: declare at least one model version to deploy")
    if len(set(keys)) != len(keys):
        raise ValueError(f"deployments: keys must be unique, got {keys}")
    for d in deployments:
        if not d.get("model") or "@" in str(d.get("model")):
            raise ValueError(f"deployments[{d.get('key')}].model must be a model resource name without @version")
        if bool(d.get("alias")) == bool(d.get("version")):
            raise ValueError(f"deployments[{d.get('key')}]: set exactly one of alias or version")
        if int(d.get("min_replica_count") or 0) < 1 or int(d.get("max_replica_count") or 0) < int(
            d.get("min_replica_count") or 0
        ):
            raise ValueError(f"deployments[{d.get('key')}]: need 1 <= min_replica_count <= max_replica_count")
    check_traffic_steps(_steps(props), keys)
    check_canary(_canary(props))


def _canary(props: dict[str, Any]) -> list[int]:
    return [int(p) for p in props.get("canary_percentages") or [100]]


def check_canary(percentages: list[int]) -> None:
    """Percentages of a replaced version's traffic moved to its successor: increasing, ending at 100."""
    if not percentages or percentages[-1] != 100 or any(not 0 < p <= 100 for p in percentages):
        raise ValueError(f"canary_percentages {percentages} must be increasing values in 1-100 ending at 100")
    if any(b <= a for a, b in itertools.pairwise(percentages)):
        raise ValueError(f"canary_percentages {percentages} must be strictly increasing")


def canary_split(
    base: dict[str, int], old_ids: dict[str, str], replaced: dict[str, str], percent: int
) -> dict[str, int]:
    """``base`` (key -> share) over deployed ids, moving ``percent`` of each replaced key's share to its new id."""
    split: dict[str, int] = {}
    for key, share in base.items():
        if key in replaced:
            moved = share * percent // 100
            split[replaced[key]] = split.get(replaced[key], 0) + moved
            split[old_ids[key]] = split.get(old_ids[key], 0) + share - moved
        else:
            split[old_ids[key]] = split.get(old_ids[key], 0) + share
    return {k: v for k, v in split.items() if v > 0}


def _dedicated_resources(d: dict[str, Any]) -> Any:
    from google.cloud.aiplatform_v1 import types

    machine = types.MachineSpec(machine_type=d["machine_type"])
    if d.get("accelerator_type"):
        accelerator = getattr(types.AcceleratorType, str(d["accelerator_type"]), None)
        if accelerator is None:
            raise ValueError(f"deployments[{d['key']}].accelerator_type {d['accelerator_type']!r} is not a Vertex type")
        machine.accelerator_type = accelerator
        machine.accelerator_count = int(d.get("accelerator_count") or 1)
    return types.DedicatedResources(
        machine_spec=machine,
        min_replica_count=int(d["min_replica_count"]),
        max_replica_count=int(d["max_replica_count"]),
        autoscaling_metric_specs=[
            types.AutoscalingMetricSpec(metric_name=s["metric_name"], target=int(s["target"]))
            for s in d.get("autoscaling_metric_specs") or []
        ],
    )


class VertexModelDeploymentProvider(dyn.ResourceProvider):
    """CRUD for the set of model versions deployed to one endpoint."""

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> dyn.CheckResult:
        failures = []
        try:
            validate(news)
        except (TypeError, AttributeError):
            pass  # values still unknown during a preview: checked again at create/update
        except ValueError as exc:
            failures.append(dyn.CheckFailure(str(exc).split(" ", 1)[0].split("[")[0].rstrip(":"), str(exc)))
        return dyn.CheckResult(news, failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> dyn.DiffResult:
        watched = (*REPLACE_FIELDS, "deployments", "traffic_steps", "required_alias", "canary_percentages")
        changed = [f for f in watched if olds.get(f) != news.get(f)]
        return dyn.DiffResult(changes=bool(changed), replaces=[f for f in changed if f in REPLACE_FIELDS])

    def create(self, props: dict[str, Any]) -> dyn.CreateResult:
        props = without_provider(props)
        validate(props)
        endpoint = str(props["endpoint"])
        service = clients.endpoint_service(props["api_endpoint"])
        resolved = self._resolve_all(props)
        before = self._live_split(service, endpoint)
        ids: dict[str, str] = {}
        try:
            for d in _deployments(props):
                ids[d["key"]] = self._deploy(service, props, d, resolved[d["key"]])
            final = self._apply_steps(service, props, ids, rollback_to=before)
        except Exception:
            self._undeploy_quietly(service, props, list(ids.values()))
            raise
        outs = {**props, "deployed_model_ids": ids, "resolved_models": resolved, "traffic_split": final}
        return dyn.CreateResult(id_=f"{endpoint}/deployedModels", outs=outs)

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> dyn.UpdateResult:
        news = without_provider(news)
        validate(news)
        endpoint = str(news["endpoint"])
        service = clients.endpoint_service(news["api_endpoint"])
        resolved = self._resolve_all(news)
        old_ids: dict[str, str] = dict(olds.get("deployed_model_ids") or {})
        old_resolved: dict[str, str] = dict(olds.get("resolved_models") or {})
        old_specs = {d["key"]: d for d in _deployments(olds)}
        before = self._live_split(service, endpoint)
        ids: dict[str, str] = {}
        fresh: list[str] = []
        replaced: dict[str, str] = {}  # key -> new deployed id, for versions changed in place
        retired = [old_ids[k] for k in old_ids if k not in {d["key"] for d in _deployments(news)}]
        try:
            for d in _deployments(news):
                key = d["key"]
                old = old_specs.get(key)
                same = (
                    key in old_ids
                    and old is not None
                    and old_resolved.get(key) == resolved[key]
                    and all(old.get(f) == d.get(f) for f in IDENTITY_FIELDS)
                )
                if same and old is not None:
                    ids[key] = old_ids[key]
                    if any(old.get(f) != d.get(f) for f in SCALING_FIELDS):
                        self._mutate(service, news, d, ids[key])
                    continue
                ids[key] = self._deploy(service, news, d, resolved[key])
                fresh.append(ids[key])
                if key in old_ids:
                    retired.append(old_ids[key])
                    replaced[key] = ids[key]
            if replaced:
                self._canary(service, news, olds, replaced, rollback_to=before)
            if set(ids) != set(old_ids) or _steps(olds) != _steps(news):
                final = self._apply_steps(service, news, ids, rollback_to=before)
            else:  # same versions, same plan: only make sure the final split holds
                final = self._apply_steps(service, {**news, "traffic_steps": _steps(news)[-1:]}, ids, before)
        except Exception:
            self._undeploy_quietly(service, news, fresh)
            raise
        for deployed_id in retired:
            self._undeploy(service, news, deployed_id)
        outs = {**news, "deployed_model_ids": ids, "resolved_models": resolved, "traffic_split": final}
        return dyn.UpdateResult(outs=outs)

    def read(self, id_: str, props: dict[str, Any]) -> dyn.ReadResult:
        service = clients.endpoint_service(props["api_endpoint"])
        with vertex_call("reading endpoint", str(props["endpoint"])):
            missing, endpoint = is_not_found(service.get_endpoint, name=str(props["endpoint"]))
        if missing or endpoint is None:
            return dyn.ReadResult(None, {})
        live = {m.id for m in endpoint.deployed_models}
        ids = {k: v for k, v in dict(props.get("deployed_model_ids") or {}).items() if v in live}
        split = dict(endpoint.traffic_split)
        return dyn.ReadResult(
            id_,
            {**props, "deployed_model_ids": ids, "traffic_split": {k: int(split.get(v, 0)) for k, v in ids.items()}},
        )

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        service = clients.endpoint_service(props["api_endpoint"])
        name = str(props["endpoint"])
        with vertex_call("reading endpoint", name):
            missing, endpoint = is_not_found(service.get_endpoint, name=name)
        if missing or endpoint is None:
            return
        live = {m.id for m in endpoint.deployed_models}
        ours = [i for i in dict(props.get("deployed_model_ids") or {}).values() if i in live]
        others = {k: int(v) for k, v in dict(endpoint.traffic_split).items() if k not in ours}
        self._set_split(service, name, renormalize(others))
        for deployed_id in ours:
            self._undeploy(service, props, deployed_id)

    # -- steps -----------------------------------------------------------------------------

    def _resolve_all(self, props: dict[str, Any]) -> dict[str, str]:
        """``key -> model@version``, refusing unapproved versions when ``required_alias`` is set."""
        models = clients.model_service(props["api_endpoint"])
        required = props.get("required_alias")
        resolved = {}
        for d in _deployments(props):
            reference = f"{d['model']}@{d.get('alias') or d.get('version')}"
            with vertex_call("reading model version", reference):
                missing, model = is_not_found(models.get_model, name=reference)
            if missing or model is None:
                raise VertexError(f"deployment {d['key']}: model version {reference} does not exist")
            aliases = list(model.version_aliases)
            if required and required not in aliases:
                raise VertexError(
                    f"deployment {d['key']}: {d['model']}@{model.version_id} is not approved for this environment: "
                    f"it lacks the '{required}' alias (aliases: {aliases}); promote it with that alias first"
                )
            resolved[d["key"]] = f"{d['model']}@{model.version_id}"
        return resolved

    @staticmethod
    def _deploy(service: Any, props: dict[str, Any], d: dict[str, Any], model: str) -> str:
        from google.cloud.aiplatform_v1 import types

        deployed = types.DeployedModel(
            model=model,
            display_name=d.get("display_name") or d["key"],
            dedicated_resources=_dedicated_resources(d),
            service_account=d.get("service_account") or "",
        )
        endpoint = str(props["endpoint"])
        with vertex_call(f"deploying {model} to", endpoint):
            operation = service.deploy_model(endpoint=endpoint, deployed_model=deployed, traffic_split={})
        timeout = timeout_of(props)
        response = wait(operation, f"deploying {model} to", endpoint, timeout)
        return str(response.deployed_model.id)

    @staticmethod
    def _mutate(service: Any, props: dict[str, Any], d: dict[str, Any], deployed_id: str) -> None:
        from google.cloud.aiplatform_v1 import types

        endpoint = str(props["endpoint"])
        deployed = types.DeployedModel(id=deployed_id, dedicated_resources=_dedicated_resources(d))
        with vertex_call(f"resizing deployed model {deployed_id} on", endpoint):
            operation = service.mutate_deployed_model(
                endpoint=endpoint, deployed_model=deployed, update_mask={"paths": MUTABLE_PATHS}
            )
        timeout = timeout_of(props)
        wait(operation, f"resizing deployed model {deployed_id} on", endpoint, timeout)

    @staticmethod
    def _undeploy(service: Any, props: dict[str, Any], deployed_id: str) -> None:
        endpoint = str(props["endpoint"])
        with vertex_call(f"undeploying {deployed_id} from", endpoint):
            missing, operation = is_not_found(service.undeploy_model, endpoint=endpoint, deployed_model_id=deployed_id)
        if not missing:
            timeout = timeout_of(props)
            wait(operation, f"undeploying {deployed_id} from", endpoint, timeout)

    def _undeploy_quietly(self, service: Any, props: dict[str, Any], deployed_ids: list[str]) -> None:
        """Best-effort cleanup after a failure; the original error is the one reported."""
        for deployed_id in deployed_ids:
            try:
                self._undeploy(service, props, deployed_id)
            except Exception as exc:  # noqa: BLE001 - keep the first error
                pulumi.log.warn(f"could not undeploy {deployed_id} after a failed rollout: {exc}")

    @staticmethod
    def _live_split(service: Any, endpoint: str) -> dict[str, int]:
        with vertex_call("reading endpoint", endpoint):
            live = service.get_endpoint(name=endpoint)
        return {k: int(v) for k, v in dict(live.traffic_split).items()}

    @staticmethod
    def _set_split(service: Any, endpoint: str, split: dict[str, int]) -> None:
        from google.cloud.aiplatform_v1 import types

        with vertex_call("setting the traffic split of", endpoint):
            service.update_endpoint(
                endpoint=types.Endpoint(name=endpoint, traffic_split=split),
                update_mask={"paths": ["traffic_split"]},
            )

    def _canary(
        self,
        service: Any,
        news: dict[str, Any],
        olds: dict[str, Any],
        replaced: dict[str, str],
        rollback_to: dict[str, int],
    ) -> None:
        """Move each replaced key's share to its new version in ``canary_percentages`` stages."""
        old_ids: dict[str, str] = dict(olds.get("deployed_model_ids") or {})
        base = {k: v for k, v in (_steps(olds) or [{}])[-1].items() if k in old_ids}
        stages = [canary_split(base, old_ids, replaced, p) for p in _canary(news)]
        self._rollout(service, news, stages, rollback_to, label="canary stage")

    def _apply_steps(
        self, service: Any, props: dict[str, Any], ids: dict[str, str], rollback_to: dict[str, int]
    ) -> dict[str, int]:
        """Apply each declared split in order (keys mapped to deployed ids)."""
        steps = _steps(props)
        stages = [{ids[key]: share for key, share in step.items() if share > 0} for step in steps]
        self._rollout(service, props, stages, rollback_to, label="traffic step")
        return {key: int(steps[-1].get(key, 0)) for key in ids}

    def _rollout(
        self, service: Any, props: dict[str, Any], stages: list[dict[str, int]], rollback_to: dict[str, int], label: str
    ) -> None:
        """Set each split, check the endpoint reports it, wait; on any failure restore ``rollback_to``.

        With ``rollback_metrics``, every stage (the last too) bakes for ``step_wait_seconds`` and
        then must stay within the endpoint's alert thresholds, or the stage fails.
        """
        endpoint = str(props["endpoint"])
        wait_seconds = float(props.get("step_wait_seconds") or 0)
        gate: dict[str, Any] | None = props.get("rollback_metrics")
        for index, wanted in enumerate(stages):
            try:
                self._set_split(service, endpoint, wanted)
                live = self._live_split(service, endpoint)
                if {k: v for k, v in live.items() if v > 0} != wanted:
                    raise VertexError(f"endpoint {endpoint} reports split {live}, expected {wanted}")
                if gate:
                    if wait_seconds:
                        time.sleep(wait_seconds)
                    reasons = rollback_metrics.breaches(gate, str(props["project"]), endpoint, wait_seconds)
                    if reasons:
                        raise VertexError(f"alert thresholds breached: {'; '.join(reasons)}")
            except Exception as exc:
                self._set_split(service, endpoint, rollback_to)
                raise VertexError(
                    f"{label} {index + 1}/{len(stages)} ({wanted}) failed and traffic was rolled back to "
                    f"{rollback_to or 'no traffic'}: {exc}"
                ) from exc
            if not gate and wait_seconds and index < len(stages) - 1:
                time.sleep(wait_seconds)


class VertexModelDeployment(dyn.Resource, module="vertex", name="VertexModelDeployment"):
    """Model versions deployed to a Vertex AI endpoint, with a stepped traffic rollout."""

    deployed_model_ids: pulumi.Output[dict[str, str]]
    resolved_models: pulumi.Output[dict[str, str]]
    traffic_split: pulumi.Output[dict[str, int]]

    def __init__(
        self,
        resource_name: str,
        *,
        project: pulumi.Input[str],
        region: str,
        api_endpoint: str,
        endpoint: pulumi.Input[str],
        deployments: list[dict[str, Any]],
        traffic_steps: list[dict[str, int]],
        required_alias: str | None = None,
        step_wait_seconds: int = 0,
        canary_percentages: list[int] | None = None,
        rollback_metrics: dict[str, Any] | None = None,
        timeout_seconds: int = DEFAULT_OPERATION_TIMEOUT_SECONDS,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props: dict[str, Any] = {
            "project": project,
            "region": region,
            "api_endpoint": api_endpoint,
            "endpoint": endpoint,
            "deployments": deployments,
            "traffic_steps": traffic_steps,
            "required_alias": required_alias,
            "step_wait_seconds": step_wait_seconds,
            "canary_percentages": canary_percentages or [100],
            "timeout_seconds": timeout_seconds,
            "deployed_model_ids": None,
            "resolved_models": None,
            "traffic_split": None,
        }
        if rollback_metrics is not None:
            # Only when set, so deployments without metric rollback plan exactly as before.
            props["rollback_metrics"] = rollback_metrics
        super().__init__(VertexModelDeploymentProvider(), resource_name, props, opts)
