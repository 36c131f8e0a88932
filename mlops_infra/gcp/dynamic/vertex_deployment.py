"""``VertexModelDeployment``: model versions deployed to a Vertex AI endpoint, and its traffic split.

pulumi-gcp cannot deploy a model to an endpoint, so this dynamic resource does it with
google-cloud-aiplatform. It owns the endpoint's traffic split.

Every operation starts from what the endpoint really holds, never only from Pulumi state:
create, update and delete first read the endpoint (its deployed models and traffic split) and
reconcile it with the declaration. That makes every step idempotent on retry (a failed update
leaves the previous outputs in state, so the retry sees stale ids and must not trust them):

- Each deployed model this resource creates carries a marker in its display name
  (``<display name> [mlops-infra:<key>]``), so a copy deployed by a failed attempt is found again.
- A live copy of the declared version (same model version, machine, accelerator, service
  account and display name) is adopted instead of deploying another one.
- Traffic only moves forward: a stage that would give more traffic to a model the operation is
  retiring, or less to a new copy, than it has now is skipped; a retry resumes where the
  endpoint stands. An API failure stops the rollout where it stands (no traffic moves back).
  Only a metric breach (``rollback_metrics``) rolls traffic back to the previous versions.
- Once traffic is off them, every managed copy that no declaration uses (retired versions,
  copies of abandoned attempts) is undeployed, so state always names exactly what is deployed.
- Delete removes every deployed model in state *and* every marked copy, after moving traffic
  to the endpoint's other models (or to none).

When ``required_alias`` is set (protected environments), a version without that alias is
refused before anything is deployed: the alias is the approval.
"""

# ruff: noqa: PLC0415 - google.cloud imports take seconds; they run only when a provider method does.

from __future__ import annotations

import itertools
import re
import time
from dataclasses import dataclass, field
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
# Only a different endpoint is a different resource: project and region are part of its name, and
# api_endpoint is only the host the calls go to.
REPLACE_FIELDS = ("endpoint",)
MUTABLE_PATHS = [
    "dedicated_resources.min_replica_count",
    "dedicated_resources.max_replica_count",
    "dedicated_resources.autoscaling_metric_specs",
]
MARKER = re.compile(r" \[mlops-infra:([^\]]+)\]$")
DISPLAY_NAME_LIMIT = 128


def _steps(props: dict[str, Any]) -> list[dict[str, int]]:
    """Steps with whole-number shares (the engine sends numbers as floats)."""
    return [{k: int(v) for k, v in step.items()} for step in props.get("traffic_steps") or []]


def _deployments(props: dict[str, Any]) -> list[dict[str, Any]]:
    return list(props.get("deployments") or [])


def normalize_api_endpoint(api_endpoint: Any) -> str:
    """``https://host/`` and ``host`` are the same API endpoint (scheme and trailing slash dropped)."""
    text = str(api_endpoint or "").strip().rstrip("/")
    return text.removeprefix("https://").lower()


def deployed_display_name(d: dict[str, Any]) -> str:
    """The display name of a copy this resource deploys: the declared one plus the ownership marker."""
    tag = f" [mlops-infra:{d['key']}]"
    base = str(d.get("display_name") or d["key"])
    return base[: DISPLAY_NAME_LIMIT - len(tag)] + tag


def marker_key(display_name: str) -> str | None:
    """The deployment key in a marked display name, or None for a model this resource did not mark."""
    found = MARKER.search(display_name or "")
    return found.group(1) if found else None


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
    gate = props.get("rollback_metrics")
    if gate:
        rollback_metrics.insufficient_data_policy(gate, protected=bool(props.get("required_alias")))
        if int(gate.get("min_requests", rollback_metrics.DEFAULT_MIN_REQUESTS)) < 0:
            raise ValueError("rollback_metrics.min_requests must be 0 or more")


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


def deployed_model_body(d: dict[str, Any], model: str) -> dict[str, Any]:
    """The REST ``DeployedModel`` that :meth:`VertexModelDeploymentProvider._deploy` sends for ``d`` at ``model``.

    ``model`` is ``projects/.../models/ID@VERSION`` (a resolved version). The same display name (with the
    ownership marker), machine, replicas, autoscaling and service account: a copy deployed from this body
    is one this resource adopts (off-hours redeploys it every morning).
    """
    machine: dict[str, Any] = {"machineType": str(d["machine_type"])}
    if d.get("accelerator_type"):
        machine.update(
            acceleratorType=str(d["accelerator_type"]), acceleratorCount=int(d.get("accelerator_count") or 1)
        )
    body: dict[str, Any] = {
        "model": model,
        "displayName": deployed_display_name(d),
        "dedicatedResources": {
            "machineSpec": machine,
            "minReplicaCount": int(d["min_replica_count"]),
            "maxReplicaCount": int(d["max_replica_count"]),
            "autoscalingMetricSpecs": [
                {"metricName": str(s["metric_name"]), "target": int(s["target"])}
                for s in d.get("autoscaling_metric_specs") or []
            ],
        },
    }
    if d.get("service_account"):
        body["serviceAccount"] = str(d["service_account"])
    return body


@dataclass
class LiveModel:
    """One deployed model as the endpoint reports it."""

    id: str
    model_id: str  # last segment of the model resource name
    version: str
    display_name: str
    machine_type: str
    accelerator_type: str
    accelerator_count: int
    service_account: str
    min_replica_count: int
    max_replica_count: int
    autoscaling: list[tuple[str, int]]


@dataclass
class Live:
    """The endpoint's deployed models (id -> model) and traffic split (id -> percent, zeros dropped)."""

    models: dict[str, LiveModel] = field(default_factory=dict)
    split: dict[str, int] = field(default_factory=dict)


def _live_model(m: Any) -> LiveModel:
    from google.cloud.aiplatform_v1 import types

    model, _, ref = str(m.model).partition("@")
    machine = m.dedicated_resources.machine_spec
    accelerator = types.AcceleratorType(machine.accelerator_type).name
    return LiveModel(
        id=str(m.id),
        model_id=model.rsplit("/", 1)[-1],
        version=str(m.model_version_id or ref),
        display_name=str(m.display_name),
        machine_type=str(machine.machine_type),
        accelerator_type="" if accelerator == "ACCELERATOR_TYPE_UNSPECIFIED" else accelerator,
        accelerator_count=int(machine.accelerator_count),
        service_account=str(m.service_account),
        min_replica_count=int(m.dedicated_resources.min_replica_count),
        max_replica_count=int(m.dedicated_resources.max_replica_count),
        autoscaling=[(str(s.metric_name), int(s.target)) for s in m.dedicated_resources.autoscaling_metric_specs],
    )


def _declared_machine(d: dict[str, Any]) -> tuple[str, str, int, str]:
    accelerator = str(d.get("accelerator_type") or "")
    count = int(d.get("accelerator_count") or 1) if accelerator else 0
    return str(d["machine_type"]), accelerator, count, str(d.get("service_account") or "")


def _declared_scaling(d: dict[str, Any]) -> tuple[int, int, list[tuple[str, int]]]:
    specs = [(str(s["metric_name"]), int(s["target"])) for s in d.get("autoscaling_metric_specs") or []]
    return int(d["min_replica_count"]), int(d["max_replica_count"]), specs


def _serves(m: LiveModel, d: dict[str, Any], resolved: str, legacy: bool) -> bool:
    """``m`` is a copy of declaration ``d`` at version ``resolved`` (``legacy``: an unmarked id from state)."""
    model, _, version = resolved.partition("@")
    machine = (m.machine_type, m.accelerator_type, m.accelerator_count, m.service_account)
    names = {deployed_display_name(d)} | ({str(d.get("display_name") or d["key"])} if legacy else set())
    return (
        m.model_id == model.rsplit("/", 1)[-1]
        and m.version == version
        and machine == _declared_machine(d)
        and m.display_name in names
    )


def _sort_id(deployed_id: str) -> tuple[int, str]:
    return (int(deployed_id), "") if deployed_id.isdigit() else (0, deployed_id)


def _positive(split: dict[str, int]) -> dict[str, int]:
    return {k: int(v) for k, v in split.items() if int(v) > 0}


class MetricBreachError(VertexError):
    """A rollout stage crossed a rollback threshold (the one failure that moves traffic back)."""


@dataclass
class Plan:
    """What one create/update converges to, computed from the live endpoint."""

    live: Live
    ours: dict[str, str | None]  # managed deployed id -> its key (None when unknown)
    chosen: dict[str, str] = field(default_factory=dict)  # key -> deployed id serving it
    missing: list[str] = field(default_factory=list)  # keys needing a new deployment


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
        watched = ("project", "region", "endpoint", "deployments", "traffic_steps", "required_alias")
        changed = [f for f in watched if olds.get(f) != news.get(f)]
        if _canary(olds) != _canary(news):
            changed.append("canary_percentages")
        if normalize_api_endpoint(olds.get("api_endpoint")) != normalize_api_endpoint(news.get("api_endpoint")):
            changed.append("api_endpoint")
        return dyn.DiffResult(changes=bool(changed), replaces=[f for f in changed if f in REPLACE_FIELDS])

    def create(self, props: dict[str, Any]) -> dyn.CreateResult:
        props = without_provider(props)
        validate(props)
        endpoint = str(props["endpoint"])
        service = clients.endpoint_service(props["api_endpoint"])
        resolved = self._resolve_all(props)
        try:
            outs = self._converge(service, {}, props, resolved)
        except Exception:
            # Nothing reaches state when create fails: take back every marked copy now, so nothing
            # billed is left behind if the create is never retried (a retry would adopt them anyway).
            self._release_quietly(service, props, {})
            raise
        return dyn.CreateResult(id_=f"{endpoint}/deployedModels", outs=outs)

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> dyn.UpdateResult:
        # On failure Pulumi keeps ``olds`` in state; the retry reconciles from the endpoint again.
        news = without_provider(news)
        validate(news)
        service = clients.endpoint_service(news["api_endpoint"])
        resolved = self._resolve_all(news)
        return dyn.UpdateResult(outs=self._converge(service, olds, news, resolved))

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
        live = self._read_live(service, name)
        if live is None:
            return
        ours = self._ours(live, props)
        if any(live.split.get(i, 0) for i in ours):
            self._set_split(service, name, renormalize({k: v for k, v in live.split.items() if k not in ours}))
        for deployed_id in sorted(ours, key=_sort_id):
            self._undeploy(service, props, deployed_id)

    # -- reconciliation ----------------------------------------------------------------------

    def _read_live(self, service: Any, endpoint: str) -> Live | None:
        with vertex_call("reading endpoint", endpoint):
            missing, found = is_not_found(service.get_endpoint, name=endpoint)
        if missing or found is None:
            return None
        return Live(
            models={str(m.id): _live_model(m) for m in found.deployed_models},
            split=_positive({str(k): int(v) for k, v in dict(found.traffic_split).items()}),
        )

    @staticmethod
    def _ours(live: Live, state: dict[str, Any]) -> dict[str, str | None]:
        """Managed deployed models: the ids in state and every copy carrying this resource's marker."""
        by_id = {v: k for k, v in dict(state.get("deployed_model_ids") or {}).items()}
        ours: dict[str, str | None] = {}
        for deployed_id, m in live.models.items():
            key = marker_key(m.display_name)
            if key is not None or deployed_id in by_id:
                ours[deployed_id] = key if key is not None else by_id[deployed_id]
        return ours

    def _plan(self, live: Live, olds: dict[str, Any], news: dict[str, Any], resolved: dict[str, str]) -> Plan:
        """Choose, per declared key, the live managed copy of its version (most traffic first), if any."""
        old_ids: dict[str, str] = dict(olds.get("deployed_model_ids") or {})
        plan = Plan(live=live, ours=self._ours(live, olds))
        for d in _deployments(news):
            key = d["key"]
            candidates = [
                m
                for i, m in live.models.items()
                if plan.ours.get(i) == key and _serves(m, d, resolved[key], legacy=old_ids.get(key) == i)
            ]
            candidates.sort(key=lambda m: (-live.split.get(m.id, 0), m.id != old_ids.get(key), _sort_id(m.id)))
            if candidates:
                plan.chosen[key] = candidates[0].id
            else:
                plan.missing.append(key)
        return plan

    def _converge(
        self, service: Any, olds: dict[str, Any], news: dict[str, Any], resolved: dict[str, str]
    ) -> dict[str, Any]:
        """Make the endpoint hold exactly the declaration; every step is skipped when already done."""
        endpoint = str(news["endpoint"])
        live = self._read_live(service, endpoint)
        if live is None:
            raise VertexError(f"endpoint {endpoint} does not exist")
        plan = self._plan(live, olds, news, resolved)
        specs = {d["key"]: d for d in _deployments(news)}
        old_ids: dict[str, str] = dict(olds.get("deployed_model_ids") or {})
        rollback_to = self._rollback_split(live, olds, plan.ours)
        for key in plan.missing:
            plan.chosen[key] = self._deploy(service, news, specs[key], resolved[key])
        for key, deployed_id in plan.chosen.items():
            current = live.models.get(deployed_id)
            if current is not None and _declared_scaling(specs[key]) != (
                current.min_replica_count,
                current.max_replica_count,
                current.autoscaling,
            ):
                self._mutate(service, news, specs[key], deployed_id)
        chosen = {k: plan.chosen[k] for k in specs}
        fresh = {i for i in chosen.values() if i not in set(old_ids.values())}
        retiring = {i for i in plan.ours if i not in set(chosen.values())}
        stages = self._stages(live, olds, news, chosen)
        try:
            self._rollout(service, news, stages, current=live.split, retiring=retiring, fresh=fresh)
        except MetricBreachError as exc:
            self._roll_back(service, news, rollback_to, fresh, exc)
        # Traffic is on the declared copies only: retire everything else this resource deployed.
        for deployed_id in sorted(retiring, key=_sort_id):
            self._undeploy(service, news, deployed_id)
        final = _steps(news)[-1]
        return {
            **news,
            "deployed_model_ids": chosen,
            "resolved_models": resolved,
            "traffic_split": {key: int(final.get(key, 0)) for key in chosen},
        }

    @staticmethod
    def _rollback_split(live: Live, olds: dict[str, Any], ours: dict[str, str | None]) -> dict[str, int] | None:
        """The split before the update (its declared final step over the old ids still deployed); for
        a create, the endpoint's other models (or no traffic); None when nothing is left to go back to."""
        old_ids: dict[str, str] = dict(olds.get("deployed_model_ids") or {})
        if not old_ids:
            return renormalize({k: v for k, v in live.split.items() if k not in ours})
        final = (_steps(olds) or [{}])[-1]
        split = {old_ids[k]: v for k, v in final.items() if v > 0 and old_ids.get(k) in live.models}
        return renormalize(split) if split else None

    def _stages(
        self, live: Live, olds: dict[str, Any], news: dict[str, Any], chosen: dict[str, str]
    ) -> list[dict[str, int]]:
        """Canary stages for keys whose version changed, then the declared steps (all of them when
        the keys or the steps changed, else only the last)."""
        old_ids: dict[str, str] = dict(olds.get("deployed_model_ids") or {})
        still = {k: i for k, i in old_ids.items() if i in live.models}
        replaced = {k: chosen[k] for k in chosen if k in still and still[k] != chosen[k]}
        stages: list[dict[str, int]] = []
        base = {k: v for k, v in (_steps(olds) or [{}])[-1].items() if k in still and v > 0}
        if replaced and sum(base.values()) == 100:
            stages += [canary_split(base, still, replaced, p) for p in _canary(news)]
        steps = _steps(news)
        if set(chosen) != set(old_ids) or _steps(olds) != steps:
            stages += [_positive({chosen[k]: v for k, v in step.items()}) for step in steps]
        else:
            stages.append(_positive({chosen[k]: v for k, v in steps[-1].items()}))
        return stages

    @staticmethod
    def _forward(stages: list[dict[str, int]], current: dict[str, int], retiring: set[str]) -> list[dict[str, int]]:
        """The stages still ahead of ``current``: resume after the last stage the endpoint already
        shows; skip any stage giving a copy being retired more traffic than it has now (a retry
        never moves traffic back to the version it replaces). The final split always applies."""
        reached = [i for i, stage in enumerate(stages) if stage == current]
        ahead = stages[reached[-1] + 1 :] if reached else stages
        final = stages[-1]
        kept: list[dict[str, int]] = []
        for stage in ahead[:-1]:
            backwards = any(stage.get(i, 0) > current.get(i, 0) for i in retiring)
            if not backwards and stage != current:
                kept.append(stage)
                current = stage
        if final != current:
            kept.append(final)
        return kept

    def _rollout(
        self,
        service: Any,
        props: dict[str, Any],
        stages: list[dict[str, int]],
        *,
        current: dict[str, int],
        retiring: set[str],
        fresh: set[str],
    ) -> None:
        """Set each split still ahead and check the endpoint reports it, then bake.

        With ``rollback_metrics``, every stage (the last too) bakes for ``step_wait_seconds`` and
        then the new copies serving traffic must stay within the thresholds (:class:`MetricBreachError`).
        Any other failure stops the rollout where it stands.
        """
        endpoint = str(props["endpoint"])
        wait_seconds = float(props.get("step_wait_seconds") or 0)
        gate: dict[str, Any] | None = props.get("rollback_metrics")
        ahead = self._forward(stages, current, retiring)
        for index, wanted in enumerate(ahead):
            label = f"traffic stage {index + 1}/{len(ahead)} ({wanted})"
            self._set_split(service, endpoint, wanted)
            live = self._read_live(service, endpoint)
            if live is None or live.split != wanted:
                raise VertexError(f"{label}: endpoint {endpoint} reports {live and live.split}, expected {wanted}")
            if gate:
                if wait_seconds:
                    time.sleep(wait_seconds)
                watched = sorted((i for i in wanted if i in fresh), key=_sort_id) or sorted(wanted, key=_sort_id)
                reasons = rollback_metrics.breaches(
                    gate,
                    str(props["project"]),
                    endpoint,
                    wait_seconds,
                    deployed_model_ids=watched,
                    protected=bool(props.get("required_alias")),
                )
                if reasons:
                    raise MetricBreachError(f"{label}: rollback thresholds crossed: {'; '.join(reasons)}")
            elif wait_seconds and index < len(ahead) - 1:
                time.sleep(wait_seconds)

    def _roll_back(
        self,
        service: Any,
        props: dict[str, Any],
        rollback_to: dict[str, int] | None,
        fresh: set[str],
        breach: MetricBreachError,
    ) -> None:
        """Restore the previous split and undeploy the new copies; always raises."""
        endpoint = str(props["endpoint"])
        if rollback_to is None:
            raise VertexError(f"{breach}; no previous versions are deployed, so traffic stays as it is") from breach
        self._set_split(service, endpoint, rollback_to)
        for deployed_id in sorted(fresh, key=_sort_id):
            self._undeploy(service, props, deployed_id)
        raise VertexError(f"{breach}; traffic was rolled back to {rollback_to or 'no traffic'}") from breach

    def _release_quietly(self, service: Any, props: dict[str, Any], state: dict[str, Any]) -> None:
        """Best effort after a failed create: move traffic off the marked copies and undeploy them."""
        try:
            self.delete("", {**props, "deployed_model_ids": state.get("deployed_model_ids") or {}})
        except Exception as exc:  # noqa: BLE001 - keep the first error
            pulumi.log.warn(f"could not undeploy the copies of a failed create on {props['endpoint']}: {exc}")

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
            display_name=deployed_display_name(d),
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

    @staticmethod
    def _set_split(service: Any, endpoint: str, split: dict[str, int]) -> None:
        from google.cloud.aiplatform_v1 import types

        with vertex_call("setting the traffic split of", endpoint):
            service.update_endpoint(
                endpoint=types.Endpoint(name=endpoint, traffic_split=split),
                update_mask={"paths": ["traffic_split"]},
            )


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
