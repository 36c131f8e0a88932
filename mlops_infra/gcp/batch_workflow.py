"""The Cloud Workflow one scheduled batch prediction run executes: create the job, wait, stop it at the deadline.

Vertex AI's ``BatchPredictionJob`` has no run-time limit of its own, so the workflow enforces
``max_runtime_seconds``: it creates the job (``batchPredictionJobs.create``), polls it every
``poll_seconds``, returns the job's ``outputInfo`` when it succeeds, raises when it fails, is cancelled,
expires or succeeds only partly (the execution fails, and the batch alert fires), and cancels the job
(``batchPredictionJobs.cancel``) once the deadline passes, then raises.

Each run writes under the job's ``outputUriPrefix`` in its own ``prediction-<model>-<timestamp>``
directory (Vertex names it), so runs never overwrite each other.
"""

from __future__ import annotations

from typing import Any

TERMINAL_FAILURES = ("JOB_STATE_FAILED", "JOB_STATE_CANCELLED", "JOB_STATE_EXPIRED", "JOB_STATE_PARTIALLY_SUCCEEDED")
"""Job states that fail the run (a partial success drops records: someone must look)."""
POLL_SECONDS = 60
"""Seconds between two reads of the job's state."""


def vertex_v1(region: str) -> str:
    """The regional Vertex AI REST base, ``https://{region}-aiplatform.googleapis.com/v1/``."""
    return f"https://{region}-aiplatform.googleapis.com/v1/"


def batch_workflow(
    *,
    project: str,
    region: str,
    job: dict[str, Any],
    max_runtime_seconds: int,
    poll_seconds: int = POLL_SECONDS,
) -> dict[str, Any]:
    """The workflow (Workflows reads JSON): see the module docstring. ``job`` is the REST BatchPredictionJob."""
    base = vertex_v1(region)
    create_url = f"{base}projects/{project}/locations/{region}/batchPredictionJobs"
    display = str(job["displayName"])
    body = {**job, "displayName": f'${{"{display}-" + sys.get_env("GOOGLE_CLOUD_WORKFLOW_EXECUTION_ID")}}'}
    failures = "[" + ", ".join(f'"{s}"' for s in TERMINAL_FAILURES) + "]"
    return {
        "main": {
            "steps": [
                {"start": {"assign": [{"deadline": f"${{sys.now() + {max_runtime_seconds}}}"}]}},
                {
                    "create": {
                        "call": "http.post",
                        "args": {"url": create_url, "auth": {"type": "OAuth2"}, "body": body},
                        "result": "created",
                    }
                },
                {"wait": {"call": "sys.sleep", "args": {"seconds": poll_seconds}}},
                {
                    "poll": {
                        "call": "http.get",
                        "args": {"url": f'${{"{base}" + created.body.name}}', "auth": {"type": "OAuth2"}},
                        "result": "job",
                    }
                },
                {
                    "decide": {
                        "switch": [
                            {
                                "condition": '${job.body.state == "JOB_STATE_SUCCEEDED"}',
                                "return": '${map.get(job.body, "outputInfo")}',
                            },
                            {
                                "condition": f"${{job.body.state in {failures}}}",
                                "raise": '${"batch prediction " + created.body.name + " ended " + job.body.state}',
                            },
                            {"condition": "${sys.now() > deadline}", "next": "cancel"},
                        ],
                        "next": "wait",
                    }
                },
                {
                    "cancel": {
                        "call": "http.post",
                        "args": {"url": f'${{"{base}" + created.body.name + ":cancel"}}', "auth": {"type": "OAuth2"}},
                    }
                },
                {
                    "stopped": {
                        "raise": f'${{"batch prediction " + created.body.name + " ran past max_runtime_seconds '
                        f'({max_runtime_seconds} s) and was cancelled"}}'
                    }
                },
            ]
        }
    }
