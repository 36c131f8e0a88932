"""A team's namespace with hard guardrails: quota, limits, default-deny network, persona RBAC.

Per team and environment: a Namespace (Pod Security Admission ``restricted`` enforced), a
ResourceQuota (CPU, memory, pods, PVC storage and count, GPUs, no LoadBalancers/NodePorts),
a LimitRange (defaults so every container has requests and limits), a default-deny
NetworkPolicy for ingress and egress plus DNS egress, and a Role + RoleBinding per persona
bound to identity-provider groups. With ``certificate_authority`` the namespace gets its own
cert-manager CA (self-signed root -> CA Issuer, ``tls_issuer``) that signs the in-cluster servers'
TLS certificates (Redis, PostgreSQL). Each workload component adds its own ServiceAccount and
the narrow NetworkPolicy allows for its connections.
"""

from __future__ import annotations

import re
from typing import Any, Literal

import pulumi
import pulumi_kubernetes as k8s
from pydantic import Field, field_validator, model_validator

from mlops_infra.component import PlatformComponent
from mlops_infra.conventions import naming
from mlops_infra.k8s import network
from mlops_infra.k8s.cert_issuer import namespace_ca
from mlops_infra.k8s.certificate import IssuerRef
from mlops_infra.k8s.labels import MANAGED_BY, MANAGER, PART_OF
from mlops_infra.k8s.objects import k8s_json, metadata, name_of, service_account
from mlops_infra.k8s.personas import OPTIONAL_PERSONAS, PERSONAS
from mlops_infra.k8s.quantity import parse_quantity, quantity
from mlops_infra.k8s.workload import GPU_RESOURCE
from mlops_infra.spec.base import Spec

DNS_LABEL = r"^[a-z]([-a-z0-9]*[a-z0-9])?$"
GROUP_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.:@/=-]*$"


class QuotaSettings(Spec):
    """Namespace totals (ResourceQuota ``hard``); CPU in cores, memory and storage in bytes."""

    requests_cpu: str = "16"
    limits_cpu: str = "32"
    requests_memory: str = "64Gi"
    limits_memory: str = "128Gi"
    pods: int = Field(50, ge=1, le=5000)
    requests_storage: str = Field("500Gi", description="Total PVC storage requested.")
    persistent_volume_claims: int = Field(20, ge=0, le=1000)
    gpus: int = Field(0, ge=0, le=512, description="requests.nvidia.com/gpu; 0 means the team may not use GPUs.")
    load_balancers: int = Field(0, ge=0, le=10, description="Explicit opt-in for public LoadBalancer Services.")
    node_ports: int = Field(0, ge=0, le=10, description="Explicit opt-in for NodePort Services.")

    _quantities = field_validator("requests_cpu", "limits_cpu", "requests_memory", "limits_memory", "requests_storage")(
        quantity
    )

    @model_validator(mode="after")
    def _requests_within_limits(self) -> QuotaSettings:
        if parse_quantity(self.requests_cpu) > parse_quantity(self.limits_cpu):
            raise ValueError("requests_cpu exceeds limits_cpu")
        if parse_quantity(self.requests_memory) > parse_quantity(self.limits_memory):
            raise ValueError("requests_memory exceeds limits_memory")
        return self

    def hard(self) -> dict[str, str]:
        return {
            "requests.cpu": self.requests_cpu,
            "limits.cpu": self.limits_cpu,
            "requests.memory": self.requests_memory,
            "limits.memory": self.limits_memory,
            "pods": str(self.pods),
            "requests.storage": self.requests_storage,
            "persistentvolumeclaims": str(self.persistent_volume_claims),
            f"requests.{GPU_RESOURCE}": str(self.gpus),
            "services.loadbalancers": str(self.load_balancers),
            "services.nodeports": str(self.node_ports),
        }


class LimitRangeSettings(Spec):
    """Per-container defaults (applied when a pod omits them) and ceilings; per-claim storage bounds."""

    default_cpu_request: str = "100m"
    default_cpu_limit: str = "500m"
    default_memory_request: str = "128Mi"
    default_memory_limit: str = "512Mi"
    max_cpu: str = "16"
    max_memory: str = "64Gi"
    min_claim_storage: str = "1Gi"
    max_claim_storage: str = "200Gi"

    _quantities = field_validator(
        "default_cpu_request",
        "default_cpu_limit",
        "default_memory_request",
        "default_memory_limit",
        "max_cpu",
        "max_memory",
        "min_claim_storage",
        "max_claim_storage",
    )(quantity)

    @model_validator(mode="after")
    def _ordered(self) -> LimitRangeSettings:
        cpu = [parse_quantity(v) for v in (self.default_cpu_request, self.default_cpu_limit, self.max_cpu)]
        memory = [parse_quantity(v) for v in (self.default_memory_request, self.default_memory_limit, self.max_memory)]
        if cpu != sorted(cpu):
            raise ValueError("need default_cpu_request <= default_cpu_limit <= max_cpu")
        if memory != sorted(memory):
            raise ValueError("need default_memory_request <= default_memory_limit <= max_memory")
        if parse_quantity(self.min_claim_storage) > parse_quantity(self.max_claim_storage):
            raise ValueError("min_claim_storage exceeds max_claim_storage")
        return self


class PersonaGroups(Spec):
    """Identity-provider groups bound to each persona's Role (default: ``{team}-<persona>s``)."""

    data_scientists: list[str] = Field(default_factory=list, max_length=20)
    ml_engineers: list[str] = Field(default_factory=list, max_length=20)
    viewers: list[str] = Field(default_factory=list, max_length=20)
    devops: list[str] = Field(default_factory=list, max_length=20, description="Operate endpoints; no data read.")
    analysts: list[str] = Field(default_factory=list, max_length=20, description="Read dashboards and quota use.")

    @field_validator("data_scientists", "ml_engineers", "viewers", "devops", "analysts")
    @classmethod
    def _group_names(cls, values: list[str]) -> list[str]:
        for value in values:
            if not re.match(GROUP_NAME, value) or len(value) > 256:
                raise ValueError(f"{value!r} is not a group name")
        return sorted(set(values))


class TenancyArgs(Spec):
    """Settings of a team namespace; every default is the locked-down choice."""

    team: str = Field(min_length=1, max_length=30, pattern=DNS_LABEL, description="Team id (DNS label).")
    namespace: str | None = Field(
        None, max_length=63, pattern=DNS_LABEL, description="Namespace name; default {project}-{env}-{team}."
    )
    quota: QuotaSettings = Field(default_factory=QuotaSettings)
    limits: LimitRangeSettings = Field(default_factory=LimitRangeSettings)
    groups: PersonaGroups | None = Field(None, description="Persona groups; default {team}-data-scientists etc.")
    pod_security: Literal["restricted", "baseline"] = Field(
        "restricted", description="Pod Security Admission level enforced on the namespace."
    )
    service_accounts: list[str] = Field(
        default_factory=list, max_length=50, description="Extra workload ServiceAccounts (e.g. notebooks)."
    )
    holds_state: bool = Field(
        False,
        description="The namespace will hold PersistentVolumeClaims: in protected environments it is protected "
        "and retained, so deleting it cannot delete the volumes inside.",
    )
    certificate_authority: bool = Field(
        False,
        description="Create the namespace's cert-manager CA (self-signed root -> CA Issuer) for in-cluster TLS; "
        "pass tls_issuer to FeatureStore and ModelRegistry (tls.issuer). Needs cert-manager in the cluster.",
    )

    @field_validator("service_accounts")
    @classmethod
    def _dns_names(cls, values: list[str]) -> list[str]:
        for value in values:
            if not re.match(DNS_LABEL, value) or len(value) > 40:
                raise ValueError(f"{value!r} is not a DNS label of at most 40 characters")
        return sorted(set(values))


class Tenancy(PlatformComponent[TenancyArgs]):
    """A namespace per team and environment with quota, limits, default-deny network and persona RBAC."""

    TYPE_TOKEN = "mlops-infra:k8s:Tenancy"
    ARGS = TenancyArgs

    def __init__(
        self, name: str, args: TenancyArgs | dict[str, Any] | None = None, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(name, args, opts)
        a = self.args
        self.physical_namespace: str = a.namespace or self.platform.name(a.team, naming.K8S_LABEL_NAME)
        self.part_of: str = self.platform.settings.project
        self.labels: dict[str, str] = {PART_OF: self.part_of, MANAGED_BY: MANAGER, "mlops-infra/team": a.team}
        psa = {f"pod-security.kubernetes.io/{mode}": a.pod_security for mode in ("enforce", "audit", "warn")} | {
            "pod-security.kubernetes.io/enforce-version": "latest"
        }

        namespace_name = self.child_name("namespace")
        settings = self.platform.settings
        keep = a.holds_state and settings.is_protected and namespace_name not in settings.protection_exemptions
        self.namespace = k8s.core.v1.Namespace(
            namespace_name,
            metadata=metadata(self.physical_namespace, None, {**self.labels, **psa}),
            opts=self.child_opts(protect=True, retain_on_delete=True) if keep else self.child_opts(),
        )
        self.namespace_name: pulumi.Output[str] = name_of(self.namespace)
        ns = self.namespace_name
        self.quota = k8s.core.v1.ResourceQuota(
            self.child_name("quota"),
            metadata=metadata(f"{self.physical_namespace}-quota", ns, self.labels),
            spec=k8s_json({"hard": a.quota.hard()}),
            opts=self.child_opts(),
        )
        self.limit_range = k8s.core.v1.LimitRange(
            self.child_name("limits"),
            metadata=metadata(f"{self.physical_namespace}-limits", ns, self.labels),
            spec=k8s_json({"limits": self._limit_items()}),
            opts=self.child_opts(),
        )
        self.default_deny = network.policy(
            self, "default-deny", "default-deny-all", ns, self.labels, pods={}, ingress=[], egress=[]
        )
        self.dns_egress = network.policy(
            self,
            "allow-dns",
            "allow-dns-egress",
            ns,
            self.labels,
            pods={},
            egress=[
                {
                    "to": [
                        {
                            "namespaceSelector": {"matchLabels": {network.NAMESPACE_NAME_LABEL: "kube-system"}},
                            "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
                        }
                    ],
                    "ports": network.ports(53, protocol="UDP") + network.ports(53),
                }
            ],
        )
        self.groups: PersonaGroups = a.groups or PersonaGroups(
            data_scientists=[f"{a.team}-data-scientists"],
            ml_engineers=[f"{a.team}-ml-engineers"],
            viewers=[f"{a.team}-viewers"],
        )
        members = {
            "data-scientist": self.groups.data_scientists,
            "ml-engineer": self.groups.ml_engineers,
            "viewer": self.groups.viewers,
            "devops": self.groups.devops,
            "analyst": self.groups.analysts,
        }
        personas = dict(PERSONAS) | {persona: rules for persona, rules in OPTIONAL_PERSONAS.items() if members[persona]}
        self.roles: dict[str, k8s.rbac.v1.Role] = {}
        self.role_bindings: dict[str, k8s.rbac.v1.RoleBinding] = {}
        for persona, rules in personas.items():
            role_name = f"{a.team}-{persona}"
            self.roles[persona] = k8s.rbac.v1.Role(
                self.child_name(f"role-{persona}"),
                metadata=metadata(role_name, ns, self.labels),
                rules=k8s_json([rule.wire() for rule in rules]),
                opts=self.child_opts(),
            )
            if members[persona]:
                self.role_bindings[persona] = k8s.rbac.v1.RoleBinding(
                    self.child_name(f"binding-{persona}"),
                    metadata=metadata(role_name, ns, self.labels),
                    role_ref=k8s_json({"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": role_name}),
                    subjects=k8s_json(
                        [
                            {"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": group}
                            for group in members[persona]
                        ]
                    ),
                    opts=self.child_opts(),
                )
        self.tls_issuer: IssuerRef | None = (
            namespace_ca(self, f"{self.physical_namespace}-ca"[:63].rstrip("-"), ns, self.labels)
            if a.certificate_authority
            else None
        )
        self.service_accounts = {
            sa: service_account(self, f"sa-{sa}", sa, ns, {**self.labels, "app.kubernetes.io/name": sa})
            for sa in a.service_accounts
        }
        self.register_outputs(
            {
                "namespace": self.namespace_name,
                "roles": {persona: name_of(role) for persona, role in self.roles.items()},
                "tls_issuer": self.tls_issuer.name if self.tls_issuer else None,
            }
        )

    def _limit_items(self) -> list[dict[str, Any]]:
        limits = self.args.limits
        return [
            {
                "type": "Container",
                "defaultRequest": {"cpu": limits.default_cpu_request, "memory": limits.default_memory_request},
                "default": {"cpu": limits.default_cpu_limit, "memory": limits.default_memory_limit},
                "max": {"cpu": limits.max_cpu, "memory": limits.max_memory},
            },
            {
                "type": "PersistentVolumeClaim",
                "min": {"storage": limits.min_claim_storage},
                "max": {"storage": limits.max_claim_storage},
            },
        ]
