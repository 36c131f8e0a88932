"""Stack-wide platform settings: who owns the stack, which environment it is, how it is tagged."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, field_validator

REQUIRED_TAG_KEYS: tuple[str, ...] = ("project", "environment", "owner", "cost-center")


class Environment(StrEnum):
    """The deployment environment of a stack."""

    DEV = "dev"
    STAGING = "staging"
    PROD = "prod"


class PlatformSettings(BaseModel):
    """Validated stack settings, read from stack config (``Pulumi.<stack>.yaml``).

    Config keys (project namespace): ``environment``, ``owner``, ``costCenter``, ``tags``,
    ``protectedEnvironments`` and ``protectionExemptions``.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, title="platform")

    project: str = Field(min_length=1, max_length=40, pattern=r"^[A-Za-z][A-Za-z0-9_.-]*$")
    environment: Environment
    owner: str = Field(min_length=1, max_length=128, description="Team or person accountable for the stack.")
    cost_center: str = Field(alias="costCenter", min_length=1, max_length=128)
    tags: dict[str, str] = Field(default_factory=dict, description="Extra tags/labels on every resource.")
    protected_environments: frozenset[Environment] = Field(
        alias="protectedEnvironments",
        default=frozenset({Environment.STAGING, Environment.PROD}),
        description="Environments whose stateful resources get protect and retainOnDelete.",
    )
    protection_exemptions: frozenset[str] = Field(
        alias="protectionExemptions",
        default=frozenset(),
        description="Logical names of stateful resources deliberately left unprotected (an explicit opt-out).",
    )

    @field_validator("tags")
    @classmethod
    def _no_override_of_required_keys(cls, tags: dict[str, str]) -> dict[str, str]:
        clashes = sorted(set(tags) & set(REQUIRED_TAG_KEYS))
        if clashes:
            raise ValueError(f"tags may not redefine the required keys {clashes}; set them through their own settings")
        return tags

    @property
    def is_protected(self) -> bool:
        """True when stateful resources must be protected (staging and prod by default)."""
        return self.environment in self.protected_environments

    def required_tags(self) -> dict[str, str]:
        """The four required tags plus the user's extra tags."""
        return {
            "project": self.project,
            "environment": self.environment.value,
            "owner": self.owner,
            "cost-center": self.cost_center,
            **self.tags,
        }
