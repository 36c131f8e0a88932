"""One index of a stack, built once, that stack rules and correlations read instead of scanning.

A rule that asks "which resources of type T point at this bucket" or "which alarm mentions this
endpoint" for each of N resources would scan the stack N times: quadratic. ``StackView.index``
builds this index on first use (one pass over the resources) and every later question is a
dictionary lookup, so a rule stays linear in the stack's size.

What it answers (each list keeps the stack's resource order):

- ``of_type(*tokens)``: resources of these type tokens;
- ``by_urn(urn)``: the resource with this URN;
- ``dependents(urn)``: resources whose ``dependencies`` list this URN;
- ``with_value(types, prop, value)``: resources of ``types`` whose top-level ``prop`` is the known
  string ``value`` (a name, id or ARN);
- ``without_known_value(types, prop)``: those whose ``prop`` is not a known string (unknown during
  preview, an object, absent): correlations fall back to their dependencies for these;
- ``memo(key, compute)``: a stack-wide fact computed once (the metrics the stack exports, ...).

``Mentions(views, document, needles)`` answers "which of these resources mention this name" for
many names at once: one scan of the documents' strings with one pattern of every needle (shared
prefixes factored), instead of a substring search per (name, resource) pair.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar, cast

from mlops_infra.policy.values import is_unknown

T = TypeVar("T")

if TYPE_CHECKING:
    from mlops_infra.policy.model import ResourceView


def strings_in(document: Any) -> Iterator[str]:
    """Every string inside ``document`` (mapping values, list items, the document itself)."""
    if isinstance(document, str):
        yield document
    elif isinstance(document, Mapping):
        for value in document.values():
            yield from strings_in(value)
    elif isinstance(document, (list, tuple)):
        for value in document:
            yield from strings_in(value)


class StackIndex:
    """The stack's resources by type, URN, dependency and reference value (see the module docstring)."""

    def __init__(self, resources: Sequence[ResourceView]) -> None:
        self._resources = tuple(resources)
        self._position: dict[int, int] = {}
        self._types: dict[str, list[int]] = {}
        self._urns: dict[str, ResourceView] = {}
        self._dependents: dict[str, list[int]] = {}
        for position, view in enumerate(self._resources):
            self._position[id(view)] = position
            self._types.setdefault(view.type, []).append(position)
            self._urns.setdefault(view.urn, view)
            for urn in dict.fromkeys(view.dependencies):
                self._dependents.setdefault(urn, []).append(position)
        # (types, prop) -> (known string value -> positions, positions without a known string value)
        self._values: dict[tuple[tuple[str, ...], str], tuple[dict[str, list[int]], list[int]]] = {}
        self._memo: dict[str, Any] = {}

    def _views(self, positions: Iterable[int]) -> list[ResourceView]:
        return [self._resources[p] for p in sorted(set(positions))]

    def _type_positions(self, types: Iterable[str]) -> list[int]:
        return [p for token in dict.fromkeys(types) for p in self._types.get(token, ())]

    def of_type(self, *type_tokens: str) -> list[ResourceView]:
        """Resources of any of ``type_tokens``, in stack order."""
        if len(type_tokens) == 1:
            return [self._resources[p] for p in self._types.get(type_tokens[0], ())]
        return self._views(self._type_positions(type_tokens))

    def by_urn(self, urn: str) -> ResourceView | None:
        """The (first) resource with this URN."""
        return self._urns.get(urn)

    def dependents(self, urn: str, types: Iterable[str] | None = None) -> list[ResourceView]:
        """Resources (of ``types``, when given) whose dependencies list ``urn``, in stack order."""
        views = [self._resources[p] for p in self._dependents.get(urn, ())]
        if types is None:
            return views
        wanted = set(types)
        return [v for v in views if v.type in wanted]

    def _value_table(self, types: tuple[str, ...], prop: str) -> tuple[dict[str, list[int]], list[int]]:
        key = (types, prop)
        table = self._values.get(key)
        if table is None:
            known: dict[str, list[int]] = {}
            other: list[int] = []
            for position in self._type_positions(types):
                value = self._resources[position].props.get(prop)
                if isinstance(value, str) and not is_unknown(value):
                    known.setdefault(value, []).append(position)
                else:
                    other.append(position)
            table = self._values[key] = (known, other)
        return table

    def with_value(self, types: Iterable[str], prop: str, values: Iterable[str]) -> list[ResourceView]:
        """Resources of ``types`` whose ``prop`` is a known string among ``values``, in stack order."""
        known, _ = self._value_table(tuple(types), prop)
        return self._views(p for value in values for p in known.get(value, ()))

    def without_known_value(self, types: Iterable[str], prop: str) -> list[ResourceView]:
        """Resources of ``types`` whose ``prop`` is not a known string, in stack order."""
        _, other = self._value_table(tuple(types), prop)
        return [self._resources[p] for p in other]

    def referring(self, types: tuple[str, ...], prop: str, values: Iterable[str], urn: str) -> list[ResourceView]:
        """Resources of ``types`` whose ``prop`` is a known string among ``values``, or, when it is not a
        known string, whose dependencies list ``urn`` (``correlation.refers_to``), in stack order."""
        known, other = self._value_table(types, prop)
        positions = {p for value in values for p in known.get(value, ())}
        if other:
            unset = self._unset_positions(types, prop)
            positions |= {p for p in self._dependents.get(urn, ()) if p in unset}
        return [self._resources[p] for p in sorted(positions)]

    def _unset_positions(self, types: tuple[str, ...], prop: str) -> frozenset[int]:
        return self.memo(f"unset:{types}:{prop}", lambda: frozenset(self._value_table(types, prop)[1]))

    def position(self, view: ResourceView) -> int:
        """Where ``view`` is in the stack (its order in every answer)."""
        return self._position[id(view)]

    def memo(self, key: str, compute: Callable[[], T]) -> T:
        """``compute()`` once per stack under ``key``: a stack-wide fact several rules or resources read."""
        if key not in self._memo:
            self._memo[key] = compute()
        return cast("T", self._memo[key])


def _trie_pattern(words: Iterable[str]) -> str:
    """A regular expression matching any of ``words``, longest first, with shared prefixes factored out."""
    trie: dict[str, Any] = {}
    for word in words:
        node = trie
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}
    return _emit(trie)


def _emit(node: dict[str, Any]) -> str:
    branches = [re.escape(char) + _emit(child) for char, child in sorted(node.items()) if char]
    if not branches:
        return ""
    body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
    return f"(?:{body})?" if "" in node else body


class Mentions:
    """Which of ``views`` mention which needle: one scan of their documents for every needle at once.

    ``document(view)`` is what a view may mention a needle in (its props, or part of them); a view
    mentions a needle when a string inside that document contains it, exactly as
    ``correlation.mentions(document, {needle})`` decides. ``of(needles)`` then answers in stack order.
    """

    def __init__(self, views: Sequence[ResourceView], document: Any, needles: Iterable[str]) -> None:
        self._views = tuple(views)
        wanted = {n for n in needles if n}
        self._by_needle: dict[str, list[int]] = {}
        if not wanted or not self._views:
            return
        prefixes = {n: {n[:i] for i in range(1, len(n) + 1)} & wanted for n in wanted}
        pattern = re.compile("(?=(" + _trie_pattern(wanted) + "))")
        for position, view in enumerate(self._views):
            found: set[str] = set()
            for text in strings_in(document(view)):
                for match in pattern.finditer(text):
                    if match.group(1):
                        found |= prefixes[match.group(1)]
            for needle in found:
                self._by_needle.setdefault(needle, []).append(position)

    def of(self, needles: Iterable[str]) -> list[ResourceView]:
        """The views that mention any of ``needles``, in their given order."""
        positions = {p for n in needles for p in self._by_needle.get(n, ())}
        return [self._views[p] for p in sorted(positions)]
