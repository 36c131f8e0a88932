"""Every invalid value of every spec field is refused, naming the field path (hypothesis over the churn spec).

The fuzz walks every leaf of the shipped ``stacks/platform/platform.yaml`` and replaces it with a
value of the wrong kind (a word for a number, a number for a word, ``'yes'`` for a switch, ...)
or out of range. Curated cases cover the classes measured as silently accepted or unclear.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from mlops_infra.engine import format_validation_error
from mlops_infra.spec import PlatformSpec

SPEC_FILE = Path(__file__).resolve().parents[2] / "stacks" / "platform" / "platform.yaml"
VALID: dict[str, Any] = {**yaml.safe_load(SPEC_FILE.read_text()), "clouds": ["aws", "gcp", "k8s"]}
# Numbers whose every value is meaningful (a metric threshold may be any real number).
UNBOUNDED = {("training", "gate", "threshold")}


def leaves(node: Any, path: tuple[str | int, ...] = ()) -> list[tuple[tuple[str | int, ...], Any]]:
    if isinstance(node, dict):
        return [leaf for key, value in node.items() for leaf in leaves(value, (*path, key))]
    if isinstance(node, list) and node and isinstance(node[0], dict):
        return [leaf for index, value in enumerate(node) for leaf in leaves(value, (*path, index))]
    return [(path, node)]


LEAVES = leaves(VALID)


def with_value(path: tuple[str | int, ...], value: Any) -> dict[str, Any]:
    document = copy.deepcopy(VALID)
    node: Any = document
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    return document


def wrong_values(path: tuple[str | int, ...], valid: Any) -> list[Any]:
    """Values of the wrong kind for this leaf (and out of range for bounded numbers)."""
    if isinstance(valid, bool):
        return ["yes", "true", 1, "on"]
    if isinstance(valid, (int, float)):
        values: list[Any] = ["many", [], {"n": 1}]
        if path not in UNBOUNDED:
            values += [-1e9, 1e12]
        return values
    if isinstance(valid, str):
        return [12345, ["a"], {"a": 1}]
    if isinstance(valid, list):
        return ["not-a-list", {"a": 1}, [["nested"]]]
    raise AssertionError(f"unexpected leaf {path}: {valid!r}")


def assert_refused_at(document: dict[str, Any], path: tuple[str | int, ...]) -> None:
    with pytest.raises(ValidationError) as error:
        PlatformSpec.model_validate(document)
    locations = [tuple(e["loc"]) for e in error.value.errors()]
    assert any(loc[: len(path)] == path or path[: len(loc)] == loc for loc in locations), (path, locations)
    message = format_validation_error(error.value)
    assert ".".join(str(p) for p in path[:2]) in message
    assert "Value error," not in message


def test_the_shipped_spec_is_valid():
    spec = PlatformSpec.model_validate(VALID)
    assert [e.name for e in spec.endpoints] == ["scoring"]
    assert len(LEAVES) > 40


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_every_leaf_refuses_a_wrong_value_and_names_its_path(data):
    path, valid = data.draw(st.sampled_from(LEAVES), label="field")
    bad = data.draw(st.sampled_from(wrong_values(path, valid)), label="value")
    assert_refused_at(with_value(path, bad), path)


@pytest.mark.parametrize(("path", "valid"), LEAVES, ids=[".".join(map(str, p)) for p, _ in LEAVES])
def test_every_leaf_refuses_every_wrong_kind(path, valid):
    for bad in wrong_values(path, valid):
        assert_refused_at(with_value(path, bad), path)


CURATED: list[tuple[tuple[str | int, ...], Any, str]] = [
    (("clouds",), ["azure"], "Input should be 'aws', 'gcp' or 'k8s'"),
    (("clouds",), ["aws", "aws"], "lists a cloud twice"),
    (("training", "schedule", "cron"), "99 99 * * *", "outside 0-59"),
    (("training", "schedule", "cron"), "*/0 * * * *", "step 0"),
    (("training", "schedule", "cron"), "0 25 31 2 *", "outside 0-23"),
    (("training", "schedule", "time_zone"), "Europe/Atlantis", "IANA time zone"),
    (("training", "image", "per_cloud", "aws"), "repo/train:latest", "latest"),
    (("training", "image", "per_cloud", "azure"), "repo/train:1", "Input should be 'aws', 'gcp' or 'k8s'"),
    (("training", "compute", "size"), "huge", "Input should be"),
    (("training", "compute", "machine_type"), "anything-goes", "not a Vertex AI machine type"),
    (("endpoints", 0, "name"), "", "not a valid name"),
    (("endpoints", 0, "name"), "Scoring_API", "not a valid name"),
    (("endpoints", 0, "model", "artifact"), "ftp://models/churn", "must start with"),
    (("endpoints", 0, "model", "artifact"), "../secrets/model", "relative path"),
    (("endpoints", 0, "alerts", "error_rate_percent"), 150, "less than or equal to 100"),
    (("endpoints", 0, "alerts", "error_rate_percent"), 0, "greater than 0"),
    (("endpoints", 0, "allow_public_access"), "yes", "valid boolean"),
    (("endpoints", 0, "data_capture"), {"sampling_percent": 120}, "less than or equal to 100"),
    (("endpoints", 0, "scaling"), {"min_replicas": 4, "max_replicas": 2}, "above max_replicas"),
    (("endpoints", 0, "rollout"), {"strategy": "yolo"}, "Input should be"),
    (("endpoints", 0, "rollout"), {"rollback_on_alarms": "no"}, "valid boolean"),
    (("monitoring", "drift", "features"), ["no_such_feature"], "not features of the feature store"),
    (("monitoring", "drift", "threshold"), 20, "less than or equal to 1"),
    (("alerts", "emails"), ["not-an-address"], "not an e-mail address"),
    (("budget", "monthly_limit_usd"), 0, "greater than 0"),
    (("budget", "alert_at_percent"), [80, 80], "repeats"),
    (("registry", "approval"), {"mode": "whenever"}, "Input should be 'manual' or 'automatic'"),
    (("feature_store", "feature_groups", 0, "entity_key"), "missing_feature", "not one of the group's features"),
    (("access", "devops"), ["bad group name with spaces"], "not a group name"),
    (("unknown_section",), {}, "Extra inputs are not permitted"),
]


@pytest.mark.parametrize(("path", "value", "reason"), CURATED, ids=[".".join(map(str, c[0])) for c in CURATED])
def test_curated_bad_input_is_refused_with_the_reason(path, value, reason):
    document = copy.deepcopy(VALID)
    node: Any = document
    for part in path[:-1]:
        node = node.setdefault(part, {}) if isinstance(part, str) else node[part]
    node[path[-1]] = value
    with pytest.raises(ValidationError) as error:
        PlatformSpec.model_validate(document)
    message = format_validation_error(error.value)
    assert reason in message, message
    assert "Value error," not in message
