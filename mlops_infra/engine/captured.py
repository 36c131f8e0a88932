"""What the offline engine records about one program run."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mlops_infra.engine.providers import Placement


@dataclass(frozen=True)
class SourcePosition:
    """Where in Python source a resource was declared (1-based line)."""

    path: str
    line: int


@dataclass
class CapturedResource:
    """One registered resource, as the Pulumi engine would see it.

    ``inputs`` use Pulumi's wire names (camelCase), exactly as a policy pack sees them;
    secret values are replaced by ``"[secret]"``.
    """

    urn: str
    type: str
    name: str
    parent: str | None
    custom: bool
    inputs: dict[str, Any]
    protect: bool = False
    retain_on_delete: bool = False
    dependencies: list[str] = field(default_factory=list)
    provider: str | None = None
    aliases: list[str] = field(default_factory=list)
    source: SourcePosition | None = None
    placement: Placement | None = None  # the provider's cloud/region/account or project/cluster (custom only)

    @property
    def package(self) -> str:
        """The provider package of the type token: ``aws``, ``gcp``, ``kubernetes``, ``mlops-infra``."""
        return self.type.split(":")[0]

    def to_json(self) -> dict[str, Any]:
        """The documented plan-JSON shape of a resource."""
        return {
            "urn": self.urn,
            "type": self.type,
            "name": self.name,
            "parent": self.parent,
            "custom": self.custom,
            "inputs": self.inputs,
            "protect": self.protect,
            **({"provider": self.placement.to_json()} if self.placement is not None else {}),
        }


@dataclass
class CapturedStack:
    """Every resource and stack output of one offline run of a Pulumi program."""

    project: str
    stack: str
    config: dict[str, Any]
    resources: list[CapturedResource]
    outputs: dict[str, Any]
    program_path: str = ""
    diagnostics: list[str] = field(default_factory=list)  # warnings and errors the program logged

    def by_type(self, type_token: str) -> list[CapturedResource]:
        return [r for r in self.resources if r.type == type_token]

    def by_urn(self) -> dict[str, CapturedResource]:
        return {r.urn: r for r in self.resources}

    def children_of(self, urn: str | None) -> list[CapturedResource]:
        """Direct children of ``urn``; ``None`` gives the stack's top-level resources."""
        return [r for r in self.resources if r.parent == urn]

    def custom_resources(self) -> list[CapturedResource]:
        return [r for r in self.resources if r.custom]

    def environment(self) -> str | None:
        """The stack's ``environment``: config in any namespace, else the graph's component inputs.

        Component resources carry ``environment`` as an input (the platform's conventions put it
        there, config or program defaults alike); one value shared by all of them is the stack's.
        """
        for key, value in sorted(self.config.items()):
            if key.split(":")[-1] == "environment" and isinstance(value, str) and value:
                return value
        return self.component_environment()

    def component_environment(self) -> str | None:
        """The one ``environment`` input the stack's component resources agree on (None if none or several)."""
        found = {
            r.inputs.get("environment")
            for r in self.resources
            if not r.custom and not r.type.startswith("pulumi:") and isinstance(r.inputs.get("environment"), str)
        }
        return found.pop() if len(found) == 1 else None

    def to_json(self) -> dict[str, Any]:
        return {
            "project": self.project,
            "stack": self.stack,
            "resources": [r.to_json() for r in self.resources],
            "outputs": self.outputs,
        }
