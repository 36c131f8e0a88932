"""Check results for people (a rich table grouped by policy, with counts) and for scripts (JSON).

Messages and names go into the tables as plain ``Text`` (or escaped): never read as rich markup.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

from rich.console import Group, RenderableType
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from mlops_infra.policy.model import Enforcement, Violation

STYLES = {Enforcement.MANDATORY: "bold red", Enforcement.ADVISORY: "yellow", Enforcement.DISABLED: "dim"}


def violations_json(violations: Iterable[Violation]) -> list[dict[str, Any]]:
    """The documented ``violations`` section: policy_id, enforcement, urn, resource_type, message."""
    return [v.to_json() for v in violations]


def add_violations(document: dict[str, Any], violations: Iterable[Violation]) -> dict[str, Any]:
    """The plan document with its ``violations`` section added (``check --format json``)."""
    return {**document, "violations": violations_json(violations)}


def _label(violation: Violation) -> str:
    return "skipped" if violation.note else violation.enforcement.value


def summary_table(violations: list[Violation]) -> Table:
    """One row per policy: mandatory, advisory and skipped counts."""
    table = Table(title="Policy violations by policy")
    for column in ("policy", "mandatory", "advisory", "skipped"):
        table.add_column(column, justify="left" if column == "policy" else "right")
    counts = Counter((v.policy_id, _label(v)) for v in violations)
    for policy in sorted({v.policy_id for v in violations}):
        table.add_row(escape(policy), *(str(counts[(policy, label)]) for label in ("mandatory", "advisory", "skipped")))
    mandatory = sum(1 for v in violations if v.enforcement is Enforcement.MANDATORY and not v.note)
    table.caption = f"{len(violations)} findings, {mandatory} mandatory"
    return table


def policy_table(policy_id: str, violations: list[Violation]) -> Table:
    table = Table(title=escape(f"{policy_id} ({len(violations)})"), title_justify="left", show_lines=False, expand=True)
    table.add_column("level", no_wrap=True)
    table.add_column("resource", overflow="fold", ratio=1)
    table.add_column("message", overflow="fold", ratio=3)
    for violation in violations:
        level = Text(_label(violation), style="dim" if violation.note else STYLES[violation.enforcement])
        resource = Text(f"{violation.resource_type}\n{violation.urn.rsplit('::', 1)[-1]}")
        table.add_row(level, resource, Text(violation.message))
    return table


def render_text(violations: Iterable[Violation]) -> RenderableType:
    """A summary table with counts per policy, then one table per policy with every finding."""
    items = list(violations)
    if not items:
        return Text("No policy violations.", style="bold green")
    parts: list[RenderableType] = [summary_table(items)]
    for policy in sorted({v.policy_id for v in items}):
        parts.append(policy_table(policy, [v for v in items if v.policy_id == policy]))
    return Group(*parts)
