"""The stack index answers exactly what the linear scans it replaces answered."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from mlops_infra.policy.correlation import mentions, referrers, refers_to
from mlops_infra.policy.model import ResourceView, StackView
from mlops_infra.policy.stack_index import Mentions, StackIndex

UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"  # Pulumi's unknown-value sentinel

texts = st.text(alphabet="ab-/1", max_size=12)


def view(index: int, type_: str = "t:m:A", props: dict | None = None, deps: tuple[str, ...] = ()) -> ResourceView:
    return ResourceView(type=type_, props=props or {}, urn=f"urn:{index}", name=f"r{index}", dependencies=deps)


@settings(max_examples=200, deadline=None)
@given(documents=st.lists(st.lists(texts, max_size=3), max_size=6), needles=st.lists(texts, max_size=6))
def test_mentions_finds_every_substring_occurrence(documents: list[list[str]], needles: list[str]) -> None:
    views = [view(i, props={"doc": {"values": doc}}) for i, doc in enumerate(documents)]
    index = Mentions(views, lambda v: v.props["doc"], needles)
    for needle in needles:
        expected = [v for v in views if mentions(v.props["doc"], {needle})]
        assert index.of([needle]) == expected, needle


def test_a_name_that_prefixes_another_is_found_inside_it() -> None:
    # "churn-1" occurs inside "endpoints/churn-10": the substring rule says both names are mentioned.
    views = [view(0, props={"filter": "endpoints/churn-10"}), view(1, props={"filter": "x endpoints/churn-1 y"})]
    index = Mentions(views, lambda v: v.props, {"endpoints/churn-1", "endpoints/churn-10"})
    assert index.of({"endpoints/churn-1"}) == views
    assert index.of({"endpoints/churn-10"}) == [views[0]]
    assert index.of({"endpoints/churn-2"}) == []


def test_by_type_find_and_dependents_keep_stack_order() -> None:
    views = [view(0, "a"), view(1, "b", deps=("urn:0",)), view(2, "a", deps=("urn:0", "urn:0")), view(3, "c")]
    stack = StackView(resources=tuple(views), config={}, stack_urn="s")
    assert stack.by_type("a") == [views[0], views[2]]
    assert stack.by_type("c", "a") == [views[0], views[2], views[3]]
    assert stack.by_type("zzz") == []
    assert stack.find("urn:2") is views[2]
    assert stack.find("urn:9") is None
    assert stack.index.dependents("urn:0") == [views[1], views[2]]
    assert stack.index.dependents("urn:0", ["a"]) == [views[2]]
    assert isinstance(stack.index, StackIndex)
    assert stack.index is stack.index  # built once


def test_referrers_match_the_scan_by_value_and_by_dependency() -> None:
    bucket = view(0, "bucket", {"bucket": "data"})
    by_name = view(1, "policy", {"bucket": "data"})
    by_arn = view(2, "policy", {"bucket": "arn:aws:s3:::data"})
    by_dependency = view(3, "policy", {"bucket": UNKNOWN}, deps=("urn:0",))
    unrelated = view(4, "policy", {"bucket": "other"}, deps=("urn:0",))  # a known value wins over the dependency
    other_type = view(5, "acl", {"bucket": "data"})
    stack = StackView(
        resources=(bucket, by_name, by_arn, by_dependency, unrelated, other_type), config={}, stack_urn="s"
    )
    ids = {"data", "arn:aws:s3:::data"}
    expected = [r for r in stack.resources if r.type == "policy" and refers_to(r, r.props.get("bucket"), bucket, ids)]
    assert referrers(stack, bucket, ("policy",), "bucket", ids) == expected == [by_name, by_arn, by_dependency]
