"""People's roles on AWS: one IAM role per persona, assumed through the company's SAML identity provider.

The identity provider maps each group to the role ARN exported below (SAML ``Role`` attribute or an
IAM Identity Center assignment). Statements are scoped to the named registry group, pipeline,
endpoint, dashboard and budget.

Plan it offline:  mlops-infra plan examples/aws/persona_roles.py --config environment=prod
"""

import pulumi

from mlops_infra.aws import PlatformKey
from mlops_infra.aws.budget import Budget
from mlops_infra.aws.persona_roles import PersonaRoles
from mlops_infra.conventions import init_platform

init_platform(environment="dev", owner="ml-platform", costCenter="cc-1234")

key = PlatformKey("platform")
budget = Budget("example", {"kms_key_arn": key.arn, "monthly_limit_usd": 500})

roles = PersonaRoles(
    "people",
    {
        "identity_provider_arn": "arn:aws:iam::123456789012:saml-provider/acme-sso",
        "data_scientists": ["churn-data-scientists"],
        "ml_engineers": ["churn-ml-engineers"],
        "devops": ["platform-devops"],
        "analysts": ["churn-analysts"],
        "model_approvers": ["churn-ml-leads"],
        "kms_key_arn": key.arn,
        "model_package_group_name": "churn-dev-churn",
        "pipeline_arn": "arn:aws:sagemaker:us-east-1:123456789012:pipeline/churn-dev-training",
        "endpoint_names": ["churn-dev-scoring"],
        "dashboard_name": "churn-dev-operations",
        "budget_name": budget.budget_name,
    },
)

pulumi.export("roleArns", roles.role_arns)
