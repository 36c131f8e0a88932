"""``training.orchestrator: airflow`` on GCP: a Cloud Composer environment whose DAG submits the training pipeline.

The DAG owns the schedule: the training pipeline then gets no Cloud Scheduler job (nor Vertex
schedule), so one scheduler submits the runs. The environment is encrypted with the platform key
and submits the same PipelineJob body the native scheduler would (CMEK and service account included).
"""

from __future__ import annotations

import pulumi

from mlops_infra.gcp.composer import ComposerEnvironment
from mlops_infra.gcp.iam import ServiceAgent
from mlops_infra.gcp.platform_key import PlatformKey
from mlops_infra.gcp.training_pipeline import TrainingPipeline
from mlops_infra.realization import RealizeContext
from mlops_infra.spec.platform import PlatformSpec
from mlops_infra.spec.training import Orchestrator


def airflow_orchestrated(spec: PlatformSpec) -> bool:
    """True when an Airflow DAG, not the cloud's scheduler, starts the training runs."""
    return spec.training is not None and spec.training.orchestrator is Orchestrator.AIRFLOW


def realize_airflow(
    parent: pulumi.Resource,
    spec: PlatformSpec,
    context: RealizeContext,
    *,
    key: PlatformKey,
    pipeline: TrainingPipeline,
) -> ComposerEnvironment | None:
    """The Composer environment under ``parent`` when the spec asks for Airflow; None otherwise."""
    if not airflow_orchestrated(spec):
        return None
    assert spec.training is not None
    # The environment's bucket and images are encrypted by the Storage and Artifact Registry agents.
    grants = key.grants_for(ServiceAgent.STORAGE, ServiceAgent.ARTIFACT_REGISTRY)
    return ComposerEnvironment(
        context.child_name("airflow"),
        {
            "region": spec.gcp.region,
            "kms_key_name": key.key_name,
            "pipeline_job": pipeline.job_body,
            "pipeline_service_account": pipeline.service_account_email,
            "schedule": spec.training.schedule,
        },
        opts=context.opts(parent, depends_on=grants),
    )
