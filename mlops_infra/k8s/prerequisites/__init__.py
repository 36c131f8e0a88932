"""The cluster-wide prerequisites of the Kubernetes platform, installed at pinned chart versions (opt-in).

- :mod:`.charts`: the pinned table (release, repository, chart and app version, namespace, why);
- :mod:`.values`: the Helm values of each chart (secure defaults, resources, ServiceMonitors);
- :mod:`.component`: ``ClusterPrerequisites``, the releases in dependency order.
"""

from mlops_infra.k8s.prerequisites.charts import CHARTS, GATEWAY_API_CRDS, PinnedChart, is_exact_version
from mlops_infra.k8s.prerequisites.component import ClusterPrerequisites, ClusterPrerequisitesArgs

__all__ = [
    "CHARTS",
    "GATEWAY_API_CRDS",
    "ClusterPrerequisites",
    "ClusterPrerequisitesArgs",
    "PinnedChart",
    "is_exact_version",
]
