"""Schema conformance of a captured stack: what a real preview's provider check would refuse."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from mlops_infra.engine.captured import CapturedResource, CapturedStack
from mlops_infra.engine.conformance.compile import object_schema
from mlops_infra.engine.conformance.index import lookup
from mlops_infra.engine.conformance.walk import check_object


@dataclass(frozen=True)
class SchemaError:
    """One input the provider SDK's types refuse: the resource, the property path (wire names) and why."""

    urn: str
    resource_type: str
    path: str
    message: str

    def to_json(self) -> dict[str, Any]:
        return {"urn": self.urn, "resource_type": self.resource_type, "path": self.path, "message": self.message}

    def line(self) -> str:
        where = f" {self.path}" if self.path else ""
        return f"{self.urn}{where}: {self.message}"


@dataclass(frozen=True)
class SchemaSkip:
    """Custom resources of one type that are not validated here, and why."""

    resource_type: str
    reason: str
    resources: int

    def to_json(self) -> dict[str, Any]:
        return {"resource_type": self.resource_type, "reason": self.reason, "resources": self.resources}


@dataclass
class SchemaReport:
    """Every schema error of a stack, how many custom resources were checked and which were skipped."""

    errors: list[SchemaError] = field(default_factory=list)
    checked: int = 0
    skipped: list[SchemaSkip] = field(default_factory=list)

    def summary(self) -> str:
        skipped = sum(s.resources for s in self.skipped)
        return (
            f"schema conformance: {len(self.errors)} error(s) in {self.checked} custom resources checked "
            f"against the installed provider SDKs; {skipped} skipped"
        )


def check_resource(resource: CapturedResource) -> tuple[list[SchemaError], str | None]:
    """The schema errors of one custom resource, or the reason it is not validated."""
    found = lookup(resource.type)
    if found.skip_reason is not None:
        return [], found.skip_reason
    if found.unknown is not None:
        return [SchemaError(resource.urn, resource.type, "", found.unknown)], None
    assert found.args_class is not None
    problems = check_object(resource.inputs, object_schema(found.args_class), "")
    return [SchemaError(resource.urn, resource.type, path, message) for path, message in problems], None


def check_stack(stack: CapturedStack) -> SchemaReport:
    """Validate every custom resource's inputs against the pulumi-aws, pulumi-gcp and pulumi-kubernetes types."""
    report = SchemaReport()
    skipped: Counter[tuple[str, str]] = Counter()
    for resource in stack.custom_resources():
        errors, skip_reason = check_resource(resource)
        if skip_reason is not None:
            skipped[(resource.type, skip_reason)] += 1
            continue
        report.checked += 1
        report.errors.extend(errors)
    report.errors.sort(key=lambda e: (e.urn, e.path, e.message))
    report.skipped = [SchemaSkip(t, reason, n) for (t, reason), n in sorted(skipped.items())]
    return report
