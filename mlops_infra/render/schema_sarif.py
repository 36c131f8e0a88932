"""Schema errors in the SARIF log of ``check``: one ``schema-conformance`` rule, one error-level result each.

The results go through the policy SARIF writer (same locations: the line that declared the
resource), then gain their rule, so GitHub code scanning shows them beside policy violations.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mlops_infra.engine.captured import CapturedStack
from mlops_infra.engine.conformance import SchemaReport
from mlops_infra.policy.config import PolicyConfig
from mlops_infra.policy.model import Enforcement, Violation
from mlops_infra.policy.sarif import to_sarif

RULE_ID = "schema-conformance"
DOCS_PAGE = "docs/schema-conformance.md"


def as_violations(report: SchemaReport) -> list[Violation]:
    """Each schema error as a mandatory finding; the message leads with the property path."""
    return [
        Violation(
            policy_id=RULE_ID,
            enforcement=Enforcement.MANDATORY,
            urn=error.urn,
            resource_type=error.resource_type,
            message=f"{error.path}: {error.message}" if error.path else error.message,
        )
        for error in report.errors
    ]


def _rule() -> dict[str, Any]:
    return {
        "id": RULE_ID,
        "name": "SchemaConformance",
        "shortDescription": {"text": "Inputs conform to the provider SDK's input types"},
        "fullDescription": {
            "text": "Property names (wire names), nesting, types, enums and required properties of every "
            "custom resource, checked against the installed pulumi-aws, pulumi-gcp and pulumi-kubernetes."
        },
        "help": {"text": "Fix the property the message names: a preview's provider check refuses it."},
        "helpUri": DOCS_PAGE,
        "defaultConfiguration": {"level": "error"},
        "properties": {"tags": ["correctness", "pulumi"]},
    }


def check_sarif(
    stack: CapturedStack,
    violations: list[Violation],
    config: PolicyConfig,
    schema: SchemaReport,
    source_root: Path,
) -> dict[str, Any]:
    """The policy SARIF log with the schema errors added as results of the ``schema-conformance`` rule."""
    log = to_sarif(stack, [*violations, *as_violations(schema)], config, source_root=source_root)
    driver = log["runs"][0]["tool"]["driver"]
    driver["rules"].append(_rule())
    rule_index = len(driver["rules"]) - 1
    for result in log["runs"][0]["results"]:
        if result["ruleId"] == RULE_ID:
            result["ruleIndex"] = rule_index
    return log
