"""A monthly budget for the churn platform: alert at 80 % spent and when the forecast passes 100 %.

Plan it offline:  mlops-infra plan examples/aws/budget.py --config environment=prod
"""

import pulumi

from mlops_infra.aws.budget import Budget
from mlops_infra.conventions import init_platform

init_platform(environment="dev", owner="ml-platform", costCenter="cc-1234")

budget = Budget("platform", {"monthly_limit_usd": 1500, "subscriber_emails": ["ml-platform@example.com"]})

pulumi.export("budgetName", budget.budget_name)
pulumi.export("alertTopicArn", budget.topic_arn)
