"""Example: scheduled batch inference on Vertex AI from the platform spec.

Each ``batch`` entry becomes a Cloud Scheduler job that executes a CMEK Cloud Workflow, which creates a
CMEK Vertex batch prediction job on the version holding the approved alias, waits for it, and cancels
it after ``max_runtime_seconds``. Relative ``input``/``output`` paths live in the platform's CMEK batch
data bucket (``{project}-{env}-gcp-batch-data``); results default to ``predictions/<name>/``, one
timestamped directory per run. Inputs and results are JSON Lines.
"""

import pulumi
from churn_spec import SERVE, churn_spec

from mlops_infra.conventions import init_platform
from mlops_infra.platform import MlPlatform

init_platform(environment="dev", owner="ml-platform", costCenter="cc-1234")

platform = MlPlatform(
    "churn",
    churn_spec(
        batch=[
            {
                "name": "nightly",
                "model": {"artifact": "churn/v1/", "serving": {"image": SERVE}},
                "input": "scoring/daily/",
                "schedule": {"cron": "0 2 * * *", "time_zone": "Europe/Berlin"},
                "compute": {"size": "medium"},
                "max_replicas": 4,
                "max_runtime_seconds": 7200,
            }
        ],
        # Nightly batch: at most 30.4 runs x 4 x n1-standard-4 x 2 h a month, on top of the platform's worst case
        # (the 1,500 USD budget of churn_spec covers both).
    ),
)

pulumi.export("platform", platform.outputs)
