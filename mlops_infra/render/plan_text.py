"""The text form of a plan: a tree of components and children, then counts by cloud and type.

Every name, type and project printed here is escaped: rich must never read user text as markup.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from rich.console import Group, RenderableType
from rich.markup import escape
from rich.table import Table
from rich.tree import Tree

from mlops_infra.engine.captured import CapturedResource, CapturedStack
from mlops_infra.render.schema_report import render_schema_report

if TYPE_CHECKING:
    from mlops_infra.engine.conformance import SchemaReport

CLOUD_OF_PACKAGE = {"aws": "aws", "gcp": "gcp", "kubernetes": "kubernetes"}


def cloud_of(resource: CapturedResource) -> str:
    """``aws``, ``gcp`` or ``kubernetes`` for provider resources; the component's cloud for ours."""
    if resource.package == "mlops-infra":
        return resource.type.split(":")[1]
    return CLOUD_OF_PACKAGE.get(resource.package, resource.package)


def _label(resource: CapturedResource) -> str:
    marks = " [yellow](protected)[/]" if resource.protect else ""
    style = "bold cyan" if not resource.custom else "white"
    where = f" [blue]@ {escape(resource.placement.describe())}[/]" if resource.placement is not None else ""
    return f"[{style}]{escape(resource.type)}[/] [dim]{escape(resource.name)}[/]{where}{marks}"


def resource_tree(stack: CapturedStack) -> Tree:
    """Components with their children nested below them."""
    tree = Tree(f"[bold]{escape(stack.project)}[/] / [bold]{escape(stack.stack)}[/]")
    children: dict[str | None, list[CapturedResource]] = {}
    for resource in stack.resources:
        children.setdefault(resource.parent, []).append(resource)

    def add(node: Tree, parent: str | None) -> None:
        for resource in sorted(children.get(parent, []), key=lambda r: (r.custom, r.type, r.name)):
            add(node.add(_label(resource)), resource.urn)

    add(tree, None)
    return tree


def counts_table(stack: CapturedStack) -> Table:
    """Resource counts by cloud and type (components counted apart from cloud resources)."""
    table = Table(title="Resources by cloud and type", show_lines=False)
    table.add_column("cloud")
    table.add_column("type")
    table.add_column("count", justify="right")
    counts = Counter((cloud_of(r), r.type) for r in stack.resources)
    for (cloud, type_token), count in sorted(counts.items()):
        table.add_row(escape(cloud), escape(type_token), str(count))
    per_cloud = Counter(cloud_of(r) for r in stack.custom_resources())
    summary = ", ".join(f"{cloud}: {n}" for cloud, n in sorted(per_cloud.items()))
    components = sum(1 for r in stack.resources if not r.custom)
    table.caption = escape(f"{len(stack.custom_resources())} cloud resources ({summary}); {components} components")
    return table


def render_plan(stack: CapturedStack, schema: SchemaReport | None = None) -> RenderableType:
    """The tree and counts, then the schema conformance section when ``schema`` is given."""
    if schema is None:
        return Group(resource_tree(stack), counts_table(stack))
    return Group(resource_tree(stack), counts_table(stack), render_schema_report(schema))
