"""The source text of the Airflow DAG that starts a platform's training pipeline (``training.orchestrator: airflow``).

Amazon MWAA and Cloud Composer read DAGs as Python files from a bucket; the realization uploads the
text rendered here. The DAG owns the schedule (the spec's cron read in its time zone, no catch-up,
one run at a time); the cloud's native scheduler is then not created, so nothing starts a run twice.
Values go into the text as Python literals (``repr``), never by string pasting, so a name or a
parameter cannot break out of its literal. The text imports Airflow, which only the environment has:
tests compile it, they do not import it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from mlops_infra.spec.schedule import Schedule

# The day the DAG's schedule starts counting from; with catchup=False no run before deployment is started.
START_DATE = (2024, 1, 1)
DAG_TAGS = ("mlops-infra", "training")
_MAX_DAG_ID = 250  # Airflow's limit on dag_id


def _dag_id(value: str) -> str:
    """Airflow dag ids are letters, digits, ``-``, ``_`` and ``.``."""
    if not value or len(value) > _MAX_DAG_ID or not all(c.isalnum() or c in "-_." for c in value):
        raise ValueError(f"dag_id {value!r} must be 1-{_MAX_DAG_ID} letters, digits, '-', '_' or '.'")
    return value


def _header(summary: str, imports: list[str], constants: Mapping[str, Any]) -> list[str]:
    summary = " ".join(summary.replace("\\", "/").replace('"', "'").split())  # no way out of the docstring
    lines = [f'"""{summary} Rendered by mlops-infra: edit the platform spec, not this file."""', ""]
    lines += ["from __future__ import annotations", "", *imports, ""]
    lines += [f"{name} = {value!r}" for name, value in constants.items()]
    return lines


def _dag_block(dag_id: str, schedule: Schedule | None, task: list[str]) -> list[str]:
    """``with DAG(...)``: the cron in its time zone (the start date's), no catch-up, one run at a time."""
    time_zone = schedule.time_zone if schedule is not None else "UTC"
    year, month, day = START_DATE
    return [
        "",
        "with DAG(",
        f"    dag_id={_dag_id(dag_id)!r},",
        "    schedule=SCHEDULE,",
        f"    start_date=pendulum.datetime({year}, {month}, {day}, tz={time_zone!r}),",
        "    catchup=False,",
        "    max_active_runs=1,",
        f"    tags={list(DAG_TAGS)!r},",
        ") as dag:",
        *(f"    {line}" for line in task),
        "",
    ]


def sagemaker_pipeline_dag(
    *, dag_id: str, pipeline_name: str, schedule: Schedule | None, parameters: Mapping[str, str]
) -> str:
    """A DAG that starts SageMaker pipeline ``pipeline_name`` with ``parameters`` on ``schedule`` (None: on demand).

    The Amazon provider's operator calls ``StartPipelineExecution`` only (no waiting, so the execution
    role needs nothing else on the pipeline); MWAA's ``aws_default`` connection is its execution role.
    """
    constants = {
        "PIPELINE_NAME": pipeline_name,
        "PIPELINE_PARAMETERS": dict(sorted(parameters.items())),
        "SCHEDULE": schedule.cron if schedule is not None else None,
    }
    imports = [
        "import pendulum",
        "from airflow import DAG",
        "from airflow.providers.amazon.aws.operators.sagemaker import SageMakerStartPipelineOperator",
    ]
    task = [
        "SageMakerStartPipelineOperator(",
        '    task_id="start_pipeline",',
        "    pipeline_name=PIPELINE_NAME,",
        "    pipeline_params=PIPELINE_PARAMETERS,",
        "    wait_for_completion=False,",
        ")",
    ]
    summary = f"Starts the SageMaker pipeline {pipeline_name} on {_when(schedule)}."
    return "\n".join([*_header(summary, imports, constants), *_dag_block(dag_id, schedule, task)])


def vertex_pipeline_dag(
    *, dag_id: str, pipeline_jobs_url: str, pipeline_job: Mapping[str, Any], schedule: Schedule | None
) -> str:
    """A DAG that submits the Vertex AI PipelineJob ``pipeline_job`` (its CMEK and service account included).

    The task POSTs the job to ``pipelineJobs.create`` with the environment's credentials, as the
    native Cloud Scheduler job would; the job runs as the service account the body names.
    """
    constants = {
        "PIPELINE_JOBS_URL": pipeline_jobs_url,
        "PIPELINE_JOB": json.dumps(dict(pipeline_job), sort_keys=True, separators=(",", ":")),
        "SCHEDULE": schedule.cron if schedule is not None else None,
        "SCOPES": ["https://www.googleapis.com/auth/cloud-platform"],
    }
    imports = [
        "import json",
        "import google.auth",
        "import pendulum",
        "from airflow import DAG",
        "from airflow.operators.python import PythonOperator",
        "from google.auth.transport.requests import AuthorizedSession",
    ]
    submit = [
        "",
        "",
        "def submit_pipeline_job() -> str:",
        '    """Create the PipelineJob; its name is the task\'s return value (XCom)."""',
        "    credentials, _ = google.auth.default(scopes=SCOPES)",
        "    session = AuthorizedSession(credentials)",
        "    response = session.post(PIPELINE_JOBS_URL, json=json.loads(PIPELINE_JOB), timeout=60)",
        "    response.raise_for_status()",
        '    return str(response.json()["name"])',
    ]
    submit.append("")
    task = ['PythonOperator(task_id="submit_pipeline_job", python_callable=submit_pipeline_job)']
    name = str(pipeline_job.get("displayName", dag_id))
    summary = f"Submits the Vertex AI pipeline {name} on {_when(schedule)}."
    return "\n".join([*_header(summary, imports, constants), *submit, *_dag_block(dag_id, schedule, task)])


def _when(schedule: Schedule | None) -> str:
    if schedule is None:
        return "demand (no schedule)"
    return f"cron {schedule.cron} ({schedule.time_zone})"
