"""``VertexModelMonitoringJob``: Vertex AI model monitoring (v1) of an endpoint's logged requests.

pulumi-gcp has no ``ModelDeploymentMonitoringJob`` resource, so this dynamic resource calls
``JobService`` through google-cloud-aiplatform. The job compares, every ``monitor_interval_hours``
(whole hours, at least 1), the sampled requests each deployed model received with the training
baseline (a BigQuery table): skew (``training_prediction_skew_detection_config``) and/or drift
between serving windows (``prediction_drift_detection_config``), one 0-1 threshold per feature
(``feature_thresholds``; ``default_threshold`` for any other feature). With ``enable_logging``
Vertex writes each anomaly to Cloud Logging (log ``aiplatform.googleapis.com/model_monitoring_anomaly``,
resource label ``model_deployment_monitoring_job`` = the job id), which is what starts retraining
(:mod:`mlops_infra.gcp.drift_trigger`), and notifies ``notification_channels``.

Idempotent on retry; a job is billed while it runs, so none may leak:

- create first lists the location's jobs: a job with the same display name on the same endpoint
  (a create whose answer was lost) is adopted and updated to the declaration; a job with another
  name on the endpoint is refused with its name (Vertex allows one monitoring job per endpoint);
- delete pauses the job when it runs (Vertex deletes only paused jobs), then deletes it; a job
  that is already gone is success.

Replace vs update (explicit): ``REPLACE_FIELDS`` (project, region, endpoint, kms_key_name: the job's
name and its encryption cannot change) replace the job, deleting the old one first (one job per
endpoint); every field in ``UPDATE_MASKS`` is patched in place; ``api_endpoint`` is only the host.
"""

# ruff: noqa: PLC0415 - google.cloud imports take seconds; they run only when a provider method does.

from __future__ import annotations

import re
from typing import Any

import pulumi
import pulumi.dynamic as dyn
from pulumi.runtime import rpc

from mlops_infra.gcp.dynamic import clients
from mlops_infra.gcp.dynamic.errors import VertexError, is_not_found, vertex_call, wait
from mlops_infra.gcp.dynamic.props import timeout_of, without_provider
from mlops_infra.gcp.dynamic.vertex_model import normalize_api_endpoint

ANOMALY_LOG = "aiplatform.googleapis.com%2Fmodel_monitoring_anomaly"
"""Cloud Logging log id (URL-encoded) of the anomalies a job with ``enable_logging`` writes."""
MONITORING_JOB_RESOURCE = "aiplatform.googleapis.com/ModelDeploymentMonitoringJob"
"""Monitored-resource type of those log entries; label ``model_deployment_monitoring_job`` is the job id."""

OBJECTIVES = ("skew", "drift")
REPLACE_FIELDS = ("project", "region", "endpoint", "kms_key_name")
# Input -> the ModelDeploymentMonitoringJob field it is written to (the update mask path).
UPDATE_MASKS: dict[str, str] = {
    "display_name": "display_name",
    "labels": "labels",
    "monitor_interval_hours": "model_deployment_monitoring_schedule_config",
    "sample_rate": "logging_sampling_strategy",
    "log_ttl_days": "log_ttl",
    "notification_channels": "model_monitoring_alert_config",
    "deployed_model_ids": "model_deployment_monitoring_objective_configs",
    "objectives": "model_deployment_monitoring_objective_configs",
    "feature_thresholds": "model_deployment_monitoring_objective_configs",
    "default_threshold": "model_deployment_monitoring_objective_configs",
    "baseline_table": "model_deployment_monitoring_objective_configs",
    "target_field": "model_deployment_monitoring_objective_configs",
}
REQUIRED_FIELDS = ("project", "region", "api_endpoint", "endpoint", "display_name", "kms_key_name")
_ENDPOINT = re.compile(r"^projects/[^/]+/locations/[^/]+/endpoints/[^/]+$")
_TABLE = re.compile(r"^[a-z][a-z0-9-]{4,28}[a-z0-9]\.[A-Za-z_][A-Za-z0-9_]*\.[A-Za-z_][A-Za-z0-9_$-]*$")
_CHANNEL = re.compile(r"^projects/[^/]+/notificationChannels/[^/]+$")
_KMS = re.compile(r"^projects/[^/]+/locations/[^/]+/keyRings/[^/]+/cryptoKeys/[^/]+$")
_FEATURE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,299}$")


def _known(value: Any) -> bool:
    """Preview hands the provider unknowns as a placeholder string; only known values are checked."""
    return value is not None and value != rpc.UNKNOWN


def check_props(props: dict[str, Any]) -> list[tuple[str, str]]:
    """``(field, reason)`` for every invalid input: what Vertex would refuse, said before any call."""
    failures = [(f, f"{f} is required") for f in REQUIRED_FIELDS if props.get(f) in (None, "")]
    endpoint, table, key = props.get("endpoint"), props.get("baseline_table"), props.get("kms_key_name")
    if _known(endpoint) and endpoint and not _ENDPOINT.match(str(endpoint)):
        failures.append(("endpoint", f"{endpoint!r} is not projects/P/locations/L/endpoints/ID"))
    if _known(key) and key and not _KMS.match(str(key)):
        failures.append(("kms_key_name", f"{key!r} is not a Cloud KMS crypto key name (CMEK is required)"))
    objectives = list(props.get("objectives") or [])
    if not objectives or set(objectives) - set(OBJECTIVES) or len(set(objectives)) != len(objectives):
        failures.append(("objectives", f"{objectives!r}: one or both of {list(OBJECTIVES)}"))
    if "skew" in objectives and not table:
        failures.append(("baseline_table", "skew detection compares with the training data: a table is required"))
    if _known(table) and table and not _TABLE.match(str(table)):
        failures.append(("baseline_table", f"{table!r} is not project.dataset.table"))
    failures += _threshold_failures(props)
    failures += _number_failures(props)
    for channel in props.get("notification_channels") or []:
        if _known(channel) and not _CHANNEL.match(str(channel)):
            failures.append(("notification_channels", f"{channel!r} is not projects/P/notificationChannels/ID"))
    ids = props.get("deployed_model_ids")
    if _known(ids) and isinstance(ids, list) and not ids:
        failures.append(("deployed_model_ids", "the endpoint has no deployed model to monitor"))
    if len(str(props.get("display_name") or "")) > 128:
        failures.append(("display_name", "at most 128 characters"))
    return failures


def _number_failures(props: dict[str, Any]) -> list[tuple[str, str]]:
    """Interval (whole hours), sampling share (0-1) and log TTL (whole days)."""
    failures: list[tuple[str, str]] = []
    interval = props.get("monitor_interval_hours")
    if not isinstance(interval, (int, float)) or float(interval) != int(interval) or not 1 <= int(interval) <= 168:
        failures.append(("monitor_interval_hours", f"{interval!r}: whole hours, 1 to 168 (Vertex runs hourly at most)"))
    rate = props.get("sample_rate")
    if not isinstance(rate, (int, float)) or not 0 < float(rate) <= 1:
        failures.append(("sample_rate", f"{rate!r}: the share of requests logged is in (0, 1]"))
    ttl = props.get("log_ttl_days")
    if not isinstance(ttl, (int, float)) or float(ttl) != int(ttl) or not 1 <= int(ttl) <= 3650:
        failures.append(("log_ttl_days", f"{ttl!r}: whole days, 1 to 3650"))
    return failures


def _threshold_failures(props: dict[str, Any]) -> list[tuple[str, str]]:
    """Feature names and their 0-1 thresholds (the default one included)."""
    failures: list[tuple[str, str]] = []
    thresholds = {"default_threshold": props.get("default_threshold")}
    for feature, value in dict(props.get("feature_thresholds") or {}).items():
        if not _FEATURE.match(str(feature)):
            failures.append(("feature_thresholds", f"{feature!r} is not a feature name"))
        thresholds[f"feature_thresholds.{feature}"] = value
    for name, value in thresholds.items():
        if not isinstance(value, (int, float)) or not 0 < float(value) <= 1:
            failures.append((name, f"{value!r}: a distance threshold is in (0, 1]"))
    return failures


def _parent(props: dict[str, Any]) -> str:
    return f"projects/{props['project']}/locations/{props['region']}"


def job_message(props: dict[str, Any], name: str = "") -> Any:
    """The ``ModelDeploymentMonitoringJob`` the inputs declare (one objective config per deployed model)."""
    from google.cloud.aiplatform_v1 import types

    thresholds = {f: types.ThresholdConfig(value=float(v)) for f, v in dict(props["feature_thresholds"]).items()}
    default = types.ThresholdConfig(value=float(props["default_threshold"]))
    objectives = list(props["objectives"])
    objective = types.ModelMonitoringObjectiveConfig()
    if props.get("baseline_table"):
        objective.training_dataset = types.ModelMonitoringObjectiveConfig.TrainingDataset(
            bigquery_source=types.BigQuerySource(input_uri=f"bq://{props['baseline_table']}"),
            target_field=props.get("target_field") or "",
        )
    if "skew" in objectives:
        objective.training_prediction_skew_detection_config = (
            types.ModelMonitoringObjectiveConfig.TrainingPredictionSkewDetectionConfig(
                skew_thresholds=thresholds, default_skew_threshold=default
            )
        )
    if "drift" in objectives:
        objective.prediction_drift_detection_config = (
            types.ModelMonitoringObjectiveConfig.PredictionDriftDetectionConfig(
                drift_thresholds=thresholds, default_drift_threshold=default
            )
        )
    return types.ModelDeploymentMonitoringJob(
        name=name,
        display_name=props["display_name"],
        endpoint=props["endpoint"],
        model_deployment_monitoring_objective_configs=[
            types.ModelDeploymentMonitoringObjectiveConfig(deployed_model_id=str(i), objective_config=objective)
            for i in sorted(str(i) for i in props["deployed_model_ids"])
        ],
        model_deployment_monitoring_schedule_config=types.ModelDeploymentMonitoringScheduleConfig(
            monitor_interval={"seconds": int(props["monitor_interval_hours"]) * 3600}
        ),
        logging_sampling_strategy=types.SamplingStrategy(
            random_sample_config=types.SamplingStrategy.RandomSampleConfig(sample_rate=float(props["sample_rate"]))
        ),
        log_ttl={"seconds": int(props["log_ttl_days"]) * 86400},
        model_monitoring_alert_config=types.ModelMonitoringAlertConfig(
            enable_logging=True, notification_channels=[str(c) for c in props.get("notification_channels") or []]
        ),
        encryption_spec=types.EncryptionSpec(kms_key_name=props["kms_key_name"]),
        labels={str(k): str(v) for k, v in dict(props.get("labels") or {}).items()},
    )


def _changed(olds: dict[str, Any], news: dict[str, Any]) -> list[str]:
    fields = [f for f in (*REPLACE_FIELDS, *UPDATE_MASKS) if olds.get(f) != news.get(f)]
    if "deployed_model_ids" in fields and sorted(map(str, olds.get("deployed_model_ids") or [])) == sorted(
        map(str, news.get("deployed_model_ids") or [])
    ):
        fields.remove("deployed_model_ids")  # the same deployed models in another order
    return fields


class VertexModelMonitoringJobProvider(dyn.ResourceProvider):
    """CRUD for one ModelDeploymentMonitoringJob (the endpoint's only one)."""

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> dyn.CheckResult:
        failures = [dyn.CheckFailure(f, reason) for f, reason in check_props(news)]
        if news.get("api_endpoint"):
            try:
                clients.check_api_endpoint(str(news["api_endpoint"]))
            except ValueError as exc:
                failures.append(dyn.CheckFailure("api_endpoint", str(exc)))
        return dyn.CheckResult(news, failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> dyn.DiffResult:
        changed = _changed(olds, news)
        if normalize_api_endpoint(olds.get("api_endpoint")) != normalize_api_endpoint(news.get("api_endpoint")):
            changed.append("api_endpoint")  # another host for the same job: an update without an API call
        replaces = [f for f in changed if f in REPLACE_FIELDS]
        # Vertex allows one monitoring job per endpoint: the old job goes before its replacement is created.
        return dyn.DiffResult(
            changes=bool(changed),
            replaces=replaces,
            stables=["name"] if not replaces else [],
            delete_before_replace=True,
        )

    def create(self, props: dict[str, Any]) -> dyn.CreateResult:
        props = without_provider(props)
        _raise_on(check_props(props))
        service = clients.job_service(props["api_endpoint"])
        parent = _parent(props)
        existing = self._find(service, props)
        if existing is not None:
            name = str(existing.name)
            self._patch(service, props, name, sorted(set(UPDATE_MASKS.values())), timeout_of(props))
            if getattr(existing.state, "name", str(existing.state)) == "JOB_STATE_PAUSED":
                with vertex_call("resuming monitoring job", name):
                    service.resume_model_deployment_monitoring_job(name=name)
        else:
            with vertex_call(
                "creating monitoring job", f"{parent}/modelDeploymentMonitoringJobs ({props['display_name']})"
            ):
                created = service.create_model_deployment_monitoring_job(
                    parent=parent, model_deployment_monitoring_job=job_message(props)
                )
            name = str(created.name)
        return dyn.CreateResult(id_=name, outs={**props, "name": name, "job_id": name.rsplit("/", 1)[-1]})

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> dyn.UpdateResult:
        news = without_provider(news)
        _raise_on(check_props(news))
        paths = sorted({UPDATE_MASKS[f] for f in _changed(olds, news) if f in UPDATE_MASKS})
        if paths:
            service = clients.job_service(news["api_endpoint"])
            self._patch(service, news, id_, paths, timeout_of(news))
        return dyn.UpdateResult(outs={**news, "name": id_, "job_id": id_.rsplit("/", 1)[-1]})

    def read(self, id_: str, props: dict[str, Any]) -> dyn.ReadResult:
        service = clients.job_service(props["api_endpoint"])
        with vertex_call("reading monitoring job", id_):
            missing, live = is_not_found(service.get_model_deployment_monitoring_job, name=id_)
        if missing or live is None:
            return dyn.ReadResult(None, {})  # gone: Pulumi plans a create
        interval = live.model_deployment_monitoring_schedule_config.monitor_interval
        outs = {
            **props,
            "display_name": live.display_name,
            "labels": dict(live.labels),
            "monitor_interval_hours": int(interval.total_seconds()) // 3600 if interval else None,
            "notification_channels": list(live.model_monitoring_alert_config.notification_channels),
            "deployed_model_ids": sorted(
                c.deployed_model_id for c in live.model_deployment_monitoring_objective_configs
            ),
        }
        return dyn.ReadResult(id_, outs)

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        service = clients.job_service(props["api_endpoint"])
        timeout = timeout_of(props)
        with vertex_call("reading monitoring job", id_):
            missing, live = is_not_found(service.get_model_deployment_monitoring_job, name=id_)
        if missing or live is None:
            return
        if getattr(live.state, "name", str(live.state)) != "JOB_STATE_PAUSED":
            # Vertex deletes only paused jobs.
            with vertex_call("pausing monitoring job", id_):
                missing, _ = is_not_found(service.pause_model_deployment_monitoring_job, name=id_)
            if missing:
                return
        with vertex_call("deleting monitoring job", id_):
            missing, operation = is_not_found(service.delete_model_deployment_monitoring_job, name=id_)
        if not missing:
            wait(operation, "deleting monitoring job", id_, timeout)

    # -- helpers ---------------------------------------------------------------------------

    @staticmethod
    def _find(service: Any, props: dict[str, Any]) -> Any:
        """The job already watching the endpoint: ours (same display name) is adopted, another is refused."""
        parent = _parent(props)
        with vertex_call("listing monitoring jobs of", parent):
            jobs = list(service.list_model_deployment_monitoring_jobs(parent=parent))
        for job in jobs:
            if str(job.endpoint) != str(props["endpoint"]):
                continue
            if job.display_name == props["display_name"]:
                return job
            raise VertexError(
                f"endpoint {props['endpoint']} already has monitoring job {job.name} ({job.display_name!r}) that "
                "this resource did not create; Vertex allows one per endpoint: delete it (pause, then delete) "
                f"or rename this resource's display_name to {job.display_name!r} to adopt it"
            )
        return None

    @staticmethod
    def _patch(service: Any, props: dict[str, Any], name: str, paths: list[str], timeout: float) -> None:
        with vertex_call("updating monitoring job", name):
            operation = service.update_model_deployment_monitoring_job(
                model_deployment_monitoring_job=job_message(props, name=name), update_mask={"paths": paths}
            )
        wait(operation, "updating monitoring job", name, timeout)


def _raise_on(failures: list[tuple[str, str]]) -> None:
    if failures:
        raise VertexError("invalid monitoring job: " + "; ".join(f"{f}: {reason}" for f, reason in failures))


class VertexModelMonitoringJob(dyn.Resource, module="vertex", name="VertexModelMonitoringJob"):
    """A Vertex AI ModelDeploymentMonitoringJob on one endpoint (its deployed models vs the training data)."""

    name: pulumi.Output[str]
    job_id: pulumi.Output[str]

    def __init__(
        self,
        resource_name: str,
        *,
        project: pulumi.Input[str],
        region: str,
        api_endpoint: str,
        endpoint: pulumi.Input[str],
        deployed_model_ids: pulumi.Input[list[str]],
        display_name: str,
        kms_key_name: pulumi.Input[str],
        feature_thresholds: dict[str, float],
        default_threshold: float,
        baseline_table: pulumi.Input[str] | None,
        objectives: list[str] | None = None,
        target_field: str | None = None,
        monitor_interval_hours: int = 1,
        sample_rate: float = 1.0,
        log_ttl_days: int = 30,
        notification_channels: list[pulumi.Input[str]] | None = None,
        labels: dict[str, str] | None = None,
        timeout_seconds: int = 600,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props: dict[str, Any] = {
            "project": project,
            "region": region,
            "api_endpoint": api_endpoint,
            "endpoint": endpoint,
            "deployed_model_ids": deployed_model_ids,
            "display_name": display_name,
            "kms_key_name": kms_key_name,
            "feature_thresholds": feature_thresholds,
            "default_threshold": default_threshold,
            "baseline_table": baseline_table,
            "objectives": objectives or ["skew"],
            "target_field": target_field,
            "monitor_interval_hours": monitor_interval_hours,
            "sample_rate": sample_rate,
            "log_ttl_days": log_ttl_days,
            "notification_channels": notification_channels or [],
            "labels": labels or {},
            "timeout_seconds": timeout_seconds,
            "name": None,
            "job_id": None,
        }
        super().__init__(VertexModelMonitoringJobProvider(), resource_name, props, opts)
