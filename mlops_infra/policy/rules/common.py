"""Small helpers the rule modules share: dispatch by type token and message phrasing."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from mlops_infra.policy.context import RuleContext
from mlops_infra.policy.model import Finding, ResourceView
from mlops_infra.policy.values import is_set, is_unknown

Handler = Callable[[ResourceView, RuleContext], Iterable[Finding]]

SAGEMAKER_JOB_DEFINITION = re.compile(r"^aws:sagemaker/\w+JobDefinition:\w+JobDefinition$")
AWS_MANAGED_KEY = re.compile(r"(^|:)alias/aws/")


def subject(view: ResourceView) -> str:
    """How a message names the resource: ``EndpointConfiguration 'serving'``."""
    return f"{view.kind} {view.name!r}"


def dispatch(handlers: dict[str, Handler], patterns: Iterable[tuple[re.Pattern[str], Handler]] = ()) -> Handler:
    """A resource check that runs the handler registered for the view's type token (or a matching pattern)."""
    pattern_list = list(patterns)

    def check(view: ResourceView, ctx: RuleContext) -> Iterator[Finding]:
        handler = handlers.get(view.type)
        if handler is None:
            handler = next((h for p, h in pattern_list if p.match(view.type)), None)
        if handler is not None:
            with ctx.unknowns():
                yield from handler(view, ctx)

    def applies_to(type_token: str) -> bool:
        """Whether ``check`` has a handler for ``type_token`` (it finds nothing on any other type)."""
        return type_token in handlers or any(p.match(type_token) for p, _ in pattern_list)

    check.applies_to = applies_to  # type: ignore[attr-defined]  # read by evaluate_view to skip other types
    return check


def covered_types(handlers: dict[str, Handler]) -> dict[str, tuple[str, ...]]:
    """Handler type tokens grouped by cloud package, for the documentation."""
    grouped: dict[str, list[str]] = {}
    for token in handlers:
        grouped.setdefault(token.split(":")[0], []).append(token)
    return {cloud: tuple(sorted(tokens)) for cloud, tokens in sorted(grouped.items())}


def key_problem(value: Any) -> str | None:
    """None when ``value`` names a customer-managed key; else why not ('missing', 'aws-managed')."""
    if not is_set(value):
        return "missing"
    if isinstance(value, str) and not is_unknown(value) and AWS_MANAGED_KEY.search(value):
        return "aws-managed"
    return None
