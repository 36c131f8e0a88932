"""Policy config: defaults, both file shapes, and errors that name the field."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlops_infra.engine.errors import ProgramError
from mlops_infra.policy.config import (
    DEFAULT_ALLOW_PUBLIC_MARKER,
    PolicyConfig,
    PolicyConfigError,
    from_pack_config,
    load_policy_config,
    policy_config_from_data,
)
from mlops_infra.policy.model import POLICY_IDS, Enforcement


def test_defaults() -> None:
    config = load_policy_config(None)
    assert config.required_tag_keys == ("project", "environment", "owner", "cost-center")
    assert config.protected_environments == frozenset({"staging", "prod"})
    assert config.allow_public_marker == DEFAULT_ALLOW_PUBLIC_MARKER
    assert config.max_key_rotation_days == 365 and config.enforcement == {}
    assert "ml.m5.*" in config.allowed_instance_types


def test_native_yaml_and_json_files(tmp_path: Path) -> None:
    yaml_file = tmp_path / "policy.yaml"
    yaml_file.write_text(
        "requiredTagKeys: [project, team]\nprotectedEnvironments: [prod]\n"
        "enforcement:\n  least-privilege-iam: advisory\n  budget-required: disabled\n"
    )
    config = load_policy_config(yaml_file)
    assert config.required_tag_keys == ("project", "team")
    assert config.protected_environments == frozenset({"prod"})
    assert config.enforcement == {"least-privilege-iam": Enforcement.ADVISORY, "budget-required": Enforcement.DISABLED}
    json_file = tmp_path / "policy.json"
    json_file.write_text(json.dumps({"allowedInstanceTypes": ["ml.g5.*"], "maxKeyRotationDays": 90}))
    assert load_policy_config(json_file).allowed_instance_types == ("ml.g5.*",)


def test_pulumi_policy_pack_config_shape(tmp_path: Path) -> None:
    file = tmp_path / "pack.json"
    file.write_text(
        json.dumps(
            {
                "all": "advisory",
                "required-tags": {"enforcementLevel": "mandatory", "requiredTagKeys": ["project", "team"]},
                "allowed-instance-types": {"allowedInstanceTypes": ["ml.p5.*"]},
                "encryption-at-rest-stack": "remediate",
            }
        )
    )
    config = load_policy_config(file)
    assert config.required_tag_keys == ("project", "team")
    assert config.allowed_instance_types == ("ml.p5.*",)
    assert config.enforcement["required-tags"] is Enforcement.MANDATORY
    assert config.enforcement["encryption-at-rest"] is Enforcement.MANDATORY
    assert config.enforcement["log-retention"] is Enforcement.ADVISORY
    assert set(config.enforcement) == set(POLICY_IDS)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"enforcement": {"no-such-policy": "advisory"}}, "enforcement"),
        ({"enforcement": {"required-tags": "sometimes"}}, "enforcement.required-tags"),
        ({"requiredTagKeys": "project"}, "requiredTagKeys"),
        ({"requiredTagKeys": []}, "requiredTagKeys"),
        ({"maxKeyRotationDays": "yearly"}, "maxKeyRotationDays"),
        ({"maxKeyRotationDays": 400}, "maxKeyRotationDays"),
        ({"allowPublicMarker": "Has Spaces"}, "allowPublicMarker"),
        ({"protectedEnvironment": ["prod"]}, "protectedEnvironment"),
    ],
)
def test_invalid_native_config_names_the_field(tmp_path: Path, data: dict[str, object], field: str) -> None:
    file = tmp_path / "policy.json"
    file.write_text(json.dumps(data))
    with pytest.raises(PolicyConfigError) as raised:
        load_policy_config(file)
    assert f"{field}:" in str(raised.value) and str(file) in str(raised.value)
    assert isinstance(raised.value, ProgramError) and isinstance(raised.value, ValueError)


def test_unknown_policy_id_message_lists_the_known_ids() -> None:
    with pytest.raises(
        PolicyConfigError, match=r"enforcement: unknown policy id 'encrypt-everything'.*encryption-at-rest"
    ):
        load_from({"enforcement": {"encrypt-everything": "mandatory"}})


def load_from(data: dict[str, object]) -> PolicyConfig:
    return policy_config_from_data(data, "inline")


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"encryption-at-rest": "sometimes"}, "encryption-at-rest.enforcementLevel"),
        ({"required-tags": {"requiredTagKeys": "project"}}, "requiredTagKeys"),
        ({"allowed-instance-types": {"allowedInstanceTypes": [1, 2]}}, "allowedInstanceTypes"),
    ],
)
def test_invalid_pack_config_names_the_field(data: dict[str, object], field: str) -> None:
    with pytest.raises(PolicyConfigError) as raised:
        from_pack_config(data)
    assert field in str(raised.value)


def test_unknown_policy_in_pack_shape_is_rejected() -> None:
    with pytest.raises(PolicyConfigError, match="not-a-policy: unknown policy id"):
        from_pack_config({"required-tags": "advisory", "not-a-policy": "advisory"})


def test_unreadable_and_malformed_files(tmp_path: Path) -> None:
    with pytest.raises(PolicyConfigError, match="cannot read policy config"):
        load_policy_config(tmp_path / "missing.yaml")
    broken = tmp_path / "broken.yaml"
    broken.write_text("enforcement: [unclosed\n")
    with pytest.raises(PolicyConfigError, match="not valid YAML"):
        load_policy_config(broken)
    listed = tmp_path / "list.yaml"
    listed.write_text("- a\n- b\n")
    with pytest.raises(PolicyConfigError, match="expected a mapping"):
        load_policy_config(listed)


def test_pack_properties_overlay_the_base_config() -> None:
    base = PolicyConfig.model_validate({"protectedEnvironments": ["prod"]})
    overlaid = base.with_pack_properties({"requiredTagKeys": ["team"], "enforcementLevel": "advisory"})
    assert overlaid.required_tag_keys == ("team",) and overlaid.protected_environments == frozenset({"prod"})
    with pytest.raises(PolicyConfigError, match="maxKeyRotationDays"):
        base.with_pack_properties({"maxKeyRotationDays": 0})


@settings(max_examples=25, deadline=None)
@given(
    key=st.sampled_from(
        [
            "requiredTagKeys",
            "allowedInstanceTypes",
            "allowedInstanceTypesByEnvironment",
            "maxKeyRotationDays",
            "allowPublicMarker",
            "enforcement",
        ]
    ),
    value=st.one_of(st.integers(min_value=1000), st.booleans(), st.just({"x": 1}), st.just([1.5])),
)
def test_wrong_types_always_name_the_field(key: str, value: object) -> None:
    with pytest.raises(PolicyConfigError) as raised:
        load_from({key: value})
    assert f"{key}" in str(raised.value).split("inline: ", 1)[1]
