"""Where a resource lands: its provider's cloud, region, account or project, and cluster.

An explicit provider (``aws.Provider("eu", region="eu-west-1")`` passed as ``provider=``) decides
the region a resource is created in; without one, the stack's default provider reads
``aws:region`` / ``gcp:project`` / ``gcp:region`` config. The plan shows the placement of every
cloud resource, and the fake state builds ARNs and resource ids in that same region and project.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

PROVIDER_PREFIX = "pulumi:providers:"
_CLOUDS = {"aws": "aws", "gcp": "gcp", "kubernetes": "kubernetes"}


@dataclass(frozen=True)
class Placement:
    """One provider's settings as the plan shows them; ``None`` where the offline engine cannot know."""

    cloud: str
    provider: str  # the provider resource's name, or "default" (the stack's default provider)
    region: str | None = None
    account_or_project: str | None = None
    cluster: str | None = None  # Kubernetes: the kubeconfig context or cluster the provider targets

    def to_json(self) -> dict[str, Any]:
        """The plan JSON's ``provider`` object (architecture contract: cloud, region, account_or_project)."""
        document: dict[str, Any] = {
            "cloud": self.cloud,
            "region": self.region,
            "account_or_project": self.account_or_project,
            "name": self.provider,
        }
        if self.cloud == "kubernetes":
            document["cluster"] = self.cluster
        return document

    def describe(self) -> str:
        """Short text for the plan tree, for example ``aws eu-west-1`` or ``kubernetes prod-cluster``."""
        unset = "cluster unset" if self.cloud == "kubernetes" else "region unset"
        where = [self.region, self.account_or_project, self.cluster]
        text = " ".join([self.cloud, *(part for part in where if part)] if any(where) else [self.cloud, unset])
        return text if self.provider == "default" else f"{text} (provider {self.provider})"


def _decoded(value: Any) -> Any:
    """Provider inputs that are not strings may arrive JSON-encoded (as the engine passes them)."""
    if isinstance(value, str) and value[:1] in "[{":
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _aws_account(inputs: dict[str, Any]) -> str | None:
    allowed = _decoded(inputs.get("allowedAccountIds"))
    if isinstance(allowed, list) and allowed:
        return str(allowed[0])
    roles = _decoded(inputs.get("assumeRoles") or inputs.get("assumeRole"))
    for role in roles if isinstance(roles, list) else [roles]:
        arn = role.get("roleArn") if isinstance(role, dict) else None
        if isinstance(arn, str) and arn.count(":") >= 5:
            return arn.split(":")[4] or None
    return None


def _gcp_region(inputs: dict[str, Any]) -> str | None:
    region = _text(inputs.get("region"))
    zone = _text(inputs.get("zone"))
    return region or (zone.rsplit("-", 1)[0] if zone else None)


def placement_of(
    package: str, provider_name: str | None, provider_inputs: dict[str, Any] | None, config: dict[str, str]
) -> Placement | None:
    """The placement of a resource of ``package``; ``provider_inputs`` None means the default provider."""
    cloud = _CLOUDS.get(package)
    if cloud is None:
        return None
    explicit = provider_inputs is not None
    inputs = provider_inputs or {}
    name = provider_name if explicit and provider_name else "default"
    if cloud == "aws":
        region = _text(inputs.get("region")) or config.get("aws:region")
        return Placement(cloud, name, region=region, account_or_project=_aws_account(inputs))
    if cloud == "gcp":
        project = _text(inputs.get("project")) or config.get("gcp:project")
        return Placement(
            cloud, name, region=_gcp_region(inputs) or config.get("gcp:region"), account_or_project=project
        )
    cluster = _text(inputs.get("context")) or _text(inputs.get("cluster")) or config.get("kubernetes:context")
    return Placement(cloud, name, cluster=cluster)


def provider_name(reference: str) -> str:
    """``urn:pulumi:s::p::pulumi:providers:aws::eu::<id>`` -> ``eu``."""
    urn = reference.rsplit("::", 1)[0]
    return urn.rsplit("::", 1)[-1]
