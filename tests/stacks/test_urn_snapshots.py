"""URN snapshots of every shipped stack: a changed URN is a replaced live resource.

Pulumi identifies a resource by its URN (stack, project, parent type chain, type, logical name).
Renaming a component or child, or moving it under another parent, changes the URN, and
``pulumi up`` then deletes the live resource and creates a new one: a new bucket, feature
group or endpoint, with the data and traffic of the old one gone. Each stack's URNs are kept in
``snapshots/<stack-dir>-<stack>.urns.txt`` (one sorted URN per line); this test fails on any
difference and says which URNs went and came.

A deliberate change: add ``aliases`` (``ResourceOptions(aliases=[Alias(name=...)])``) so the
engine moves the live resource instead of replacing it, then regenerate the snapshots with
``MLOPS_INFRA_UPDATE_SNAPSHOTS=1 uv run --all-extras pytest tests/stacks/test_urn_snapshots.py``
and review the diff of the snapshot files like code.
"""

from __future__ import annotations

import inspect
import os
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pulumi
import pytest

from mlops_infra.engine import CapturedStack, run_program

SNAPSHOTS = Path(__file__).parent / "snapshots"
UPDATE_VARIABLE = "MLOPS_INFRA_UPDATE_SNAPSHOTS"
STACKS_ROOT = Path(__file__).resolve().parents[2] / "stacks"

# Every shipped stack: (directory under stacks/, its stack names). A new project is one line here.
SHIPPED_STACKS: list[tuple[str, tuple[str, ...]]] = [
    ("aws-sagemaker", ("dev", "staging", "prod")),
    ("gcp-vertex", ("dev", "staging", "prod")),
    ("k8s-kserve", ("dev", "staging", "prod")),
    (
        "platform",
        ("aws-dev", "aws-staging", "aws-prod", "gcp-dev", "gcp-prod", "k8s-dev", "k8s-prod", "multi-prod"),
    ),
]
CASES = [(stack_dir, stack) for stack_dir, stacks in SHIPPED_STACKS for stack in stacks]


def snapshot_path(stack_dir: str, stack: str) -> Path:
    return SNAPSHOTS / f"{stack_dir}-{stack}.urns.txt"


def read_snapshot(path: Path) -> list[str]:
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def render_snapshot(urns: Iterable[str]) -> str:
    return "".join(f"{urn}\n" for urn in sorted(set(urns)))


def _type_and_name(urn: str) -> tuple[str, str]:
    """(own type, logical name) of ``urn:pulumi:stack::project::parent$...$type::name``."""
    parts = urn.split("::")
    return parts[2].split("$")[-1], "::".join(parts[3:])


def _parent_chain(urn: str) -> str:
    """The parents' type chain of ``urn`` ("" for a top-level resource)."""
    chain = urn.split("::")[2]
    return chain.rpartition("$")[0]


@dataclass(frozen=True)
class UrnDiff:
    """How a plan's URNs differ from its snapshot."""

    removed: list[str] = field(default_factory=list)  # in the snapshot, no longer planned
    added: list[str] = field(default_factory=list)  # planned, not in the snapshot
    aliased: dict[str, str] = field(default_factory=dict)  # removed URN -> the added URN whose alias names it

    def __bool__(self) -> bool:
        return bool(self.removed or self.added)


def diff_urns(snapshot: Iterable[str], stack: CapturedStack) -> UrnDiff:
    """Compare the planned URNs of ``stack`` with ``snapshot``; note removed URNs an added resource aliases.

    The engine records an alias as a URN, or as ``type::name`` (``<same type>``/``<same name>`` for
    the parts the alias keeps); the latter matches a removed URN with that own type and name under
    the same parents (the engine does not record an alias's parent, so a move to another parent is
    reported as removed + added, never as safe).
    """
    expected = set(snapshot)
    by_urn = stack.by_urn()
    removed = sorted(expected - set(by_urn))
    added = sorted(set(by_urn) - expected)
    aliased: dict[str, str] = {}
    for new_urn in added:
        resource = by_urn[new_urn]
        for alias in resource.aliases:
            if alias in removed:
                aliased[alias] = new_urn
                continue
            alias_type, _, alias_name = alias.partition("::")
            wanted = (
                resource.type if alias_type == "<same type>" else alias_type,
                resource.name if alias_name == "<same name>" else alias_name,
            )
            for old_urn in removed:
                same_parents = _parent_chain(old_urn) == _parent_chain(new_urn)
                if old_urn not in aliased and same_parents and _type_and_name(old_urn) == wanted:
                    aliased[old_urn] = new_urn
    return UrnDiff(removed, added, aliased)


def describe(diff: UrnDiff, path: Path) -> str:
    """The failure message: which URNs went and came, and what a developer does about it."""
    lines = [f"The planned URNs differ from {path.name}:"]
    unaliased = [urn for urn in diff.removed if urn not in diff.aliased]
    if unaliased:
        lines.append(f"  removed ({len(unaliased)}), `pulumi up` would DELETE these live resources:")
        lines += [f"    - {urn}" for urn in unaliased]
    if diff.aliased:
        lines.append(f"  moved by an alias ({len(diff.aliased)}), kept by `pulumi up`:")
        lines += [f"    ~ {old}\n      -> {new}" for old, new in sorted(diff.aliased.items())]
    created = [urn for urn in diff.added if urn not in diff.aliased.values()]
    if created:
        lines.append(f"  added ({len(created)}), `pulumi up` would CREATE:")
        lines += [f"    + {urn}" for urn in created]
    lines += [
        "A changed URN replaces the live resource (a new bucket, key or endpoint; the old one and its data go).",
        "If the rename is deliberate, give the renamed resource `aliases` with its old name/parent so Pulumi",
        f"moves it, then regenerate: {UPDATE_VARIABLE}=1 uv run --all-extras pytest tests/stacks/test_urn_snapshots.py",
        "and review the snapshot diff. If it is not deliberate, restore the old logical name or parent.",
    ]
    return "\n".join(lines)


@pytest.mark.parametrize(("stack_dir", "stack"), CASES, ids=[f"{d}-{s}" for d, s in CASES])
def test_urns_match_the_snapshot(planned, stack_dir, stack):
    captured = planned(stack_dir, stack)
    path = snapshot_path(stack_dir, stack)
    if os.environ.get(UPDATE_VARIABLE) == "1":
        previous = read_snapshot(path) if path.is_file() else []
        change = diff_urns(previous, captured)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(render_snapshot(r.urn for r in captured.resources), encoding="utf-8")
        summary = f"+{len(change.added)} -{len(change.removed)} URNs" if change else "unchanged"
        pytest.skip(f"{UPDATE_VARIABLE}=1: wrote {path.name} ({summary}); review and commit it, then rerun without it")
    if not path.is_file():
        pytest.fail(
            f"no URN snapshot {path.relative_to(STACKS_ROOT.parent)} for stacks/{stack_dir} --stack {stack}. "
            f"Create it with {UPDATE_VARIABLE}=1 uv run --all-extras pytest tests/stacks/test_urn_snapshots.py",
            pytrace=False,
        )
    change = diff_urns(read_snapshot(path), captured)
    assert not change, describe(change, path)


def test_listed_stacks_match_their_stack_files_and_every_snapshot_a_listed_stack():
    """A listed directory's stacks are all listed (and exist); no snapshot is orphaned.

    A stack directory not listed fails too: adding it is one line in SHIPPED_STACKS plus a run with
    MLOPS_INFRA_UPDATE_SNAPSHOTS=1.
    """
    on_disk = {
        (stack_file.parent.name, stack_file.name.removeprefix("Pulumi.").removesuffix(".yaml"))
        for stack_file in STACKS_ROOT.glob("*/Pulumi.*.yaml")
    }
    listed_dirs = {stack_dir for stack_dir, _ in SHIPPED_STACKS}
    missing = sorted(case for case in on_disk - set(CASES) if case[0] in listed_dirs)
    assert not missing, f"stacks without a URN snapshot case; add them to SHIPPED_STACKS: {missing}"
    gone = sorted(set(CASES) - on_disk)
    assert not gone, f"SHIPPED_STACKS lists stacks that have no Pulumi.<stack>.yaml: {gone}"
    orphans = sorted(
        p.name for p in SNAPSHOTS.glob("*.urns.txt") if p.name not in {snapshot_path(*c).name for c in CASES}
    )
    assert not orphans, f"snapshots of no listed stack (delete them or list their stack): {orphans}"
    unlisted = sorted({stack_dir for stack_dir, _ in on_disk} - listed_dirs)
    assert not unlisted, f"stack directories without URN snapshots (add them to SHIPPED_STACKS): {unlisted}"


# The snapshot test's own comparison must catch a renamed child: plan a stack whose child gets another name.
RENAME_CASE = ("aws-sagemaker", "dev")


def _child_to_rename(snapshot: list[str]) -> str:
    """The first URN of a component's child whose (type, name) is unique in the snapshot."""
    counts = Counter(_type_and_name(urn) for urn in snapshot)
    return next(urn for urn in snapshot if "$" in urn.split("::")[2] and counts[_type_and_name(urn)] == 1)


def _plan_with_renamed_child(monkeypatch, old_urn: str, *, alias: bool) -> tuple[CapturedStack, str]:
    """Plan RENAME_CASE with the resource of ``old_urn`` registered as ``<name>-renamed``; its new URN."""
    own_type, old_name = _type_and_name(old_urn)
    new_name = f"{old_name}-renamed"
    original = pulumi.Resource.__init__
    signature = inspect.signature(original)
    renamed: list[str] = []

    def init(self, *args, **kwargs):
        bound = signature.bind(self, *args, **kwargs)
        if (bound.arguments["t"], bound.arguments["name"]) == (own_type, old_name):
            bound.arguments["name"] = new_name
            if alias:
                aliased = pulumi.ResourceOptions(aliases=[pulumi.Alias(name=old_name)])
                bound.arguments["opts"] = pulumi.ResourceOptions.merge(bound.arguments.get("opts"), aliased)
            renamed.append(new_name)
        original(*bound.args, **bound.kwargs)

    monkeypatch.setattr(pulumi.Resource, "__init__", init)
    stack = run_program(STACKS_ROOT / RENAME_CASE[0], RENAME_CASE[1], [])
    assert renamed == [new_name], "the stack no longer declares the child this test renames"
    return stack, old_urn.removesuffix(f"::{old_name}") + f"::{new_name}"


def test_a_renamed_child_fails_the_snapshot_comparison(planned, monkeypatch):
    path = snapshot_path(*RENAME_CASE)
    snapshot = read_snapshot(path)
    assert not diff_urns(snapshot, planned(*RENAME_CASE))  # control: the unchanged stack matches
    old_urn = _child_to_rename(snapshot)

    stack, new_urn = _plan_with_renamed_child(monkeypatch, old_urn, alias=False)
    change = diff_urns(snapshot, stack)

    assert change, "a renamed child must fail the snapshot test"
    assert change.removed == [old_urn] and change.added == [new_urn] and change.aliased == {}
    message = describe(change, path)
    assert f"removed (1), `pulumi up` would DELETE these live resources:\n    - {old_urn}" in message
    assert f"added (1), `pulumi up` would CREATE:\n    + {new_urn}" in message
    assert "aliases" in message and f"{UPDATE_VARIABLE}=1" in message


def test_an_aliased_rename_is_reported_as_a_move_and_still_needs_a_new_snapshot(planned, monkeypatch):
    path = snapshot_path(*RENAME_CASE)
    snapshot = read_snapshot(path)
    old_urn = _child_to_rename(snapshot)

    stack, new_urn = _plan_with_renamed_child(monkeypatch, old_urn, alias=True)
    change = diff_urns(snapshot, stack)

    assert change, "even a safe (aliased) rename changes the snapshot: it is regenerated deliberately"
    assert change.removed == [old_urn] and change.added == [new_urn]
    assert change.aliased == {old_urn: new_urn}
    message = describe(change, path)
    assert f"moved by an alias (1), kept by `pulumi up`:\n    ~ {old_urn}\n      -> {new_urn}" in message
    assert "DELETE" not in message and "CREATE" not in message
