"""Pulumi dynamic resources for the Vertex AI steps pulumi-gcp cannot express (google-cloud-aiplatform).

Type tokens: ``pulumi-python:dynamic/vertex:VertexModel``, ``...:VertexModelDeployment``,
``...:VertexSchedule`` and ``...:VertexModelMonitoringJob``. The google-cloud-aiplatform client
(the ``vertex`` extra) is imported only when a provider method runs, so planning needs none of it.
"""

from mlops_infra.gcp.dynamic.vertex_deployment import VertexModelDeployment, VertexModelDeploymentProvider
from mlops_infra.gcp.dynamic.vertex_model import VertexModel, VertexModelProvider
from mlops_infra.gcp.dynamic.vertex_monitoring import VertexModelMonitoringJob, VertexModelMonitoringJobProvider
from mlops_infra.gcp.dynamic.vertex_schedule import VertexSchedule, VertexScheduleProvider

__all__ = [
    "VertexModel",
    "VertexModelDeployment",
    "VertexModelDeploymentProvider",
    "VertexModelMonitoringJob",
    "VertexModelMonitoringJobProvider",
    "VertexModelProvider",
    "VertexSchedule",
    "VertexScheduleProvider",
]
