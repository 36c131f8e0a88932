"""Facts about AWS IAM: the actions AWS cannot scope, and policy documents as rules read them.

Rules (least-privilege-iam) and components (``mlops_infra.aws.iam``) both read these; this module
imports no cloud SDK.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mlops_infra.policy.values import UnknownValue, as_document, is_unknown

# Actions AWS does not allow to scope to a resource; "*" is the only legal Resource for them.
# The least-privilege rule accepts "*" for exactly these; components may grant them on "*".
UNSCOPABLE_ACTIONS: frozenset[str] = frozenset(
    {
        "ecr:GetAuthorizationToken",
        "cloudwatch:PutMetricData",
        "sagemaker:Search",
        "logs:DescribeLogGroups",
        # MWAA checks the account's S3 public access block; the action has no resource type.
        "s3:GetAccountPublicAccessBlock",
        # Read-only calls of people's roles that take no resource ARN (Service Authorization Reference).
        "sagemaker:ListModelPackages",
        "cloudwatch:GetMetricData",
        "ce:GetCostAndUsage",
        "ce:GetCostForecast",
        # SageMaker models in a VPC describe the network to attach ENIs; EC2 offers no resource scope.
        "ec2:DescribeDhcpOptions",
        "ec2:DescribeNetworkInterfaces",
        "ec2:DescribeSecurityGroups",
        "ec2:DescribeSubnets",
        "ec2:DescribeVpcs",
    }
)


@dataclass(frozen=True)
class Statement:
    """One statement of a policy document, every list-or-string field normalised to a list."""

    index: int
    effect: str
    actions: tuple[str, ...]
    not_actions: tuple[str, ...]
    resources: tuple[str, ...]
    not_resources: tuple[str, ...]
    principal: Any
    condition: Any
    sid: str | None

    @property
    def label(self) -> str:
        """How a message names the statement: its Sid, else its position."""
        return f"statement {self.sid!r}" if self.sid else f"statement #{self.index + 1}"

    @property
    def allows(self) -> bool:
        return self.effect.lower() == "allow"


def _strings(value: Any, path: str) -> tuple[str, ...]:
    if is_unknown(value):
        raise UnknownValue(value, path)
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, (list, tuple)):
        out = []
        for item in value:
            if is_unknown(item):
                raise UnknownValue(item, path)
            # Embedded Pulumi values (Outputs) arrive as strings; anything else is kept as text.
            out.append(item if isinstance(item, str) else str(item))
        return tuple(out)
    return (str(value),)


def statements(document: Any, path: str) -> list[Statement]:
    """Statements of a policy document (a JSON string or an already-parsed mapping)."""
    parsed = as_document(document, path)
    if not isinstance(parsed, Mapping):
        return []
    raw = parsed.get("Statement")
    if is_unknown(raw):
        raise UnknownValue(raw, f"{path}.Statement")
    entries = [raw] if isinstance(raw, Mapping) else list(raw or [])
    result = []
    for index, entry in enumerate(entries):
        if not isinstance(entry, Mapping):
            continue
        where = f"{path}.Statement[{index}]"
        result.append(
            Statement(
                index=index,
                effect=str(entry.get("Effect", "")),
                actions=_strings(entry.get("Action"), f"{where}.Action"),
                not_actions=_strings(entry.get("NotAction"), f"{where}.NotAction"),
                resources=_strings(entry.get("Resource"), f"{where}.Resource"),
                not_resources=_strings(entry.get("NotResource"), f"{where}.NotResource"),
                principal=entry.get("Principal"),
                condition=entry.get("Condition"),
                sid=str(entry["Sid"]) if isinstance(entry.get("Sid"), str) else None,
            )
        )
    return result


def principal_is_everyone(principal: Any) -> bool:
    """``"*"`` or ``{"AWS": "*"}`` (any AWS account, anonymous included)."""
    if principal == "*":
        return True
    if isinstance(principal, Mapping):
        aws = principal.get("AWS")
        values = aws if isinstance(aws, (list, tuple)) else [aws]
        return "*" in values
    return False


def denies_insecure_transport(statement: Statement) -> bool:
    """A Deny on every principal when ``aws:SecureTransport`` is false (the TLS-only bucket statement)."""
    if statement.effect.lower() != "deny" or not principal_is_everyone(statement.principal):
        return False
    if not any(a in ("*", "s3:*") for a in statement.actions):
        return False
    condition = statement.condition if isinstance(statement.condition, Mapping) else {}
    for operator, clauses in condition.items():
        if str(operator).lower() != "bool" or not isinstance(clauses, Mapping):
            continue
        for key, value in clauses.items():
            values = value if isinstance(value, (list, tuple)) else [value]
            if str(key).lower() == "aws:securetransport" and any(str(v).lower() == "false" for v in values):
                return True
    return False
