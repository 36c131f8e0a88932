"""The platform's customer-managed key: rotating yearly, usable only by the platform's own roles.

Plan it offline:  mlops-infra plan examples/aws/platform_key.py --config environment=prod
"""

import pulumi

from mlops_infra.aws import PlatformKey
from mlops_infra.aws.budget import Budget
from mlops_infra.conventions import init_platform

init_platform(environment="dev", owner="ml-platform", costCenter="cc-1234")

key = PlatformKey("platform", {"rotation_period_days": 180})

pulumi.export("keyArn", key.arn)

# Every stack declares its budget (policy: budget-required); its alerts topic uses this key too
# (without kms_key_arn it would ask for the shared key, also named "platform": a duplicate URN).
Budget("example", {"kms_key_arn": key.arn, "monthly_limit_usd": 500})
