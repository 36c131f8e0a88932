"""no-public-access: no public buckets, endpoints, notebooks, IPs or load balancers, unless the
resource carries the allow marker (``mlops-infra/allow-public: "true"`` as tag, label or annotation).

Notebook settings that open a path from the internet (direct internet access, IMDSv1, public IPs)
are findings even with the marker: a notebook is never meant to be public. S3 buckets are checked
at stack level (``stack_rules.s3_bucket_public_access``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence

from mlops_infra.policy.context import RuleContext
from mlops_infra.policy.facts.managed_airflow import (
    COMPOSER_ENVIRONMENT,
    COMPOSER_PRIVATE_FLAGS,
    MWAA_ENVIRONMENT,
    MWAA_PRIVATE_ACCESS,
)
from mlops_infra.policy.markers import marker_hint, public_allowed
from mlops_infra.policy.model import Finding, ResourceView
from mlops_infra.policy.rules.common import Handler, covered_types, subject
from mlops_infra.policy.spec import PolicySpec
from mlops_infra.policy.stack_rules import s3_bucket_public_access
from mlops_infra.policy.values import get, is_set, is_true, items, known

ID = "no-public-access"
ANYWHERE = ("0.0.0.0/0", "::/0")
PUBLIC_MEMBERS = ("allUsers", "allAuthenticatedUsers")
INTERNAL_LB_ANNOTATIONS = {
    "service.beta.kubernetes.io/aws-load-balancer-internal": ("true", "0.0.0.0/0"),
    "service.beta.kubernetes.io/aws-load-balancer-scheme": ("internal",),
    "networking.gke.io/load-balancer-type": ("internal",),
    "cloud.google.com/load-balancer-type": ("internal",),
    "service.beta.kubernetes.io/azure-load-balancer-internal": ("true",),
}
KSERVE_VISIBILITY = "networking.kserve.io/visibility"
WEB_SERVER_RANGES = "config.webServerNetworkAccessControl.allowedIpRanges"


def _exposed(view: ResourceView, ctx: RuleContext, problem: str, fix: str) -> Iterator[Finding]:
    """A finding unless the resource is explicitly marked public."""
    if not public_allowed(view, ctx.config):
        yield Finding(
            f"{subject(view)}: {problem}. {fix} If exposure is intended, set {marker_hint(ctx.config, view)}."
        )


# --- AWS ----------------------------------------------------------------------------------------------


def _notebook_instance(view: ResourceView, ctx: RuleContext) -> Iterator[Finding]:
    access = known(view.props.get("directInternetAccess"), "directInternetAccess")
    if access != "Disabled":
        yield Finding(
            f"{subject(view)}: directInternetAccess is {access or 'Enabled (the default)'}, so the notebook "
            "reaches and is reachable from the internet outside your VPC. Set directInternetAccess: Disabled "
            "and give it a subnetId with a NAT or VPC endpoints."
        )
    imds = "instanceMetadataServiceConfiguration.minimumInstanceMetadataServiceVersion"
    if str(known(get(view.props, imds), imds)) != "2":
        yield Finding(
            f'{subject(view)}: the instance metadata service accepts IMDSv1, which SSRF can reach. Set {imds}: "2".'
        )


def _domain(view: ResourceView, ctx: RuleContext) -> Iterator[Finding]:
    mode = known(view.props.get("appNetworkAccessType"), "appNetworkAccessType")
    if mode != "VpcOnly":
        yield Finding(
            f"{subject(view)}: appNetworkAccessType is {mode or 'PublicInternetOnly (the default)'}, so Studio "
            "apps reach the internet directly. Set appNetworkAccessType: VpcOnly."
        )


def _load_balancer(view: ResourceView, ctx: RuleContext) -> Iterator[Finding]:
    if not is_true(view.props.get("internal"), "internal"):
        yield from _exposed(view, ctx, "the load balancer is internet-facing", "Set internal: true.")


def _open_cidrs(rule: Mapping[str, object], *keys: str) -> list[str]:
    return [str(c) for k in keys for c in items(rule.get(k), k) if str(c) in ANYWHERE]


def _security_group(view: ResourceView, ctx: RuleContext) -> Iterator[Finding]:
    for index, rule in enumerate(items(view.props.get("ingress"), "ingress")):
        if isinstance(rule, Mapping) and _open_cidrs(rule, "cidrBlocks", "ipv6CidrBlocks"):
            yield from _exposed(
                view,
                ctx,
                f"ingress[{index}] allows ports {rule.get('fromPort')}-{rule.get('toPort')} "
                "from anywhere (0.0.0.0/0 or ::/0)",
                "Restrict cidrBlocks to your networks.",
            )


def _security_group_rule(view: ResourceView, ctx: RuleContext) -> Iterator[Finding]:
    if known(view.props.get("type"), "type") == "ingress" and _open_cidrs(view.props, "cidrBlocks", "ipv6CidrBlocks"):
        yield from _exposed(view, ctx, "the ingress rule allows traffic from anywhere", "Restrict cidrBlocks.")


def _ingress_rule(view: ResourceView, ctx: RuleContext) -> Iterator[Finding]:
    cidrs = [known(view.props.get(k), k) for k in ("cidrIpv4", "cidrIpv6")]
    if any(c in ANYWHERE for c in cidrs):
        yield from _exposed(view, ctx, "the ingress rule allows traffic from anywhere", "Restrict cidrIpv4/cidrIpv6.")


def _ec2_instance(view: ResourceView, ctx: RuleContext) -> Iterator[Finding]:
    if is_true(view.props.get("associatePublicIpAddress"), "associatePublicIpAddress"):
        yield from _exposed(view, ctx, "the instance gets a public IP", "Set associatePublicIpAddress: false.")


def _database(view: ResourceView, ctx: RuleContext) -> Iterator[Finding]:
    if is_true(view.props.get("publiclyAccessible"), "publiclyAccessible"):
        yield from _exposed(view, ctx, "the database is publicly accessible", "Set publiclyAccessible: false.")


def _eks_cluster(view: ResourceView, ctx: RuleContext) -> Iterator[Finding]:
    """The API server endpoint: private, or public only to named CIDRs (EKS defaults to public, 0.0.0.0/0)."""
    public = get(view.props, "vpcConfig.endpointPublicAccess")
    if public is not None and not is_true(public, "vpcConfig.endpointPublicAccess"):
        return
    cidrs = [str(c) for c in items(get(view.props, "vpcConfig.publicAccessCidrs"), "vpcConfig.publicAccessCidrs")]
    if cidrs and not any(c in ANYWHERE for c in cidrs):
        return
    yield from _exposed(
        view,
        ctx,
        "the Kubernetes API endpoint is public to the whole internet (vpcConfig.endpointPublicAccess is "
        f"{'true' if public is not None else 'true by default'}, publicAccessCidrs "
        f"{'include 0.0.0.0/0' if cidrs else 'default to 0.0.0.0/0'})",
        "Set vpcConfig.endpointPrivateAccess: true and endpointPublicAccess: false, or restrict "
        "vpcConfig.publicAccessCidrs to your networks.",
    )


# --- GCP ------------------------------------------------------------------------------------------------


def _vertex_endpoint(view: ResourceView, ctx: RuleContext) -> Iterator[Finding]:
    psc = get(view.props, "privateServiceConnectConfig.enablePrivateServiceConnect")
    if not is_set(view.props.get("network")) and not is_true(
        psc, "privateServiceConnectConfig.enablePrivateServiceConnect"
    ):
        yield from _exposed(
            view,
            ctx,
            "predictions are served on a public endpoint",
            "Set privateServiceConnectConfig.enablePrivateServiceConnect: true (with projectAllowlists) "
            "or network to a VPC for a private endpoint.",
        )


def _index_endpoint(view: ResourceView, ctx: RuleContext) -> Iterator[Finding]:
    if is_true(view.props.get("publicEndpointEnabled"), "publicEndpointEnabled"):
        yield from _exposed(
            view,
            ctx,
            "publicEndpointEnabled is true",
            "Set publicEndpointEnabled: false and use network or privateServiceConnectConfig.",
        )


def _online_store(view: ResourceView, ctx: RuleContext) -> Iterator[Finding]:
    if view.props.get("optimized") is None:  # an optimized store is declared as optimized: {}
        return  # Bigtable stores serve through the regional Vertex API under IAM; no dedicated public host
    psc = "dedicatedServingEndpoint.privateServiceConnectConfig.enablePrivateServiceConnect"
    if not is_true(get(view.props, psc), psc):
        yield from _exposed(
            view,
            ctx,
            "the optimized store serves features on a public dedicated endpoint",
            f"Set {psc}: true with projectAllowlists.",
        )


def _mwaa_environment(view: ResourceView, ctx: RuleContext) -> Iterator[Finding]:
    mode = known(view.props.get("webserverAccessMode"), "webserverAccessMode")
    if mode is not None and mode != MWAA_PRIVATE_ACCESS:  # unset is PRIVATE_ONLY, MWAA's default
        yield from _exposed(
            view,
            ctx,
            f"webserverAccessMode is {mode}, so the Airflow UI and its REST API are reachable from the internet",
            f"Set webserverAccessMode: {MWAA_PRIVATE_ACCESS} (reach it through the VPC).",
        )


def _composer_environment(view: ResourceView, ctx: RuleContext) -> Iterator[Finding]:
    if not any(is_true(get(view.props, flag), flag) for flag in COMPOSER_PRIVATE_FLAGS):
        yield from _exposed(
            view,
            ctx,
            "the Composer environment is not private, so its workers have public IPs",
            "Set config.enablePrivateEnvironment: true (Composer 3) or "
            "config.privateEnvironmentConfig.enablePrivateEndpoint: true (Composer 2).",
        )
    ranges = items(get(view.props, WEB_SERVER_RANGES), WEB_SERVER_RANGES)
    control = get(view.props, "config.webServerNetworkAccessControl")
    open_ranges = [r.get("value") for r in ranges if isinstance(r, Mapping) and r.get("value") in ANYWHERE]
    if not is_set(control) or open_ranges:
        yield from _exposed(
            view,
            ctx,
            "the Airflow web server accepts requests from any IP address",
            f"Set {WEB_SERVER_RANGES} to your networks' ranges, or to an empty list to admit none.",
        )


def _flag_required(prop: str, what: str) -> Handler:
    def check(view: ResourceView, ctx: RuleContext) -> Iterator[Finding]:
        if not is_true(get(view.props, prop), prop):
            yield Finding(f"{subject(view)}: {what}. Set {prop}: true (reach it through IAP or a private network).")

    return check


def _gcs_bucket(view: ResourceView, ctx: RuleContext) -> Iterator[Finding]:
    prevention = known(view.props.get("publicAccessPrevention"), "publicAccessPrevention")
    if prevention != "enforced":
        yield from _exposed(
            view,
            ctx,
            f"publicAccessPrevention is {prevention or 'inherited (not set)'}, so an ACL or "
            "IAM grant can make objects public",
            'Set publicAccessPrevention: "enforced".',
        )


def _gcp_iam(view: ResourceView, ctx: RuleContext) -> Iterator[Finding]:
    members = [known(view.props.get("member"), "member"), *items(view.props.get("members"), "members")]
    public = sorted({str(m) for m in members if str(m) in PUBLIC_MEMBERS})
    if public:
        yield Finding(
            f"{subject(view)}: grants {known(view.props.get('role'), 'role')} to {', '.join(public)}, i.e. to "
            "anyone on the internet. Grant the role to named principals (serviceAccount:, group:) instead."
        )


def _bigquery_dataset(view: ResourceView, ctx: RuleContext) -> Iterator[Finding]:
    for index, access in enumerate(items(view.props.get("accesses"), "accesses")):
        if not isinstance(access, Mapping):
            continue
        if access.get("specialGroup") == "allAuthenticatedUsers" or access.get("iamMember") in PUBLIC_MEMBERS:
            yield Finding(
                f"{subject(view)}: accesses[{index}] opens the dataset to everyone. Remove it and grant "
                "named principals."
            )


def _compute_instance(view: ResourceView, ctx: RuleContext) -> Iterator[Finding]:
    for index, nic in enumerate(items(view.props.get("networkInterfaces"), "networkInterfaces")):
        if isinstance(nic, Mapping) and is_set(nic.get("accessConfigs")):
            yield from _exposed(
                view,
                ctx,
                f"networkInterfaces[{index}].accessConfigs gives it a public IP",
                "Remove accessConfigs; use Cloud NAT for egress and IAP for access.",
            )


def _firewall(view: ResourceView, ctx: RuleContext) -> Iterator[Finding]:
    direction = known(view.props.get("direction"), "direction") or "INGRESS"
    ranges = [str(r) for r in items(view.props.get("sourceRanges"), "sourceRanges")]
    if direction == "INGRESS" and is_set(view.props.get("allows")) and any(r in ANYWHERE for r in ranges):
        yield Finding(
            f"{subject(view)}: allows ingress from 0.0.0.0/0. Restrict sourceRanges (IAP uses 35.235.240.0/20)."
        )


def _gke_cluster(view: ResourceView, ctx: RuleContext) -> Iterator[Finding]:
    """The control plane: a private endpoint (or no IP endpoint at all), or master authorized networks that
    are not the internet."""
    ip_endpoints = "controlPlaneEndpointsConfig.ipEndpointsConfig.enabled"
    if known(get(view.props, ip_endpoints), ip_endpoints) is False:
        return  # only the DNS endpoint, which authorizes every request with IAM
    if is_true(
        get(view.props, "privateClusterConfig.enablePrivateEndpoint"), "privateClusterConfig.enablePrivateEndpoint"
    ):
        return
    networks = known(view.props.get("masterAuthorizedNetworksConfig"), "masterAuthorizedNetworksConfig")
    if isinstance(networks, Sequence) and not isinstance(networks, str):
        networks = networks[0] if networks else None  # a Terraform block of at most one item
    if not isinstance(networks, Mapping):
        problem = (
            "the control plane endpoint is public and masterAuthorizedNetworksConfig is not set, "
            "so any address can reach it"
        )
    else:
        blocks = items(networks.get("cidrBlocks"), "masterAuthorizedNetworksConfig.cidrBlocks")
        open_blocks = [
            str(b.get("cidrBlock")) for b in blocks if isinstance(b, Mapping) and str(b.get("cidrBlock")) in ANYWHERE
        ]
        public_gcp = is_true(
            networks.get("gcpPublicCidrsAccessEnabled"), "masterAuthorizedNetworksConfig.gcpPublicCidrsAccessEnabled"
        )
        if not open_blocks and not public_gcp:
            return
        problem = (
            f"masterAuthorizedNetworksConfig.cidrBlocks admit {', '.join(open_blocks)}"
            if open_blocks
            else "masterAuthorizedNetworksConfig.gcpPublicCidrsAccessEnabled admits every Google Cloud public IP"
        )
    yield from _exposed(
        view,
        ctx,
        problem,
        "Set privateClusterConfig.enablePrivateEndpoint: true, or list only your networks in "
        "masterAuthorizedNetworksConfig.cidrBlocks (and leave gcpPublicCidrsAccessEnabled false).",
    )


# --- Kubernetes -------------------------------------------------------------------------------------------


def _service(view: ResourceView, ctx: RuleContext) -> Iterator[Finding]:
    if known(get(view.props, "spec.type"), "spec.type") != "LoadBalancer":
        return
    annotations = view.annotations()
    if any(str(annotations.get(k, "")).lower() in values for k, values in INTERNAL_LB_ANNOTATIONS.items()):
        return
    yield from _exposed(
        view,
        ctx,
        "spec.type LoadBalancer gets a public address",
        "Use ClusterIP behind an internal ingress, or annotate it as an internal load balancer "
        "(service.beta.kubernetes.io/aws-load-balancer-scheme: internal, networking.gke.io/load-balancer-type: "
        "Internal).",
    )


def _inference_service(view: ResourceView, ctx: RuleContext) -> Iterator[Finding]:
    visibility = known(view.label_map().get(KSERVE_VISIBILITY), f"metadata.labels.{KSERVE_VISIBILITY}")
    if visibility != "cluster-local":
        yield from _exposed(
            view,
            ctx,
            "KServe exposes it through the cluster's external ingress gateway",
            f'Set the label {KSERVE_VISIBILITY}: "cluster-local".',
        )


HANDLERS: dict[str, Handler] = {
    "aws:sagemaker/notebookInstance:NotebookInstance": _notebook_instance,
    "aws:sagemaker/domain:Domain": _domain,
    "aws:lb/loadBalancer:LoadBalancer": _load_balancer,
    "aws:alb/loadBalancer:LoadBalancer": _load_balancer,
    "aws:ec2/securityGroup:SecurityGroup": _security_group,
    "aws:ec2/securityGroupRule:SecurityGroupRule": _security_group_rule,
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": _ingress_rule,
    "aws:ec2/instance:Instance": _ec2_instance,
    "aws:rds/instance:Instance": _database,
    "aws:rds/cluster:Cluster": _database,
    "aws:eks/cluster:Cluster": _eks_cluster,
    MWAA_ENVIRONMENT: _mwaa_environment,
    "gcp:vertex/aiEndpoint:AiEndpoint": _vertex_endpoint,
    "gcp:vertex/aiIndexEndpoint:AiIndexEndpoint": _index_endpoint,
    "gcp:vertex/aiFeatureOnlineStore:AiFeatureOnlineStore": _online_store,
    "gcp:workbench/instance:Instance": _flag_required("gceSetup.disablePublicIp", "the workbench VM has a public IP"),
    "gcp:notebooks/instance:Instance": _flag_required("noPublicIp", "the notebook VM has a public IP"),
    "gcp:notebooks/runtime:Runtime": _flag_required(
        "virtualMachine.virtualMachineConfig.internalIpOnly", "the runtime VM has a public IP"
    ),
    "gcp:storage/bucket:Bucket": _gcs_bucket,
    "gcp:bigquery/dataset:Dataset": _bigquery_dataset,
    "gcp:compute/instance:Instance": _compute_instance,
    "gcp:compute/firewall:Firewall": _firewall,
    "gcp:container/cluster:Cluster": _gke_cluster,
    COMPOSER_ENVIRONMENT: _composer_environment,
    "kubernetes:core/v1:Service": _service,
    "kubernetes:serving.kserve.io/v1beta1:InferenceService": _inference_service,
}


def _is_gcp_iam_grant(type_token: str) -> bool:
    kind = type_token.rsplit(":", 1)[-1].lower()
    return type_token.startswith("gcp:") and kind.endswith(("iammember", "iambinding"))


def check(view: ResourceView, ctx: RuleContext) -> Iterator[Finding]:
    handler = HANDLERS.get(view.type) or (_gcp_iam if _is_gcp_iam_grant(view.type) else None)
    if handler is not None:
        with ctx.unknowns():
            yield from handler(view, ctx)


SPEC = PolicySpec(
    id=ID,
    title="Nothing public without an explicit allow marker",
    description=(
        "Buckets block public access, endpoints and index endpoints are private (VPC or Private Service Connect), "
        "notebooks have no direct internet access, no public IP and IMDSv2 only, load balancers are internal, "
        "EKS and GKE API endpoints are private or open only to named networks, managed Airflow (MWAA, Composer) "
        "serves its web server privately, "
        "no IAM grant goes to allUsers/allAuthenticatedUsers. A resource that must be public carries the allow "
        'marker (tag/label/annotation mlops-infra/allow-public: "true"; GCP label mlops-infra_allow-public).'
    ),
    remediation="Use the secure defaults of the components; set the property named in the message on raw resources.",
    resource_types={
        **covered_types(HANDLERS),
        "aws": (
            *covered_types(HANDLERS)["aws"],
            "aws:s3/bucket:Bucket",
            "aws:s3/bucketV2:BucketV2",
            "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
            "aws:s3/accountPublicAccessBlock:AccountPublicAccessBlock",
            "aws:s3/bucketPolicy:BucketPolicy",
            "aws:s3/bucketAcl:BucketAcl",
        ),
        "gcp": (*covered_types(HANDLERS)["gcp"], "gcp:*/…IAMMember and …IAMBinding (every resource IAM grant)"),
    },
    checkov_ids=(
        "CKV_AWS_122",
        "CKV_AWS_371",
        "CKV2_GCP_33",
        "CKV2_GCP_34",
        "CKV_GCP_89",
        "CKV2_GCP_28",
        "CKV2_GCP_36",
        "CKV_AWS_38",
        "CKV_AWS_39",
        "CKV_GCP_18",
        "CKV_GCP_20",
    ),
    resource_check=check,
    stack_check=s3_bucket_public_access,
    config_properties=("allowPublicMarker",),
)
