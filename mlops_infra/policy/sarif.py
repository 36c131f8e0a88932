"""SARIF 2.1.0 for GitHub code scanning: one rule per policy id, one result per violation.

Results carry the level from the enforcement (mandatory -> error, advisory -> warning, skipped
check -> note), the resource's URN as a logical location, and a physical location in the user's
program: the line that registered the resource when the engine recorded one inside the program
directory (or the nearest ancestor's, for children of the user's own components), else the
program's entry file (GitHub code scanning needs a file for every result).
"""

from __future__ import annotations

import hashlib
from importlib import metadata
from pathlib import Path
from typing import Any

from mlops_infra.engine.captured import CapturedResource, CapturedStack
from mlops_infra.policy.config import PolicyConfig
from mlops_infra.policy.enforcement import ALWAYS_MANDATORY
from mlops_infra.policy.model import Enforcement, Violation
from mlops_infra.policy.rules import REGISTRY
from mlops_infra.policy.spec import PolicySpec

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_VERSION = "2.1.0"
TOOL_NAME = "mlops-infra"
DOCS_PAGE = "docs/policies.md"
PROGRAM_ROOT = "PROGRAMROOT"
SOURCE_ROOT = "SRCROOT"
LEVELS = {Enforcement.MANDATORY: "error", Enforcement.ADVISORY: "warning", Enforcement.DISABLED: "none"}


def _tool_version() -> str:
    try:
        return metadata.version("mlops-infra")
    except metadata.PackageNotFoundError:
        return "0.0.0"


def _rule(spec: PolicySpec, config: PolicyConfig, docs_uri: str) -> dict[str, Any]:
    override = config.enforcement.get(spec.id)
    default = override or (Enforcement.MANDATORY if spec.id in ALWAYS_MANDATORY else Enforcement.ADVISORY)
    checkov = ", ".join(spec.checkov_ids) or "none (beyond checkov)"
    return {
        "id": spec.id,
        "name": "".join(part.capitalize() for part in spec.id.split("-")),
        "shortDescription": {"text": spec.title},
        "fullDescription": {"text": spec.description},
        "help": {
            "text": f"{spec.remediation} checkov equivalents: {checkov}.",
            "markdown": (
                f"**Fix:** {spec.remediation}\n\ncheckov equivalents: {checkov}. See [{spec.id}]({docs_uri}#{spec.id})."
            ),
        },
        "helpUri": f"{docs_uri}#{spec.id}",
        "defaultConfiguration": {"level": LEVELS[default]},
        "properties": {"tags": ["security", "mlops", *spec.checkov_ids]},
    }


def _inside(path: str, directory: Path) -> Path | None:
    try:
        resolved = Path(path).resolve()
    except (OSError, ValueError):
        return None
    return resolved if resolved.is_relative_to(directory) else None


def _declaration(stack: CapturedStack, urn: str, directory: Path) -> tuple[Path, int] | None:
    """Where the user's program declared the resource, or the nearest ancestor component it declared."""
    by_urn = stack.by_urn()
    current: CapturedResource | None = by_urn.get(urn)
    while current is not None:
        if current.source is not None:
            inside = _inside(current.source.path, directory)
            if inside is not None and current.source.line > 0:
                return inside, current.source.line
        current = by_urn.get(current.parent) if current.parent else None
    return None


def _program_dir(stack: CapturedStack) -> Path:
    path = Path(stack.program_path or ".").resolve()
    return path.parent if path.is_file() else path


def _location(stack: CapturedStack, violation: Violation, directory: Path, base: Path, base_id: str) -> dict[str, Any]:
    name = violation.urn.rsplit("::", 1)[-1]
    location: dict[str, Any] = {
        "logicalLocations": [{"name": name, "fullyQualifiedName": violation.urn, "kind": "resource"}],
    }
    declared = _declaration(stack, violation.urn, directory)
    if declared is None and stack.program_path and Path(stack.program_path).is_file():
        declared = (Path(stack.program_path).resolve(), 1)  # stack-level findings point at the program
    if declared is not None:
        file, line = declared
        location["physicalLocation"] = {
            "artifactLocation": {"uri": file.relative_to(base).as_posix(), "uriBaseId": base_id},
            "region": {"startLine": line},
        }
    return location


def to_sarif(
    stack: CapturedStack,
    violations: list[Violation],
    config: PolicyConfig | None = None,
    *,
    docs_uri: str = DOCS_PAGE,
    source_root: Path | None = None,
) -> dict[str, Any]:
    """The SARIF log of a check run.

    Artifact URIs are relative to the program directory (base id ``PROGRAMROOT``). GitHub resolves
    relative URIs from the repository root and ignores base ids, so a caller running from the
    repository root passes ``source_root`` (the root): URIs are then relative to it (base ``SRCROOT``).
    """
    config = config or PolicyConfig()
    directory = _program_dir(stack)
    base, base_id = directory, PROGRAM_ROOT
    if source_root is not None and directory.is_relative_to(source_root.resolve()):
        base, base_id = source_root.resolve(), SOURCE_ROOT
    specs = list(REGISTRY.values())
    index = {spec.id: i for i, spec in enumerate(specs)}
    results = []
    for violation in violations:
        fingerprint = hashlib.sha256(
            f"{violation.policy_id}\x1f{violation.urn}\x1f{violation.message}".encode()
        ).hexdigest()
        result: dict[str, Any] = {
            "ruleId": violation.policy_id,
            "level": "note" if violation.note else LEVELS[violation.enforcement],
            "message": {"text": violation.message},
            "locations": [_location(stack, violation, directory, base, base_id)],
            "partialFingerprints": {"mlopsInfraViolation/v1": fingerprint[:32]},
            "properties": {"enforcement": violation.enforcement.value, "resourceType": violation.resource_type},
        }
        if violation.policy_id in index:
            result["ruleIndex"] = index[violation.policy_id]
        results.append(result)
    return {
        "$schema": SARIF_SCHEMA,
        "version": SARIF_VERSION,
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": TOOL_NAME,
                        "version": _tool_version(),
                        "informationUri": docs_uri,
                        "rules": [_rule(spec, config, docs_uri) for spec in specs],
                    }
                },
                "originalUriBaseIds": {base_id: {"uri": base.as_uri() + "/"}},
                "automationDetails": {"id": f"mlops-infra/{stack.project}/{stack.stack}/"},
                "results": results,
            }
        ],
    }
