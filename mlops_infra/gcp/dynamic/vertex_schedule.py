"""``VertexSchedule``: a Vertex AI Schedule that creates pipeline jobs on a cron (superseded).

Superseded by pulumi-gcp's native ``gcp.colab.Schedule`` (``create_pipeline_job_request``), which
``TrainingPipeline`` declares for ``schedule.engine="vertex-schedule"``. Kept so stacks created with
it can still update and delete it: Pulumi unpickles this provider by reference from the state.
"""

# ruff: noqa: PLC0415 - google.cloud imports take seconds; they run only when a provider method does.

from __future__ import annotations

import json
from typing import Any

import pulumi
import pulumi.dynamic as dyn

from mlops_infra.gcp.dynamic import clients
from mlops_infra.gcp.dynamic.errors import is_not_found, vertex_call, wait
from mlops_infra.gcp.dynamic.props import timeout_of, without_provider

REPLACE_FIELDS = ("project", "region", "api_endpoint")
UPDATE_PATHS = ["display_name", "cron", "max_concurrent_run_count", "create_pipeline_job_request"]


def _schedule_message(props: dict[str, Any], name: str = "") -> Any:
    from google.cloud.aiplatform_v1 import types

    parent = f"projects/{props['project']}/locations/{props['region']}"
    job = types.PipelineJob.from_json(json.dumps(props["pipeline_job"]))
    return types.Schedule(
        name=name,
        display_name=props["display_name"],
        cron=props["cron"],
        max_concurrent_run_count=int(props.get("max_concurrent_run_count") or 1),
        create_pipeline_job_request=types.CreatePipelineJobRequest(parent=parent, pipeline_job=job),
    )


class VertexScheduleProvider(dyn.ResourceProvider):
    """CRUD for one Vertex AI Schedule of pipeline runs."""

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> dyn.DiffResult:
        watched = (*REPLACE_FIELDS, "display_name", "cron", "max_concurrent_run_count", "pipeline_job", "paused")
        changed = [f for f in watched if olds.get(f) != news.get(f)]
        return dyn.DiffResult(changes=bool(changed), replaces=[f for f in changed if f in REPLACE_FIELDS])

    def create(self, props: dict[str, Any]) -> dyn.CreateResult:
        props = without_provider(props)
        service = clients.schedule_service(props["api_endpoint"])
        parent = f"projects/{props['project']}/locations/{props['region']}"
        with vertex_call("creating schedule", f"{parent}/schedules ({props['display_name']})"):
            created = service.create_schedule(parent=parent, schedule=_schedule_message(props))
        name = str(created.name)
        if props.get("paused"):
            with vertex_call("pausing schedule", name):
                service.pause_schedule(name=name)
        return dyn.CreateResult(id_=name, outs={**props, "name": name})

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> dyn.UpdateResult:
        news = without_provider(news)
        service = clients.schedule_service(news["api_endpoint"])

        fields = ("display_name", "cron", "max_concurrent_run_count", "pipeline_job")
        if any(olds.get(f) != news.get(f) for f in fields):
            with vertex_call("updating schedule", id_):
                service.update_schedule(schedule=_schedule_message(news, name=id_), update_mask={"paths": UPDATE_PATHS})
        if bool(olds.get("paused")) != bool(news.get("paused")):
            with vertex_call("pausing" if news.get("paused") else "resuming", f"schedule {id_}"):
                if news.get("paused"):
                    service.pause_schedule(name=id_)
                else:
                    service.resume_schedule(name=id_)
        return dyn.UpdateResult(outs={**news, "name": id_})

    def read(self, id_: str, props: dict[str, Any]) -> dyn.ReadResult:
        service = clients.schedule_service(props["api_endpoint"])
        with vertex_call("reading schedule", id_):
            missing, live = is_not_found(service.get_schedule, name=id_)
        if missing or live is None:
            return dyn.ReadResult(None, {})
        state = getattr(live.state, "name", str(live.state))
        outs = {**props, "cron": live.cron, "display_name": live.display_name, "paused": state == "PAUSED"}
        return dyn.ReadResult(id_, outs)

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        service = clients.schedule_service(props["api_endpoint"])
        with vertex_call("deleting schedule", id_):
            missing, operation = is_not_found(service.delete_schedule, name=id_)
        if not missing:
            timeout = timeout_of(props)
            wait(operation, "deleting schedule", id_, timeout)


class VertexSchedule(dyn.Resource, module="vertex", name="VertexSchedule"):
    """A Vertex AI Schedule that submits ``pipeline_job`` (PipelineJob REST JSON) on ``cron``."""

    name: pulumi.Output[str]

    def __init__(
        self,
        resource_name: str,
        *,
        project: pulumi.Input[str],
        region: str,
        api_endpoint: str,
        display_name: str,
        cron: str,
        pipeline_job: pulumi.Input[dict[str, Any]],
        max_concurrent_run_count: int = 1,
        paused: bool = False,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props: dict[str, Any] = {
            "project": project,
            "region": region,
            "api_endpoint": api_endpoint,
            "display_name": display_name,
            "cron": cron,
            "pipeline_job": pipeline_job,
            "max_concurrent_run_count": max_concurrent_run_count,
            "paused": paused,
            "name": None,
        }
        super().__init__(VertexScheduleProvider(), resource_name, props, opts)
