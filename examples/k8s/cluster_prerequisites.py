"""What a bare cluster needs before the platform: KServe, Knative, cert-manager, Argo, Prometheus, OpenCost, Istio.

Every chart at a pinned version (mlops_infra/k8s/prerequisites/charts.py); install it once per cluster,
from one stack, before the platform stacks that use it. Plan it offline:

  mlops-infra plan examples/k8s/cluster_prerequisites.py --config environment=prod
"""

import pulumi

from mlops_infra.conventions import init_platform
from mlops_infra.k8s import ClusterPrerequisites, EncryptedStorageClass

init_platform(environment="dev", owner="ml-platform", costCenter="cc-1234")

# Prometheus and Alertmanager keep their data on volumes encrypted with your key.
storage = EncryptedStorageClass(
    "monitoring-storage",
    {
        "provisioner": "aws-ebs",
        "kms_key": "arn:aws:kms:us-east-1:123456789012:key/0f2d9c1e-5b7a-4e3c-9d8f-6a1b2c3d4e5f",
    },
)

prerequisites = ClusterPrerequisites(
    "cluster",
    {
        "knative": True,  # endpoints in KServe's Knative mode: scale to zero, canary percent
        "argo": True,  # training and batch as Argo workflows (k8s.argo_enabled)
        "traffic_router": "gateway_api",  # challengers routed by HTTPRoutes on Istio (GAMMA)
        "storage_class": storage.class_name,
        "cluster_id": "churn-eks-prod",
    },
    opts=pulumi.ResourceOptions(depends_on=[storage]),
)

pulumi.export("charts", prerequisites.chart_versions)
pulumi.export("prometheusUrl", prerequisites.prometheus_url)
