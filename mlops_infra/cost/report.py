"""Text rendering of an estimate: a table grouped by top-level component, the unpriced list, the budget line."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from mlops_infra.cost.budgets import BUDGET_CLOUD, CLOUD_PREFIXES, budget_breaches, cloud_of
from mlops_infra.cost.estimate import CostItem, Estimate
from mlops_infra.cost.model import effective_budget
from mlops_infra.engine.captured import CapturedStack


def top_component(stack: CapturedStack, urn: str) -> str:
    """The name of the top-most component above ``urn`` (below the stack), or ``(stack)``."""
    by_urn = stack.by_urn()
    chain = []
    current = by_urn.get(urn)
    while current is not None and current.parent:
        parent = by_urn.get(current.parent)
        if parent is None or parent.type == "pulumi:pulumi:Stack":
            break
        chain.append(parent)
        current = parent
    # A platform wraps every component: group by the level under it when there is one.
    if len(chain) >= 2 and chain[-1].type == "mlops-infra:index:MlPlatform":
        return f"{chain[-2].type.split(':')[-1]} {chain[-2].name}"
    if chain:
        return f"{chain[-1].type.split(':')[-1]} {chain[-1].name}"
    return "(stack)"


def budget_lines(estimate: Estimate, limit: float | None) -> list[str]:
    """One line per budget comparison: ``--budget`` against the stack, else each cloud against its budgets."""
    breaches = {b.cloud: b for b in budget_breaches(estimate, limit)}
    if limit is not None:
        return [_line("stack", "--budget", limit, estimate.monthly_max)]
    if not estimate.budgets:
        return ["budget: none declared and no --budget given; nothing to compare the worst case with"]
    lines = []
    for cloud in CLOUD_PREFIXES:
        declared = [b for b in estimate.budgets if BUDGET_CLOUD.get(b.type) == cloud]
        if declared:
            total, counted = effective_budget(declared)
            worst = breaches[cloud].monthly_max if cloud in breaches else cloud_total(estimate, cloud)
            source = f"{len(declared)} declared budget(s)"
            if len(counted) < len(declared):
                source += f", {len(counted)} counted: the tightest per scope"
            lines.append(_line(cloud, source, total, worst))
    return lines


def cloud_total(estimate: Estimate, cloud: str) -> float:
    return sum(i.monthly_max for i in estimate.items if cloud_of(i.type) == cloud)


def _line(scope: str, source: str, budget: float, worst: float) -> str:
    over = worst - budget
    state = f"OVER by ${over:,.2f}" if over > 0 else f"within (${-over:,.2f} left)"
    return f"budget ({scope}): ${budget:,.2f}/month ({source}); worst case ${worst:,.2f}: {state}"


def render_estimate(stack: CapturedStack, estimate: Estimate, limit: float | None) -> RenderableType:
    table = Table(title=f"Monthly cost of {stack.project}/{stack.stack} (USD)", show_lines=False)
    table.add_column("component")
    table.add_column("resource")
    table.add_column("max", justify="right")
    table.add_column("expected", justify="right")
    table.add_column("basis", overflow="fold")
    groups: dict[str, list[CostItem]] = {}
    for item in estimate.items:
        groups.setdefault(top_component(stack, item.urn), []).append(item)
    for group, items in sorted(groups.items()):
        for item in items:
            name = item.urn.rsplit("::", 1)[-1]
            table.add_row(
                escape(group),
                escape(name),
                f"{item.monthly_max:,.2f}",
                f"{item.monthly_expected:,.2f}",
                escape(item.basis),
            )
        if len(groups) > 1:
            table.add_row(
                escape(group),
                "[bold]subtotal[/]",
                f"{sum(i.monthly_max for i in items):,.2f}",
                f"{sum(i.monthly_expected for i in items):,.2f}",
                "",
                end_section=True,
            )
    table.add_row(
        "[bold]total[/]", "", f"[bold]{estimate.monthly_max:,.2f}[/]", f"[bold]{estimate.monthly_expected:,.2f}[/]", ""
    )
    parts: list[RenderableType] = [table]
    if estimate.unpriced:
        lines = [f"Not priced ({len(estimate.unpriced)}): these cost money but are not in the totals"]
        lines += [f"  - {u.urn.rsplit('::', 1)[-1]} ({u.type}): {u.reason}" for u in estimate.unpriced]
        parts.append(Text("\n".join(lines)))
    parts.append(Text(f"catalogue date: {estimate.catalogue_date} (on-demand list prices; month = 730 h)"))
    parts.append(Text("\n".join(budget_lines(estimate, limit))))
    return Group(*parts)
