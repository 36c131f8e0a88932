"""The platform's Cloud KMS key, and the grants that let Google service agents use it (CMEK)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import pulumi
import pulumi_gcp as gcp
from pydantic import Field

from mlops_infra.component import PlatformComponent
from mlops_infra.config.base import ComponentArgs
from mlops_infra.conventions import naming
from mlops_infra.conventions.per_stack import per_stack_table
from mlops_infra.gcp.iam import (
    KMS_ENCRYPTER_DECRYPTER,
    Principal,
    ServiceAgent,
    pubsub_agent_member,
    service_agent_member,
    workflows_agent_member,
)
from mlops_infra.gcp.project import configured_region, project_number
from mlops_infra.gcp.settings import Region

SECONDS_PER_DAY = 86_400


class PlatformKeyArgs(ComponentArgs):
    """Settings of the platform key."""

    region: Region
    rotation_period_days: int = Field(90, ge=1, le=90, description="Automatic rotation period in days (1-90).")
    destroy_scheduled_days: int = Field(
        30, ge=1, le=120, description="Days a destroyed key version stays recoverable (1-120)."
    )
    protection_level: Literal["SOFTWARE", "HSM"] = "SOFTWARE"
    service_agents: list[ServiceAgent] = Field(
        default_factory=lambda: list(ServiceAgent),
        min_length=1,
        description="Google service agents granted encrypt/decrypt so Vertex AI, BigQuery, GCS and "
        "Artifact Registry can write CMEK-protected data.",
    )
    extra_encrypter_members: list[Principal] = Field(
        default_factory=list, description="Other principals (``serviceAccount:...``) that may use the key."
    )


class PlatformKey(PlatformComponent[PlatformKeyArgs]):
    """A key ring and a rotating symmetric crypto key, with encrypter/decrypter grants per service agent."""

    TYPE_TOKEN = "mlops-infra:gcp:PlatformKey"
    ARGS = PlatformKeyArgs

    def __init__(
        self,
        name: str,
        args: PlatformKeyArgs | dict[str, Any] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(name, args, opts)
        physical = self.platform.name(name, naming.GCP_RESOURCE)
        self.key_ring = gcp.kms.KeyRing(
            self.child_name("ring"), name=physical, location=self.args.region, opts=self.child_opts()
        )
        self.crypto_key = gcp.kms.CryptoKey(
            self.child_name("key"),
            name=physical,
            key_ring=self.key_ring.id,
            purpose="ENCRYPT_DECRYPT",
            rotation_period=f"{self.args.rotation_period_days * SECONDS_PER_DAY}s",
            destroy_scheduled_duration=f"{self.args.destroy_scheduled_days * SECONDS_PER_DAY}s",
            version_template=gcp.kms.CryptoKeyVersionTemplateArgs(
                algorithm="GOOGLE_SYMMETRIC_ENCRYPTION", protection_level=self.args.protection_level
            ),
            opts=self.child_opts(),
        )
        number = project_number(pulumi.InvokeOutputOptions(parent=self))
        self.bindings: dict[ServiceAgent, gcp.kms.CryptoKeyIAMMember] = {
            agent: gcp.kms.CryptoKeyIAMMember(
                self.child_name(f"{agent.value}-agent"),
                crypto_key_id=self.crypto_key.id,
                role=KMS_ENCRYPTER_DECRYPTER,
                member=service_agent_member(agent, number),
                opts=self.child_opts(),
            )
            for agent in self.args.service_agents
        }
        for index, member in enumerate(self.args.extra_encrypter_members):
            gcp.kms.CryptoKeyIAMMember(
                self.child_name(f"extra-{index}"),
                crypto_key_id=self.crypto_key.id,
                role=KMS_ENCRYPTER_DECRYPTER,
                member=member,
                opts=self.child_opts(),
            )
        self.region = self.args.region
        # ``projects/P/locations/R/keyRings/K/cryptoKeys/C``: the form every CMEK field takes.
        self.key_name: pulumi.Output[str] = self.crypto_key.id
        self.register_outputs({"keyName": self.key_name, "keyRing": self.key_ring.id})

    def grants_for(self, *agents: ServiceAgent) -> list[pulumi.Resource]:
        """The IAM bindings a resource must wait for before the agent can use the key."""
        return [self.bindings[agent] for agent in agents if agent in self.bindings]


def _shared_slot(
    region: str, requester: pulumi.Resource | None
) -> tuple[dict[tuple[str, str | None], PlatformKey], tuple[str, str | None], pulumi.ProviderResource | None]:
    """The stack's shared-key table, the requester's slot in it, and the requester's GCP provider."""
    provider = requester.get_provider("gcp:kms/cryptoKey:CryptoKey") if requester is not None else None
    provider_name: str | None = provider._name if provider is not None else None
    keys: dict[tuple[str, str | None], PlatformKey] = per_stack_table("gcp_shared_keys")
    return keys, (region, provider_name), provider


def registered_shared_key(region: str, requester: pulumi.Resource | None = None) -> PlatformKey | None:
    """The shared key of ``region`` for the requester's provider, when one exists already."""
    keys, slot, _ = _shared_slot(region, requester)
    return keys.get(slot)


def adopt_shared_key(key: PlatformKey, requester: pulumi.Resource | None = None) -> None:
    """Make ``key`` the shared key of its region for the requester's provider (a platform brings its own key).

    Components created afterwards with no explicit key encrypt with it and wait for its grants.
    """
    keys, slot, _ = _shared_slot(key.region, requester)
    if slot in keys and keys[slot] is not key:
        raise ValueError(f"the stack already has a shared platform key for {key.region}")
    keys[slot] = key


def shared_platform_key(region: str, requester: pulumi.Resource | None = None) -> PlatformKey:
    """The stack's shared key for ``region``, created on first use in the requester's GCP provider.

    The default provider's key in the ``gcp:region`` region is named ``platform``; another region
    adds ``-<region>`` and an explicit provider adds ``-<provider name>``, and that key is created
    with that provider, so a component deployed to another project never encrypts with a key it
    cannot reach.
    """
    keys, slot, provider = _shared_slot(region, requester)
    provider_name = slot[1]
    key = keys.get(slot)
    if key is None:
        name = "platform"
        if provider_name is not None:
            name += f"-{provider_name}"
        if region != configured_region():
            name += f"-{region}"
        opts = pulumi.ResourceOptions(provider=provider) if provider is not None else None
        key = PlatformKey(name, {"region": region}, opts=opts)
        keys[slot] = key
    return key


@dataclass(frozen=True)
class KeyRef:
    """The key a resource encrypts with, and what it must wait for (the service agent's grant)."""

    name: pulumi.Input[str]
    depends_on: tuple[pulumi.Resource, ...] = ()


def key_for(
    explicit: pulumi.Input[str] | None, region: str, *agents: ServiceAgent, requester: pulumi.Resource | None = None
) -> KeyRef:
    """The given key (its grants are the caller's job), else the shared key and its grants for ``agents``."""
    if explicit is not None:
        return KeyRef(explicit)
    key = shared_platform_key(region, requester)
    return KeyRef(key.key_name, tuple(key.grants_for(*agents)))


def key_name_or_shared(
    explicit: pulumi.Input[str] | None, region: str, requester: pulumi.Resource | None = None
) -> pulumi.Input[str]:
    """The key a component encrypts with: the one it was given, else the shared key of its region and provider."""
    return key_for(explicit, region, requester=requester).name


def on_demand_agent_grant(
    key: KeyRef, owner: PlatformComponent[Any], *, agent: str, member: pulumi.Input[str]
) -> gcp.kms.CryptoKeyIAMMember:
    """The one encrypt/decrypt grant of service agent ``agent`` (``workflows``, ``pubsub``) on ``key``, per stack.

    ``CryptoKeyIAMMember`` resources are non-authoritative: two of them for the same key, role and
    member are one IAM binding, and deleting either removes it for both. So the first component that
    needs ``agent`` on ``key`` creates the grant (its child ``<owner>-key-<agent>-agent``, the URN it
    always had) and later ones wait for that same resource. Keys are matched by name (a string) or by
    the same key Output (the shared platform key).

    The grant is retained on delete: when the owner changes (a feature that needed it first is turned
    off, so another component creates it), deleting the old resource must not drop the binding the new
    one shares; and the key it is on outlives any single workflow or topic.
    """
    # Per stack: (key identity, agent) -> the one grant of that on-demand agent on that key (and the key name).
    grants: dict[Any, tuple[Any, gcp.kms.CryptoKeyIAMMember]] = per_stack_table("gcp_agent_grants")
    identity: Any = (key.name if isinstance(key.name, str) else id(key.name), agent)
    found = grants.get(identity)
    if found is not None:
        return found[1]
    grant = gcp.kms.CryptoKeyIAMMember(
        owner.child_name(f"key-{agent}-agent"),
        crypto_key_id=key.name,
        role=KMS_ENCRYPTER_DECRYPTER,
        member=member,
        opts=owner.child_opts(retain_on_delete=True),
    )
    grants[identity] = (key.name, grant)  # the key name kept alive so its id() stays unique
    return grant


def workflows_agent_grant(key: KeyRef, owner: PlatformComponent[Any]) -> gcp.kms.CryptoKeyIAMMember:
    """The Cloud Workflows agent's grant on ``key`` (a CMEK workflow), shared by every workflow of the stack."""
    number = project_number(pulumi.InvokeOutputOptions(parent=owner))
    return on_demand_agent_grant(key, owner, agent="workflows", member=workflows_agent_member(number))


def pubsub_agent_grant(key: KeyRef, owner: PlatformComponent[Any]) -> gcp.kms.CryptoKeyIAMMember:
    """The Pub/Sub agent's grant on ``key`` (a CMEK topic), shared by every topic of the stack."""
    number = project_number(pulumi.InvokeOutputOptions(parent=owner))
    return on_demand_agent_grant(key, owner, agent="pubsub", member=pubsub_agent_member(number))
