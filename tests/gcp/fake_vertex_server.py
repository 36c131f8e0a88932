"""A small fake of the Vertex AI REST API (v1) for the dynamic-resource tests.

It implements only the methods the providers call, binds 127.0.0.1 on a free port, and checks
request bodies strictly: an unknown field, a missing required field or an invalid value is
answered with HTTP 400 and recorded in ``errors``, so a wrong request fails the test.
Long-running operations come back not-done and finish on their first GET, which exercises the
clients' operation polling without sleeping.

Fault injection: ``fail(route, n)`` fails the n-th call of one route; ``fail_call(n)`` fails the
n-th request of any route (``after=True``: the call takes effect, then the answer is lost, as when
a connection drops). ``history`` records every traffic split the endpoints actually took.
Cloud Monitoring: ``GET /v3/projects/{p}/timeSeries`` answers the Vertex prediction metrics from
``set_version_health`` (per model version: error fraction, p95 latency) and ``requests_per_window``,
spread over the deployed models by their traffic share, per ``deployed_model_id`` when filtered.
Model deployment monitoring jobs: create (one per endpoint, every deployed model id must be deployed
there), list (``display_name="..."`` filter), get, patch (only the updatable paths), pause, resume,
delete (only a paused job, as Vertex); ``monitoring_jobs`` holds them.
"""

from __future__ import annotations

import itertools
import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

KMS_KEY = re.compile(r"^projects/[^/]+/locations/[^/]+/keyRings/[^/]+/cryptoKeys/[^/]+$")
ALIAS = re.compile(r"^[a-z][a-zA-Z0-9-]{0,126}[a-z0-9-]$")
LABEL = re.compile(r"^[a-z0-9_-]{0,63}$")
AUTOSCALING_METRICS = {
    "aiplatform.googleapis.com/prediction/online/cpu/utilization",
    "aiplatform.googleapis.com/prediction/online/accelerator/duty_cycle",
    "aiplatform.googleapis.com/prediction/online/request_count",
}
MUTABLE_PATHS = {
    "dedicatedResources.minReplicaCount",
    "dedicatedResources.maxReplicaCount",
    "dedicatedResources.autoscalingMetricSpecs",
}

LOC = r"projects/[^/]+/locations/[^/]+"
CHANNEL = re.compile(r"^projects/[^/]+/notificationChannels/[^/]+$")
BQ_TABLE = re.compile(r"^bq://[a-z][a-z0-9-]{4,28}[a-z0-9]\.[A-Za-z_][A-Za-z0-9_]*\.[A-Za-z_][A-Za-z0-9_$-]*$")
DURATION = re.compile(r"^([0-9]+)(\.[0-9]+)?s$")
MONITORING_JOB_FIELDS = {
    "name", "displayName", "endpoint", "modelDeploymentMonitoringObjectiveConfigs",
    "modelDeploymentMonitoringScheduleConfig", "loggingSamplingStrategy", "modelMonitoringAlertConfig",
    "logTtl", "labels", "encryptionSpec", "enableMonitoringPipelineLogs", "predictInstanceSchemaUri",
    "analysisInstanceSchemaUri", "samplePredictInstance",
}  # fmt: skip
MONITORING_UPDATABLE = {
    "displayName", "modelDeploymentMonitoringScheduleConfig", "modelMonitoringAlertConfig",
    "loggingSamplingStrategy", "labels", "logTtl", "enableMonitoringPipelineLogs",
    "modelDeploymentMonitoringObjectiveConfigs",
}  # fmt: skip


QUERY_ROUTES = {"listTimeSeries", "listModelDeploymentMonitoringJobs"}  # requests recorded by their query


class ApiError(Exception):
    def __init__(self, code: int, status: str, message: str) -> None:
        super().__init__(message)
        self.code, self.status, self.message = code, status, message


def bad(message: str) -> ApiError:
    return ApiError(400, "INVALID_ARGUMENT", message)


def only(body: dict[str, Any], allowed: set[str], where: str) -> None:
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise bad(f"unknown fields {unknown} in {where}")


def need(body: dict[str, Any], keys: list[str], where: str) -> None:
    missing = [k for k in keys if body.get(k) in (None, "", [], {})]
    if missing:
        raise bad(f"missing required fields {missing} in {where}")


@dataclass
class FakeVertex:
    """State of the fake service; tests read ``requests`` and ``errors`` and may inject failures."""

    models: dict[str, dict[str, Any]] = field(default_factory=dict)  # model name -> {"versions": {id: model}}
    endpoints: dict[str, dict[str, Any]] = field(default_factory=dict)
    schedules: dict[str, dict[str, Any]] = field(default_factory=dict)
    monitoring_jobs: dict[str, dict[str, Any]] = field(default_factory=dict)
    monitoring_masks: list[str] = field(default_factory=list)  # updateMask of each monitoring job patch
    operations: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    failures: dict[str, list[int]] = field(default_factory=dict)  # route -> call numbers (1-based) that fail
    calls: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    ids: Any = field(default_factory=lambda: itertools.count(1001))
    fail_calls: dict[int, bool] = field(default_factory=dict)  # request number (1-based) -> fail after effect
    history: list[tuple[str, dict[str, int]]] = field(default_factory=list)  # (endpoint, split) as applied
    health: dict[str, tuple[float, float]] = field(default_factory=dict)  # model version -> (error fraction, p95)
    requests_per_window: int = 1000

    # -- helpers for tests ------------------------------------------------------------------

    def add_endpoint(self, name: str) -> None:
        self.endpoints[name] = {"name": name, "deployedModels": [], "trafficSplit": {}}

    def fail(self, route: str, *call_numbers: int) -> None:
        """Make the n-th call (1-based) of ``route`` (e.g. ``updateEndpoint``) answer HTTP 500."""
        self.failures[route] = list(call_numbers)

    def fail_call(self, number: int, *, after: bool = False) -> None:
        """Make the ``number``-th request (1-based, any route) answer HTTP 500, before or after its effect."""
        self.fail_calls[number] = after

    def set_version_health(self, version_id: str, error_fraction: float, p95_ms: float) -> None:
        """What the metrics report for requests served by ``version_id`` of any model."""
        self.health[str(version_id)] = (error_fraction, p95_ms)

    def deployed(self, endpoint: str) -> list[str]:
        return [d["id"] for d in self.endpoints[endpoint]["deployedModels"]]

    def _set_split(self, endpoint: dict[str, Any], split: dict[str, int]) -> None:
        endpoint["trafficSplit"] = dict(split)
        self.history.append((endpoint["name"], dict(split)))

    def routes(self) -> list[str]:
        return [route for _, route, _ in self.requests]

    def version(self, model: str, ref: str) -> dict[str, Any]:
        """Resolve ``ref`` (a version id or an alias) of ``model``."""
        entry = self.models.get(model)
        if entry is None:
            raise ApiError(404, "NOT_FOUND", f"model {model} not found")
        for version in entry["versions"].values():
            if version["versionId"] == ref or ref in version["versionAliases"]:
                return version
        raise ApiError(404, "NOT_FOUND", f"model {model}@{ref} not found")

    def _operation(self, owner: str, response: dict[str, Any] | None, type_name: str) -> dict[str, Any]:
        name = f"{owner}/operations/{next(self.ids)}"
        result = {"name": name, "done": True}
        result["response"] = {"@type": f"type.googleapis.com/{type_name}", **(response or {})}
        self.operations[name] = result
        return {"name": name, "done": False}

    # -- models -----------------------------------------------------------------------------

    def upload(self, parent: str, body: dict[str, Any]) -> dict[str, Any]:
        only(body, {"model", "modelId", "parentModel", "serviceAccount"}, "UploadModelRequest")
        model = body.get("model") or {}
        only(
            model,
            {"displayName", "description", "artifactUri", "containerSpec", "labels", "encryptionSpec",
             "versionDescription", "versionAliases"},
            "Model",
        )  # fmt: skip
        need(model, ["displayName", "artifactUri", "containerSpec", "encryptionSpec"], "Model")
        if not str(model["artifactUri"]).startswith("gs://"):
            raise bad("artifactUri must be a gs:// URI")
        container = model["containerSpec"]
        only(container, {"imageUri", "predictRoute", "healthRoute", "ports", "command", "args", "env"}, "containerSpec")
        need(container, ["imageUri"], "containerSpec")
        for port in container.get("ports", []):
            only(port, {"containerPort"}, "Port")
        only(model["encryptionSpec"], {"kmsKeyName"}, "encryptionSpec")
        if not KMS_KEY.match(str(model["encryptionSpec"].get("kmsKeyName", ""))):
            raise bad("encryptionSpec.kmsKeyName must be a Cloud KMS crypto key name")
        for key, value in (model.get("labels") or {}).items():
            if not LABEL.match(key) or not LABEL.match(value):
                raise bad(f"label {key}={value} is not label-safe")
        if body.get("parentModel"):
            if body.get("modelId"):
                raise bad("modelId and parentModel are exclusive")
            name = body["parentModel"]
            if name not in self.models:
                raise ApiError(404, "NOT_FOUND", f"parent model {name} not found")
        else:
            need(body, ["modelId"], "UploadModelRequest")
            name = f"{parent}/models/{body['modelId']}"
            if name in self.models:
                raise ApiError(409, "ALREADY_EXISTS", f"model {name} already exists")
            self.models[name] = {"versions": {}}
        versions = self.models[name]["versions"]
        version_id = str(len(versions) + 1)
        stored = {**model, "name": name, "versionId": version_id, "versionAliases": [] if versions else ["default"]}
        versions[version_id] = stored
        return self._operation(
            name,
            {"model": name, "modelVersionId": version_id},
            "google.cloud.aiplatform.v1.UploadModelResponse",
        )

    def merge_aliases(self, name: str, body: dict[str, Any]) -> dict[str, Any]:
        only(body, {"versionAliases"}, "MergeVersionAliasesRequest")
        need(body, ["versionAliases"], "MergeVersionAliasesRequest")
        model, _, ref = name.partition("@")
        if not ref.isdigit():
            raise bad("mergeVersionAliases needs the version id in the name (model@1234)")
        version = self.version(model, ref)
        for alias in body["versionAliases"]:
            bare = alias.removeprefix("-")
            if not ALIAS.match(bare) or bare == "default":
                raise bad(f"invalid version alias {alias!r}")
            if alias.startswith("-"):
                if bare in version["versionAliases"]:
                    version["versionAliases"].remove(bare)
                continue
            for other in self.models[model]["versions"].values():
                if other is not version and bare in other["versionAliases"]:
                    raise ApiError(400, "FAILED_PRECONDITION", f"alias {bare} is used by version {other['versionId']}")
            if bare not in version["versionAliases"]:
                version["versionAliases"].append(bare)
        return version

    def patch_model(self, name: str, body: dict[str, Any], mask: str) -> dict[str, Any]:
        paths = set(mask.split(","))
        if not paths or not paths <= {"displayName", "description", "labels"}:
            raise bad(f"updateMask {mask!r} may only name displayName, description, labels")
        only(body, paths | {"name"}, "Model (update)")
        model, _, ref = name.partition("@")
        version = self.version(model, ref or "default")
        for path in paths:
            version[path] = body.get(path)
        return version

    def delete_model(self, name: str) -> dict[str, Any]:
        if name not in self.models:
            raise ApiError(404, "NOT_FOUND", f"model {name} not found")
        for endpoint in self.endpoints.values():
            if any(d["model"].split("@")[0] == name for d in endpoint["deployedModels"]):
                raise ApiError(400, "FAILED_PRECONDITION", f"model {name} is deployed to {endpoint['name']}")
        del self.models[name]
        return self._operation(name, None, "google.protobuf.Empty")

    def list_versions(self, name: str) -> dict[str, Any]:
        if name not in self.models:
            raise ApiError(404, "NOT_FOUND", f"model {name} not found")
        return {"models": list(self.models[name]["versions"].values())}

    def delete_version(self, name: str) -> dict[str, Any]:
        model, _, ref = name.partition("@")
        version = self.version(model, ref)
        if "default" in version["versionAliases"]:
            raise ApiError(400, "FAILED_PRECONDITION", "the default version cannot be deleted")
        del self.models[model]["versions"][version["versionId"]]
        return self._operation(model, None, "google.protobuf.Empty")

    # -- endpoints --------------------------------------------------------------------------

    def endpoint(self, name: str) -> dict[str, Any]:
        if name not in self.endpoints:
            raise ApiError(404, "NOT_FOUND", f"endpoint {name} not found")
        return self.endpoints[name]

    def _check_split(self, endpoint: dict[str, Any], split: dict[str, Any], allow_new: bool) -> dict[str, int]:
        deployed = {d["id"] for d in endpoint["deployedModels"]}
        for key, value in split.items():
            if not isinstance(value, int) or not 0 <= value <= 100:
                raise bad(f"trafficSplit[{key}] must be a percentage, got {value!r}")
            if key not in deployed and not (allow_new and key == "0"):
                raise bad(f"trafficSplit names {key}, which is not deployed on {endpoint['name']}")
        if split and sum(split.values()) != 100:
            raise bad(f"trafficSplit must sum to 100, got {sum(split.values())}")
        return dict(split)

    def deploy(self, name: str, body: dict[str, Any]) -> dict[str, Any]:
        endpoint = self.endpoint(name)
        only(body, {"deployedModel", "trafficSplit"}, "DeployModelRequest")
        deployed = body.get("deployedModel") or {}
        only(
            deployed,
            {"model", "displayName", "dedicatedResources", "serviceAccount", "disableContainerLogging",
             "enableAccessLogging"},
            "DeployedModel",
        )  # fmt: skip
        need(deployed, ["model", "dedicatedResources"], "DeployedModel")
        model, _, ref = deployed["model"].partition("@")
        version = self.version(model, ref or "default")
        self._check_resources(deployed["dedicatedResources"])
        split = self._check_split(endpoint, body.get("trafficSplit") or {}, allow_new=True)
        deployed_id = str(next(self.ids))
        stored = {**deployed, "id": deployed_id, "modelVersionId": version["versionId"]}
        endpoint["deployedModels"].append(stored)
        if split:
            self._set_split(endpoint, {(deployed_id if k == "0" else k): v for k, v in split.items()})
        return self._operation(
            name, {"deployedModel": {"id": deployed_id}}, "google.cloud.aiplatform.v1.DeployModelResponse"
        )

    @staticmethod
    def _check_resources(resources: dict[str, Any]) -> None:
        only(
            resources,
            {"machineSpec", "minReplicaCount", "maxReplicaCount", "autoscalingMetricSpecs"},
            "dedicatedResources",
        )
        need(resources, ["machineSpec", "minReplicaCount"], "dedicatedResources")
        machine = resources["machineSpec"]
        only(machine, {"machineType", "acceleratorType", "acceleratorCount"}, "machineSpec")
        need(machine, ["machineType"], "machineSpec")
        if bool(machine.get("acceleratorType")) != bool(machine.get("acceleratorCount")):
            raise bad("machineSpec: acceleratorType and acceleratorCount go together")
        low, high = resources["minReplicaCount"], resources.get("maxReplicaCount", resources["minReplicaCount"])
        if not (isinstance(low, int) and low >= 1 and isinstance(high, int) and high >= low):
            raise bad(f"replica counts must satisfy 1 <= min <= max, got {low}..{high}")
        for spec in resources.get("autoscalingMetricSpecs", []):
            only(spec, {"metricName", "target"}, "autoscalingMetricSpecs")
            if spec.get("metricName") not in AUTOSCALING_METRICS:
                raise bad(f"unknown autoscaling metric {spec.get('metricName')!r}")
            if not isinstance(spec.get("target"), int) or spec["target"] < 1:
                raise bad("autoscaling target must be a positive integer")

    def undeploy(self, name: str, body: dict[str, Any]) -> dict[str, Any]:
        endpoint = self.endpoint(name)
        only(body, {"deployedModelId", "trafficSplit"}, "UndeployModelRequest")
        need(body, ["deployedModelId"], "UndeployModelRequest")
        deployed_id = body["deployedModelId"]
        if deployed_id not in {d["id"] for d in endpoint["deployedModels"]}:
            raise ApiError(404, "NOT_FOUND", f"deployed model {deployed_id} not found")
        split = body.get("trafficSplit")
        current = split if split is not None else endpoint["trafficSplit"]
        if current.get(deployed_id, 0) > 0:
            raise ApiError(400, "FAILED_PRECONDITION", f"deployed model {deployed_id} still receives traffic")
        endpoint["deployedModels"] = [d for d in endpoint["deployedModels"] if d["id"] != deployed_id]
        remaining = {k: v for k, v in current.items() if k != deployed_id}
        if remaining != endpoint["trafficSplit"]:
            self._set_split(endpoint, remaining)
        return self._operation(name, {}, "google.cloud.aiplatform.v1.UndeployModelResponse")

    def mutate(self, name: str, body: dict[str, Any]) -> dict[str, Any]:
        endpoint = self.endpoint(name)
        only(body, {"deployedModel", "updateMask"}, "MutateDeployedModelRequest")
        need(body, ["deployedModel", "updateMask"], "MutateDeployedModelRequest")
        paths = set(str(body["updateMask"]).split(","))
        if not paths <= MUTABLE_PATHS:
            raise bad(f"updateMask {sorted(paths - MUTABLE_PATHS)} cannot be mutated")
        deployed = body["deployedModel"]
        only(deployed, {"id", "dedicatedResources"}, "DeployedModel (mutate)")
        self._check_resources(deployed["dedicatedResources"])
        target = next((d for d in endpoint["deployedModels"] if d["id"] == deployed.get("id")), None)
        if target is None:
            raise ApiError(404, "NOT_FOUND", f"deployed model {deployed.get('id')} not found")
        resources = target["dedicatedResources"]
        for path in paths:
            key = path.split(".")[1]
            resources[key] = deployed["dedicatedResources"].get(key)
        return self._operation(
            name, {"deployedModel": target}, "google.cloud.aiplatform.v1.MutateDeployedModelResponse"
        )

    def patch_endpoint(self, name: str, body: dict[str, Any], mask: str) -> dict[str, Any]:
        endpoint = self.endpoint(name)
        if mask != "trafficSplit":
            raise bad(f"updateMask must be trafficSplit, got {mask!r}")
        only(body, {"trafficSplit", "name"}, "Endpoint (update)")
        self._set_split(endpoint, self._check_split(endpoint, body.get("trafficSplit") or {}, allow_new=False))
        return endpoint

    # -- Cloud Monitoring ---------------------------------------------------------------------

    def time_series(self, project: str, query: dict[str, str]) -> dict[str, Any]:
        """``projects.timeSeries.list`` of one Vertex prediction metric, for one deployed model when filtered."""
        text = query.get("filter", "")
        labels = dict(re.findall(r'([a-z_.]+) = "([^"]*)"', text))
        if labels.get("resource.type") != "aiplatform.googleapis.com/Endpoint":
            raise bad(f"filter must select resource.type aiplatform.googleapis.com/Endpoint: {text!r}")
        metric = labels.get("metric.type", "").removeprefix("aiplatform.googleapis.com/prediction/online/")
        aligners = {
            "prediction_count": {"ALIGN_DELTA", "ALIGN_RATE", "ALIGN_SUM"},
            "error_count": {"ALIGN_DELTA", "ALIGN_RATE", "ALIGN_SUM"},
            "prediction_latencies": {"ALIGN_PERCENTILE_95", "ALIGN_PERCENTILE_99", "ALIGN_PERCENTILE_50"},
        }
        if metric not in aligners:
            raise bad(f"unknown Vertex prediction metric in filter {text!r}")
        for key in ("interval.startTime", "interval.endTime", "aggregation.alignmentPeriod"):
            if not query.get(key):
                raise bad(f"timeSeries.list needs {key}")
        if query.get("aggregation.perSeriesAligner") not in aligners[metric]:
            raise bad(f"aligner {query.get('aggregation.perSeriesAligner')!r} does not fit {metric}")
        endpoint_id = labels.get("resource.labels.endpoint_id")
        endpoint = next((e for e in self.endpoints.values() if e["name"].rsplit("/", 1)[-1] == endpoint_id), None)
        if endpoint is None or not project:
            return {}
        wanted = labels.get("metric.labels.deployed_model_id")
        served = []
        for deployed in endpoint["deployedModels"]:
            share = endpoint["trafficSplit"].get(deployed["id"], 0)
            if share and (wanted is None or deployed["id"] == wanted):
                error_fraction, p95 = self.health.get(deployed["modelVersionId"], (0.0, 100.0))
                served.append((self.requests_per_window * share / 100, error_fraction, p95))
        if not served:
            return {}  # no requests: Cloud Monitoring returns no series
        if metric == "prediction_latencies":
            return {"timeSeries": [{"points": [{"value": {"doubleValue": max(p for _, _, p in served)}}]}]}
        total = sum(n * (e if metric == "error_count" else 1.0) for n, e, _ in served)
        return {"timeSeries": [{"points": [{"value": {"int64Value": str(round(total))}}]}]}

    # -- schedules --------------------------------------------------------------------------

    @staticmethod
    def _check_schedule(body: dict[str, Any], parent: str) -> None:
        only(
            body,
            {"displayName", "cron", "maxConcurrentRunCount", "createPipelineJobRequest", "name"},
            "Schedule",
        )
        need(body, ["displayName", "cron", "maxConcurrentRunCount", "createPipelineJobRequest"], "Schedule")
        request = body["createPipelineJobRequest"]
        only(request, {"parent", "pipelineJob", "pipelineJobId"}, "createPipelineJobRequest")
        if request.get("parent") != parent:
            raise bad(f"createPipelineJobRequest.parent must be {parent}")
        job = request.get("pipelineJob") or {}
        only(
            job,
            {"displayName", "pipelineSpec", "templateUri", "runtimeConfig", "encryptionSpec", "serviceAccount",
             "labels", "network"},
            "PipelineJob",
        )  # fmt: skip
        need(job, ["displayName", "runtimeConfig", "encryptionSpec", "serviceAccount"], "PipelineJob")
        if not KMS_KEY.match(str(job["encryptionSpec"].get("kmsKeyName", ""))):
            raise bad("pipelineJob.encryptionSpec.kmsKeyName must be a crypto key name")
        if not str(job["runtimeConfig"].get("gcsOutputDirectory", "")).startswith("gs://"):
            raise bad("pipelineJob.runtimeConfig.gcsOutputDirectory must be gs://")
        if ("pipelineSpec" in job) == ("templateUri" in job):
            raise bad("pipelineJob needs exactly one of pipelineSpec and templateUri")
        if not str(body["maxConcurrentRunCount"]).isdigit() or int(body["maxConcurrentRunCount"]) < 1:
            raise bad("maxConcurrentRunCount must be a positive int64")
        if len(str(body["cron"]).split()) not in (5, 6):
            raise bad(f"invalid cron {body['cron']!r}")

    def create_schedule(self, parent: str, body: dict[str, Any]) -> dict[str, Any]:
        self._check_schedule(body, parent)
        name = f"{parent}/schedules/{next(self.ids)}"
        self.schedules[name] = {**body, "name": name, "state": "ACTIVE"}
        return self.schedules[name]

    def schedule(self, name: str) -> dict[str, Any]:
        if name not in self.schedules:
            raise ApiError(404, "NOT_FOUND", f"schedule {name} not found")
        return self.schedules[name]

    def patch_schedule(self, name: str, body: dict[str, Any], mask: str) -> dict[str, Any]:
        current = self.schedule(name)
        allowed = {"displayName", "cron", "maxConcurrentRunCount", "createPipelineJobRequest"}
        paths = set(mask.split(","))
        if not paths <= allowed:
            raise bad(f"updateMask {sorted(paths - allowed)} is not updatable")
        merged = {k: v for k, v in current.items() if k not in ("name", "state")}
        merged.update({k: v for k, v in body.items() if k != "name"})
        self._check_schedule(merged, name.rsplit("/schedules/", 1)[0])
        current.update({p: body[p] for p in paths})
        return current

    # -- model deployment monitoring jobs -----------------------------------------------------

    def _check_thresholds(self, thresholds: Any, where: str) -> None:
        if not isinstance(thresholds, dict):
            raise bad(f"{where} must be a map of feature -> ThresholdConfig")
        for feature, config in thresholds.items():
            only(config, {"value"}, f"{where}[{feature}]")
            value = config.get("value")
            if not isinstance(value, (int, float)) or not 0 < value <= 1:
                raise bad(f"{where}[{feature}].value must be a distance in (0, 1], got {value!r}")

    def _check_objective(self, config: dict[str, Any], endpoint: dict[str, Any], where: str) -> None:
        only(config, {"deployedModelId", "objectiveConfig"}, where)
        need(config, ["deployedModelId", "objectiveConfig"], where)
        if config["deployedModelId"] not in {d["id"] for d in endpoint["deployedModels"]}:
            raise bad(f"{where}.deployedModelId {config['deployedModelId']} is not deployed on {endpoint['name']}")
        objective = config["objectiveConfig"]
        only(
            objective,
            {"trainingDataset", "trainingPredictionSkewDetectionConfig", "predictionDriftDetectionConfig"},
            f"{where}.objectiveConfig",
        )
        skew, drift = (
            objective.get("trainingPredictionSkewDetectionConfig"),
            objective.get("predictionDriftDetectionConfig"),
        )
        if skew is None and drift is None:
            raise bad(f"{where}.objectiveConfig needs a skew or a drift detection config")
        dataset = objective.get("trainingDataset")
        if skew is not None and not dataset:
            raise bad(f"{where}: skew detection needs objectiveConfig.trainingDataset")
        if dataset is not None:
            only(dataset, {"bigquerySource", "targetField", "dataFormat", "gcsSource", "dataset"}, "trainingDataset")
            uri = (dataset.get("bigquerySource") or {}).get("inputUri", "")
            if not BQ_TABLE.match(str(uri)):
                raise bad(f"trainingDataset.bigquerySource.inputUri must be bq://project.dataset.table, got {uri!r}")
        for name, detection, key in (("skew", skew, "skewThresholds"), ("drift", drift, "driftThresholds")):
            if detection is None:
                continue
            default = f"default{key[0].upper()}{key[1 : -len('Thresholds')]}Threshold"
            only(detection, {key, default}, f"{name} detection config")
            self._check_thresholds(detection.get(key, {}), f"{name}.{key}")
            if default in detection:
                self._check_thresholds({"default": detection[default]}, f"{name}.{default}")

    def _check_monitoring_job(self, body: dict[str, Any], parent: str, *, creating: bool) -> None:
        only(body, MONITORING_JOB_FIELDS, "ModelDeploymentMonitoringJob")
        need(
            body,
            ["displayName", "endpoint", "modelDeploymentMonitoringObjectiveConfigs",
             "modelDeploymentMonitoringScheduleConfig"],
            "ModelDeploymentMonitoringJob",
        )  # fmt: skip
        if not str(body["endpoint"]).startswith(f"{parent}/endpoints/"):
            raise bad(f"endpoint {body['endpoint']} is not in {parent}")
        endpoint = self.endpoint(str(body["endpoint"]))
        if len(str(body["displayName"])) > 128:
            raise bad("displayName is longer than 128 characters")
        configs = body["modelDeploymentMonitoringObjectiveConfigs"]
        for index, config in enumerate(configs):
            self._check_objective(config, endpoint, f"modelDeploymentMonitoringObjectiveConfigs[{index}]")
        ids = [c["deployedModelId"] for c in configs]
        if len(set(ids)) != len(ids):
            raise bad(f"deployed model ids repeat in the objective configs: {ids}")
        schedule = body["modelDeploymentMonitoringScheduleConfig"]
        only(schedule, {"monitorInterval", "monitorWindow"}, "modelDeploymentMonitoringScheduleConfig")
        interval = DURATION.match(str(schedule.get("monitorInterval", "")))
        if interval is None or int(interval.group(1)) < 3600 or int(interval.group(1)) % 3600:
            raise bad(f"monitorInterval must be whole hours, at least 1 hour: {schedule.get('monitorInterval')!r}")
        sampling = body.get("loggingSamplingStrategy")
        if sampling is not None:
            only(sampling, {"randomSampleConfig"}, "loggingSamplingStrategy")
            only(sampling.get("randomSampleConfig") or {}, {"sampleRate"}, "randomSampleConfig")
            rate = (sampling.get("randomSampleConfig") or {}).get("sampleRate")
            if not isinstance(rate, (int, float)) or not 0 < rate <= 1:
                raise bad(f"randomSampleConfig.sampleRate must be in (0, 1], got {rate!r}")
        if "logTtl" in body and not DURATION.match(str(body["logTtl"])):
            raise bad(f"logTtl must be a duration like 2592000s, got {body['logTtl']!r}")
        alert = body.get("modelMonitoringAlertConfig")
        if alert is not None:
            only(alert, {"emailAlertConfig", "enableLogging", "notificationChannels"}, "modelMonitoringAlertConfig")
            if not isinstance(alert.get("enableLogging", False), bool):
                raise bad("modelMonitoringAlertConfig.enableLogging must be a boolean")
            for channel in alert.get("notificationChannels", []):
                if not CHANNEL.match(str(channel)):
                    raise bad(f"notification channel {channel!r} is not projects/P/notificationChannels/ID")
        if creating:
            need(body, ["encryptionSpec"], "ModelDeploymentMonitoringJob")
        if "encryptionSpec" in body:
            only(body["encryptionSpec"], {"kmsKeyName"}, "encryptionSpec")
            if not KMS_KEY.match(str(body["encryptionSpec"].get("kmsKeyName", ""))):
                raise bad("encryptionSpec.kmsKeyName must be a Cloud KMS crypto key name")
        for key, value in (body.get("labels") or {}).items():
            if not LABEL.match(key) or not LABEL.match(value):
                raise bad(f"label {key}={value} is not label-safe")

    def create_monitoring_job(self, parent: str, body: dict[str, Any]) -> dict[str, Any]:
        if body.get("name"):
            raise bad("name is output only on create")
        self._check_monitoring_job(body, parent, creating=True)
        for job in self.monitoring_jobs.values():
            if job["endpoint"] == body["endpoint"]:
                raise ApiError(
                    400, "FAILED_PRECONDITION", f"endpoint {body['endpoint']} already has monitoring job {job['name']}"
                )
        name = f"{parent}/modelDeploymentMonitoringJobs/{next(self.ids)}"
        endpoint_id = str(body["endpoint"]).rsplit("/", 1)[-1]
        self.monitoring_jobs[name] = {
            **body,
            "name": name,
            "state": "JOB_STATE_RUNNING",
            "scheduleState": "OFFLINE",
            "bigqueryTables": [
                {
                    "logSource": "SERVING",
                    "logType": "PREDICT",
                    "bigqueryTablePath": f"bq://p.model_deployment_monitoring_{endpoint_id}.serving_predict",
                }
            ],
        }
        return self.monitoring_jobs[name]

    def monitoring_job(self, name: str) -> dict[str, Any]:
        if name not in self.monitoring_jobs:
            raise ApiError(404, "NOT_FOUND", f"monitoring job {name} not found")
        return self.monitoring_jobs[name]

    def list_monitoring_jobs(self, parent: str, query: dict[str, str]) -> dict[str, Any]:
        text = query.get("filter", "")
        wanted = re.fullmatch(r'display_name="([^"]*)"', text)
        if text and wanted is None:
            raise bad(f'the fake supports only display_name="..." filters, got {text!r}')
        jobs = [
            j
            for n, j in self.monitoring_jobs.items()
            if n.startswith(f"{parent}/") and (wanted is None or j["displayName"] == wanted.group(1))
        ]
        return {"modelDeploymentMonitoringJobs": jobs}

    def patch_monitoring_job(self, name: str, body: dict[str, Any], mask: str) -> dict[str, Any]:
        current = self.monitoring_job(name)
        self.monitoring_masks.append(mask)
        paths = set(mask.split(",")) if mask else set()
        if not paths or not paths <= MONITORING_UPDATABLE:
            raise bad(f"updateMask {sorted(paths - MONITORING_UPDATABLE) or mask!r} is not updatable")
        if body.get("name") not in (None, name):
            raise bad(f"modelDeploymentMonitoringJob.name {body.get('name')!r} is not {name}")
        if body.get("encryptionSpec") not in (None, current.get("encryptionSpec")):
            raise bad("encryptionSpec cannot change")
        if body.get("endpoint") not in (None, current["endpoint"]):
            raise bad("endpoint cannot change")
        merged = {k: v for k, v in current.items() if k in MONITORING_JOB_FIELDS}
        merged.update({p: body[p] for p in paths if p in body})
        self._check_monitoring_job(merged, name.rsplit("/modelDeploymentMonitoringJobs/", 1)[0], creating=False)
        for path in paths:
            if path in body:
                current[path] = body[path]
            else:
                current.pop(path, None)
        return self._operation(name, dict(current), "google.cloud.aiplatform.v1.ModelDeploymentMonitoringJob")

    def set_monitoring_state(self, name: str, state: str) -> dict[str, Any]:
        self.monitoring_job(name)["state"] = state
        return {}

    def delete_monitoring_job(self, name: str) -> dict[str, Any]:
        job = self.monitoring_job(name)
        if job["state"] != "JOB_STATE_PAUSED":
            raise ApiError(400, "FAILED_PRECONDITION", f"monitoring job {name} must be paused before it is deleted")
        del self.monitoring_jobs[name]
        return self._operation(name, None, "google.protobuf.Empty")


class _Handler(BaseHTTPRequestHandler):
    fake: FakeVertex

    def log_message(self, *args: Any) -> None:  # quiet
        pass

    def _dispatch(self) -> None:
        url = urlparse(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        path = re.sub(r"^/(v1|v3|ui)/", "", unquote(url.path))
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else {}
            with self.fake.lock:
                _, result = self._route(self.command, path, body, query)
            self._send(200, result)
        except ApiError as err:
            if err.code == 400:
                self.fake.errors.append(f"{self.command} {path}: {err.message}")
            self._send(err.code, {"error": {"code": err.code, "message": err.message, "status": err.status}})

    do_GET = do_POST = do_PATCH = do_DELETE = _dispatch

    def _send(self, code: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _handle(self, route: str, name: str, body: dict[str, Any], mask: str) -> Any:
        return _handle_route(self.fake, route, name, body, mask)

    def _route(self, method: str, path: str, body: dict[str, Any], query: dict[str, str]) -> tuple[str, Any]:
        fake = self.fake
        table: list[tuple[str, str, str]] = [
            ("POST", rf"^({LOC})/models:upload$", "uploadModel"),
            ("GET", rf"^({LOC}/.+/operations/[^/]+)$", "getOperation"),
            ("POST", rf"^({LOC}/models/[^/:]+):mergeVersionAliases$", "mergeVersionAliases"),
            ("GET", rf"^({LOC}/models/[^/:]+):listVersions$", "listModelVersions"),
            ("GET", rf"^({LOC}/models/[^/:]+)$", "getModel"),
            ("PATCH", rf"^({LOC}/models/[^/:]+)$", "updateModel"),
            ("DELETE", rf"^({LOC}/models/[^/:@]+)$", "deleteModel"),
            ("DELETE", rf"^({LOC}/models/[^/:]+):deleteVersion$", "deleteModelVersion"),
            ("POST", rf"^({LOC}/endpoints/[^/:]+):deployModel$", "deployModel"),
            ("POST", rf"^({LOC}/endpoints/[^/:]+):undeployModel$", "undeployModel"),
            ("POST", rf"^({LOC}/endpoints/[^/:]+):mutateDeployedModel$", "mutateDeployedModel"),
            ("GET", rf"^({LOC}/endpoints/[^/:]+)$", "getEndpoint"),
            ("PATCH", rf"^({LOC}/endpoints/[^/:]+)$", "updateEndpoint"),
            ("POST", rf"^({LOC})/schedules$", "createSchedule"),
            ("GET", rf"^({LOC}/schedules/[^/:]+)$", "getSchedule"),
            ("PATCH", rf"^({LOC}/schedules/[^/:]+)$", "updateSchedule"),
            ("DELETE", rf"^({LOC}/schedules/[^/:]+)$", "deleteSchedule"),
            ("POST", rf"^({LOC}/schedules/[^/:]+):pause$", "pauseSchedule"),
            ("POST", rf"^({LOC}/schedules/[^/:]+):resume$", "resumeSchedule"),
            ("GET", r"^projects/([^/]+)/timeSeries$", "listTimeSeries"),
            ("POST", rf"^({LOC})/modelDeploymentMonitoringJobs$", "createModelDeploymentMonitoringJob"),
            ("GET", rf"^({LOC})/modelDeploymentMonitoringJobs$", "listModelDeploymentMonitoringJobs"),
            ("GET", rf"^({LOC}/modelDeploymentMonitoringJobs/[^/:]+)$", "getModelDeploymentMonitoringJob"),
            ("PATCH", rf"^({LOC}/modelDeploymentMonitoringJobs/[^/:]+)$", "updateModelDeploymentMonitoringJob"),
            ("POST", rf"^({LOC}/modelDeploymentMonitoringJobs/[^/:]+):pause$", "pauseModelDeploymentMonitoringJob"),
            ("POST", rf"^({LOC}/modelDeploymentMonitoringJobs/[^/:]+):resume$", "resumeModelDeploymentMonitoringJob"),
            ("DELETE", rf"^({LOC}/modelDeploymentMonitoringJobs/[^/:]+)$", "deleteModelDeploymentMonitoringJob"),
        ]
        for verb, pattern, route in table:
            match = re.match(pattern, path)
            if verb != method or not match:
                continue
            fake.requests.append((method, route, query if route in QUERY_ROUTES else body))
            fake.calls[route] = fake.calls.get(route, 0) + 1
            if fake.calls[route] in fake.failures.get(route, []):
                raise ApiError(500, "INTERNAL", f"injected failure of {route} call {fake.calls[route]}")
            number = len(fake.requests)
            if number in fake.fail_calls and not fake.fail_calls[number]:
                raise ApiError(500, "INTERNAL", f"injected failure of request {number} ({route})")
            name = match.group(1)
            if route == "listTimeSeries":
                result = fake.time_series(name, query)
            elif route == "listModelDeploymentMonitoringJobs":
                result = fake.list_monitoring_jobs(name, query)
            else:
                result = self._handle(route, name, body, query.get("updateMask", ""))
            if number in fake.fail_calls:
                raise ApiError(500, "INTERNAL", f"injected failure of request {number} ({route}) after its effect")
            return route, result
        raise ApiError(404, "NOT_FOUND", f"the fake does not implement {method} {path}")


def _handle_route(fake: FakeVertex, route: str, name: str, body: dict[str, Any], mask: str) -> Any:
    """Call the fake's implementation of ``route`` on resource ``name``."""
    resource, _, ref = name.partition("@")
    handlers: dict[str, Any] = {
        "uploadModel": lambda: fake.upload(name, body),
        "getOperation": lambda: fake.operations[name] if name in fake.operations else _missing(name),
        "mergeVersionAliases": lambda: fake.merge_aliases(name, body),
        "getModel": lambda: fake.version(resource, ref or "default"),
        "listModelVersions": lambda: fake.list_versions(name),
        "updateModel": lambda: fake.patch_model(name, body, mask),
        "deleteModel": lambda: fake.delete_model(name),
        "deleteModelVersion": lambda: fake.delete_version(name),
        "deployModel": lambda: fake.deploy(name, body),
        "undeployModel": lambda: fake.undeploy(name, body),
        "mutateDeployedModel": lambda: fake.mutate(name, body),
        "getEndpoint": lambda: fake.endpoint(name),
        "updateEndpoint": lambda: fake.patch_endpoint(name, body, mask),
        "createSchedule": lambda: fake.create_schedule(name, body),
        "getSchedule": lambda: fake.schedule(name),
        "updateSchedule": lambda: fake.patch_schedule(name, body, mask),
        "deleteSchedule": lambda: _delete_schedule(fake, name),
        "pauseSchedule": lambda: _set_state(fake, name, "PAUSED"),
        "resumeSchedule": lambda: _set_state(fake, name, "ACTIVE"),
        "createModelDeploymentMonitoringJob": lambda: fake.create_monitoring_job(name, body),
        "getModelDeploymentMonitoringJob": lambda: fake.monitoring_job(name),
        "updateModelDeploymentMonitoringJob": lambda: fake.patch_monitoring_job(name, body, mask),
        "pauseModelDeploymentMonitoringJob": lambda: fake.set_monitoring_state(name, "JOB_STATE_PAUSED"),
        "resumeModelDeploymentMonitoringJob": lambda: fake.set_monitoring_state(name, "JOB_STATE_RUNNING"),
        "deleteModelDeploymentMonitoringJob": lambda: fake.delete_monitoring_job(name),
    }
    return handlers[route]()


def _missing(name: str) -> dict[str, Any]:
    raise ApiError(404, "NOT_FOUND", f"{name} not found")


def _set_state(fake: FakeVertex, name: str, state: str) -> dict[str, Any]:
    fake.schedule(name)["state"] = state
    return {}


def _delete_schedule(fake: FakeVertex, name: str) -> dict[str, Any]:
    fake.schedule(name)
    del fake.schedules[name]
    return fake._operation(name, None, "google.protobuf.Empty")


class FakeVertexServer:
    """Runs a :class:`FakeVertex` on 127.0.0.1 in a daemon thread; ``url`` is the api_endpoint to use."""

    def __init__(self) -> None:
        self.fake = FakeVertex()
        handler = type("Handler", (_Handler,), {"fake": self.fake})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeVertexServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
