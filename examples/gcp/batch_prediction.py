"""Example: a nightly Vertex AI batch prediction with CMEK, least-privilege identities and a hard stop.

The component alone (the platform spec's ``batch`` section builds the same from ``platform.yaml``,
see batch_inference.py): the model's approved version scores every JSON Lines file under
``scoring/daily/`` each night at 02:00 Berlin time, and each run writes its own directory under
``predictions/nightly/`` in a CMEK bucket. A run still going after two hours is cancelled.
"""

import pulumi

from mlops_infra.conventions import init_platform
from mlops_infra.gcp import BatchPrediction, Budget, SecureBucket
from mlops_infra.gcp.audit_logs import AuditLogs
from mlops_infra.gcp.notification_channels import AlertChannels

platform = init_platform(environment="dev", owner="ml-platform", costCenter="cc-1234")
config = pulumi.Config("gcp")
region = config.get("region") or "us-central1"
project = config.get("project") or "churn-ml"

# A failed, partly successful or timed-out run alerts these receivers (policy alert-routing).
channels = AlertChannels("alerts", {"alerts": {"emails": ["ml-oncall@example.com"]}})
data = SecureBucket("scoring-data", {"region": region})
nightly = BatchPrediction(
    "nightly",
    {
        "region": region,
        "model": f"projects/{project}/locations/{region}/models/churn",
        "alias": "champion",
        "input_uris": [data.url.apply(lambda url: f"{url}/scoring/daily/*")],
        "output_uri_prefix": data.url.apply(lambda url: f"{url}/predictions/nightly/"),
        "machine_type": "n1-standard-4",
        "max_replicas": 4,
        "max_runtime_seconds": 7200,
        "schedule": {"cron": "0 2 * * *", "time_zone": "Europe/Berlin"},
        "read_buckets": [data.bucket_name],
        "write_buckets": [data.bucket_name],
        "notification_channels": channels.names("warning"),
    },
)

# Every stack declares a budget (policy budget-required).
Budget("example", {"billing_account": "01A2B3-C4D5E6-F7A8B9", "monthly_limit": 200})

# Prod records who read or wrote the stack's data and models (policy audit-logging).
if platform.protected:
    AuditLogs("audit")

pulumi.export("workflow", nightly.workflow_name)
pulumi.export("outputUriPrefix", data.url.apply(lambda url: f"{url}/predictions/nightly/"))
