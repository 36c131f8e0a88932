"""The text form of a stack's schema conformance: errors by resource and property path, then what was skipped.

Plain ``Text`` throughout: rich never reads a URN, path or message as markup.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Group, RenderableType
from rich.text import Text

if TYPE_CHECKING:
    from mlops_infra.engine.conformance import SchemaReport


def error_lines(report: SchemaReport) -> list[Text]:
    """One line per schema error: ``URN property.path: reason``."""
    return [Text(f"  {error.line()}", style="red") for error in report.errors]


def render_schema_report(report: SchemaReport) -> RenderableType:
    """The errors when there are some, the summary line, and one line per skipped type with its reason."""
    style = "bold red" if report.errors else "green"
    parts: list[RenderableType] = []
    if report.errors:
        parts.append(Text("Schema errors (a preview's provider check refuses these inputs):", style="bold"))
        parts.extend(error_lines(report))
    parts.append(Text(report.summary(), style=style))
    parts.extend(
        Text(f"  not validated: {skip.resource_type} ({skip.resources}): {skip.reason}", style="dim")
        for skip in report.skipped
    )
    return Group(*parts)
