"""log-retention: the logs an investigation needs are written, and log groups expire their events.

Logs of inference and training hold request payloads and identifiers; keeping them forever is
a cost and a privacy liability. GCP log buckets always have a finite retention (1-3650 days),
so only AWS log groups can break the retention half of this rule.

EKS control-plane logs are off unless the cluster names them: without the ``api``, ``audit``
and ``authenticator`` streams nobody can tell who called the Kubernetes API or with which
identity. They go to the CloudWatch log group ``/aws/eks/<cluster>/cluster``, which this rule's
retention check covers when the program declares it.
"""

from __future__ import annotations

from collections.abc import Iterator

from mlops_infra.policy.context import RuleContext
from mlops_infra.policy.model import Finding, ResourceView
from mlops_infra.policy.rules.common import Handler, covered_types, dispatch, subject
from mlops_infra.policy.spec import PolicySpec
from mlops_infra.policy.values import items, known

ID = "log-retention"
# The control-plane streams that record who did what (checkov CKV_AWS_37 also wants controllerManager, scheduler).
EKS_REQUIRED_LOG_TYPES = ("api", "audit", "authenticator")


def _log_group(view: ResourceView, ctx: RuleContext) -> Iterator[Finding]:
    days = known(view.props.get("retentionInDays"), "retentionInDays")
    if not days:
        yield Finding(
            f"{subject(view)}: events are kept forever (retentionInDays is "
            f"{'0' if days == 0 else 'not set'}). Set retentionInDays, for example 30, 90 or 365."
        )


def _eks_cluster(view: ResourceView, ctx: RuleContext) -> Iterator[Finding]:
    enabled = {str(t) for t in items(view.props.get("enabledClusterLogTypes"), "enabledClusterLogTypes")}
    missing = [t for t in EKS_REQUIRED_LOG_TYPES if t not in enabled]
    if missing:
        yield Finding(
            f"{subject(view)}: control-plane logging is off for {', '.join(missing)}, so API calls and the "
            "identities behind them are not recorded. Set enabledClusterLogTypes to include "
            f"{', '.join(EKS_REQUIRED_LOG_TYPES)} (and declare the /aws/eks/<name>/cluster log group with "
            "retentionInDays)."
        )


HANDLERS: dict[str, Handler] = {
    "aws:cloudwatch/logGroup:LogGroup": _log_group,
    "aws:eks/cluster:Cluster": _eks_cluster,
}

SPEC = PolicySpec(
    id=ID,
    title="Audit logs are on and log groups have a finite retention",
    description=(
        "CloudWatch log groups set retentionInDays (unset or 0 means never expire). EKS clusters enable the "
        f"{', '.join(EKS_REQUIRED_LOG_TYPES)} control-plane logs (enabledClusterLogTypes)."
    ),
    remediation="Set retentionInDays on aws.cloudwatch.LogGroup (1, 3, 5, 7, 14, 30, 60, 90, ... 3653); set "
    'enabled_cluster_log_types=["api", "audit", "authenticator", ...] on aws.eks.Cluster.',
    resource_types=covered_types(HANDLERS),
    checkov_ids=("CKV_AWS_37",),
    resource_check=dispatch(HANDLERS),
)
