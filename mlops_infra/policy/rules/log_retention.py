"""log-retention: log groups expire their events after a finite number of days.

Logs of inference and training hold request payloads and identifiers; keeping them forever is
a cost and a privacy liability. GCP log buckets always have a finite retention (1-3650 days),
so only AWS log groups can break this rule.
"""

from __future__ import annotations

from collections.abc import Iterator

from mlops_infra.policy.context import RuleContext
from mlops_infra.policy.model import Finding, ResourceView
from mlops_infra.policy.rules.common import Handler, covered_types, dispatch, subject
from mlops_infra.policy.spec import PolicySpec
from mlops_infra.policy.values import known

ID = "log-retention"


def _log_group(view: ResourceView, ctx: RuleContext) -> Iterator[Finding]:
    days = known(view.props.get("retentionInDays"), "retentionInDays")
    if not days:
        yield Finding(
            f"{subject(view)}: events are kept forever (retentionInDays is "
            f"{'0' if days == 0 else 'not set'}). Set retentionInDays, for example 30, 90 or 365."
        )


HANDLERS: dict[str, Handler] = {"aws:cloudwatch/logGroup:LogGroup": _log_group}

SPEC = PolicySpec(
    id=ID,
    title="Log groups have a finite retention",
    description="CloudWatch log groups set retentionInDays (unset or 0 means never expire).",
    remediation="Set retentionInDays on aws.cloudwatch.LogGroup (1, 3, 5, 7, 14, 30, 60, 90, ... 3653).",
    resource_types=covered_types(HANDLERS),
    checkov_ids=(),
    resource_check=dispatch(HANDLERS),
)
