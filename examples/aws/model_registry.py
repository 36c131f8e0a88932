"""A model registry whose approvals notify the team and start a Step Functions deployment.

Plan it offline:  mlops-infra plan examples/aws/model_registry.py --config environment=prod
In dev new packages are approved automatically; in staging and prod a person approves them.
"""

import pulumi

from mlops_infra.aws import PlatformKey
from mlops_infra.aws.audit_trail import AuditTrail
from mlops_infra.aws.budget import Budget
from mlops_infra.aws.model_registry import ModelRegistry
from mlops_infra.conventions import init_platform

platform = init_platform(environment="dev", owner="ml-platform", costCenter="cc-1234")

registry = ModelRegistry(
    "churn-models",
    {
        "description": "Churn classifier versions; approve one to deploy it",
        # The serving account pulls approved packages from this registry (read-only).
        "consumer_account_ids": ["210987654321"],
        "deploy_hook": {
            "kind": "step_functions",
            "arn": "arn:aws:states:us-east-1:123456789012:stateMachine:churn-deploy",
        },
        "notification_emails": ["ml-platform@example.com"],
    },
)

pulumi.export("modelPackageGroupName", registry.group_name)
pulumi.export("modelPackageGroupArn", registry.group_arn)
pulumi.export("approvalTopicArn", registry.topic_arn)
pulumi.export("approvalRuleArn", registry.rule_arn)
pulumi.export("initialApprovalStatus", registry.initial_approval_status)
pulumi.export("requiresManualApproval", registry.requires_manual_approval)

# Every stack declares its budget (policy: budget-required).
Budget("example", {"monthly_limit_usd": 500})

# Prod records who called which API on the stack's data and models (policy audit-logging).
if platform.protected:
    audit_key = PlatformKey("audit", {"extra_key_users": ["cloudtrail.amazonaws.com"]})
    AuditTrail("audit", {"kms_key_arn": audit_key.arn})
