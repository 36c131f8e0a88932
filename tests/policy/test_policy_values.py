"""Reading wire values: nested paths, list-or-object blocks, unknown placeholders, policy documents."""

from __future__ import annotations

import pytest

from mlops_infra.policy.facts.aws_iam import statements
from mlops_infra.policy.values import UNKNOWN_STRING, UnknownValue, contains_unknown, get, is_set, items


def test_get_walks_objects_lists_and_indexes() -> None:
    props = {"a": {"b": [{"c": 1}, {"c": 2}]}, "block": [{"x": "first"}]}
    assert get(props, "a.b[1].c") == 2
    assert get(props, "block.x") == "first"
    assert get(props, "a.missing.c") is None and get(props, "a.b[5].c") is None


def test_unknown_values_raise_with_their_path() -> None:
    with pytest.raises(UnknownValue) as raised:
        get({"a": UNKNOWN_STRING}, "a.b")
    assert raised.value.path == "a" and "string value at .a" in str(raised.value)
    assert is_set(UNKNOWN_STRING) and not is_set("") and not is_set(None) and is_set(False)
    assert contains_unknown({"x": [f"prefix-{UNKNOWN_STRING}"]}) == UNKNOWN_STRING


def test_items_accepts_lists_single_objects_and_absence() -> None:
    assert items(None, "p") == [] and items({"a": 1}, "p") == [{"a": 1}] and items([1, 2], "p") == [1, 2]


def test_policy_documents_are_normalised() -> None:
    parsed = statements(
        '{"Statement": {"Effect": "Allow", "Action": "s3:GetObject", "Resource": ["a", "b"]}}', "policy"
    )
    assert parsed[0].actions == ("s3:GetObject",) and parsed[0].resources == ("a", "b") and parsed[0].allows
    with pytest.raises(UnknownValue):
        statements(UNKNOWN_STRING, "policy")
