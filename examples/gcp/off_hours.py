"""Example: off-hours on Vertex AI from the platform spec: no deployed model at night in dev, prod always up.

``off_hours`` applies in the environments it lists (here dev). There, at 20:00 Berlin time on weekdays a
Cloud Scheduler job runs a CMEK workflow that takes the endpoint's traffic off and undeploys its models (a
dedicated Vertex endpoint cannot run zero replicas); at 07:00 another runs it to redeploy exactly what the
endpoint declares: the version the last ``pulumi up`` resolved, machine, replicas, autoscaling, traffic split
(``mlops-infra:gcp:OffHours``, docs/components/gcp-off-hours.md). In prod the spec builds none of it.
Plan it offline:  mlops-infra plan examples/gcp/off_hours.py --config environment=dev
"""

import pulumi
from churn_spec import churn_spec

from mlops_infra.conventions import init_platform
from mlops_infra.platform import MlPlatform

init_platform(environment="dev", owner="ml-platform", costCenter="cc-1234")

berlin = "Europe/Berlin"
platform = MlPlatform(
    "churn",
    churn_spec(
        off_hours={
            "stop": {"cron": "0 20 * * 1-5", "time_zone": berlin},
            "start": {"cron": "0 7 * * 1-5", "time_zone": berlin},
            "environments": ["dev"],
        }
    ),
)

pulumi.export("platform", platform.outputs)
