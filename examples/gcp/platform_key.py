"""Example: the platform's Cloud KMS key (90-day rotation) and the service-agent grants for CMEK."""

import pulumi

from mlops_infra.conventions import init_platform
from mlops_infra.gcp import Budget, PlatformKey

init_platform(environment="dev", owner="ml-platform", costCenter="cc-1234")
region = pulumi.Config("gcp").get("region") or "us-central1"

key = PlatformKey("platform", {"region": region, "rotation_period_days": 90, "protection_level": "SOFTWARE"})

# Every stack declares a budget (policy budget-required).
Budget("example", {"billing_account": "01A2B3-C4D5E6-F7A8B9", "monthly_limit": 100})

pulumi.export("keyName", key.key_name)
pulumi.export("serviceAgents", sorted(agent.value for agent in key.bindings))
