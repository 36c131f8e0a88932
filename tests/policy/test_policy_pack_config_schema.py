"""The pack's published config schema is generated from PolicyConfig, and admits nothing the model refuses.

The Pulumi CLI validates ``--policy-pack-config`` against the schema each policy publishes, then
hands the properties to the pack, which validates them with PolicyConfig: a value the schema admits
but the model refuses would fail every Analyze call of that policy instead of being refused up front.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import jsonschema
import pydantic
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlops_infra.policy.config import PolicyConfig, PolicyConfigError, from_pack_config, property_schema
from mlops_infra.policy.pack import PROPERTY_SCHEMAS, build_policies, config_schema
from mlops_infra.policy.rules import REGISTRY

# Values a user could write for each property: valid ones, edge cases, and the two measured bad configs.
CANDIDATES: dict[str, list[Any]] = {
    "requiredTagKeys": [["project"], ["a", " b"], [], [" "], [""], ["\t"], [1], "project", None],
    "allowedInstanceTypes": [["ml.*"], [], [" "], [""], ["ml.m5.*", "  "], "ml.*", [None]],
    "allowedInstanceTypesByEnvironment": [
        {"dev": ["ml.t3.*"]},
        {"dev": []},
        {},
        {" ": ["ml.t3.*"]},
        {"": ["ml.t3.*"]},
        {"dev": [" "]},
        {"dev": "ml.t3.*"},
        {"dev": [3]},
    ],
    "allowPublicMarker": ["mlops-infra/allow-public", "x", "a" * 63, "a" * 64, "Allow-Public", "", "-x", "a b", 5],
    "prices": ["prices.yaml", "rates/negotiated.json", "", " ", 5],
    "maxKeyRotationDays": [1, 90, 365, 30.0, 0, 366, 30.5, True, -1],
    "encryptedStorageClasses": [["gp3-encrypted"], [], [" "], [""], ["ok", "\t"], "gp3-encrypted", [1]],
}
# Refused by both: the published schema (so the CLI stops) and the model (so check stops).
REFUSED = {
    "requiredTagKeys": [[" "], [], [""]],
    "allowedInstanceTypes": [[" "]],
    "allowedInstanceTypesByEnvironment": [{" ": ["ml.t3.*"]}, {"dev": [" "]}],
    "allowPublicMarker": ["Allow-Public", "", "a" * 64, "mlops-infra/allow-public\n", "0\n"],
    "prices": ["", " "],
    "maxKeyRotationDays": [0, 366, 30.5, True],
    "encryptedStorageClasses": [[" "], [""], ["ok", "\t"]],
}


def _pattern_as_the_cli_reads_it(
    validator: Any, pattern: str, instance: Any, schema: dict[str, Any]
) -> Iterator[jsonschema.ValidationError]:
    """JSON Schema's ``pattern`` with ECMA-262 (and the CLI's Go) semantics: ``$`` is the very end.

    Python's ``re`` also lets ``$`` match before a final newline, so the stock validator admits
    ``"name\n"`` where the CLI and pydantic refuse it.
    """
    end_anchored = re.sub(r"(?<!\\)\$$", r"\\Z", pattern)
    if validator.is_type(instance, "string") and not re.search(end_anchored, instance):
        yield jsonschema.ValidationError(f"{instance!r} does not match {pattern!r}")


CliValidator = jsonschema.validators.extend(jsonschema.Draft7Validator, {"pattern": _pattern_as_the_cli_reads_it})


def schema_admits(name: str, value: Any) -> bool:
    return bool(CliValidator(PROPERTY_SCHEMAS[name]).is_valid(value))


def model_accepts(name: str, value: Any) -> bool:
    try:
        PolicyConfig.model_validate({name: value})
    except pydantic.ValidationError:
        return False
    return True


def test_every_pack_property_is_a_policy_config_field_with_the_generated_schema() -> None:
    assert set(PROPERTY_SCHEMAS) == set(CANDIDATES)
    for name, schema in PROPERTY_SCHEMAS.items():
        assert schema == property_schema(name)
        field = next(f for n, f in PolicyConfig.model_fields.items() if (f.alias or n) == name)
        assert schema["description"] == field.description
        jsonschema.Draft7Validator.check_schema(schema)
    resource_policies, stack_policies = build_policies(PolicyConfig(), {"churn:environment": "prod"})
    for policy in [*resource_policies, *stack_policies]:
        spec = REGISTRY[policy.name.removesuffix("-stack")]
        expected = config_schema(spec)
        assert (policy.config_schema is None) == (expected is None)
        if expected is not None:
            assert policy.config_schema.properties == {n: PROPERTY_SCHEMAS[n] for n in spec.config_properties}


@pytest.mark.parametrize("name", sorted(CANDIDATES))
def test_whatever_the_schema_admits_the_model_accepts(name: str) -> None:
    admitted = [v for v in CANDIDATES[name] if schema_admits(name, v)]
    assert admitted, "some candidate must be valid for the comparison to mean something"
    assert [v for v in admitted if not model_accepts(name, v)] == []


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_bad_values_are_refused_by_the_schema_and_by_the_model(name: str) -> None:
    for value in REFUSED[name]:
        assert not schema_admits(name, value), value
        assert not model_accepts(name, value), value


def test_the_measured_bad_pack_configs_are_refused_naming_the_field() -> None:
    for policy, properties, field in (
        ("no-public-access", {"allowPublicMarker": "Allow-Public"}, "allowPublicMarker"),
        ("required-tags", {"requiredTagKeys": [" "]}, "requiredTagKeys"),
    ):
        (value,) = properties.values()
        assert not schema_admits(field, value)
        with pytest.raises(PolicyConfigError, match=field):
            from_pack_config({policy: properties})


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=70))
def test_any_marker_or_tag_key_the_schema_admits_is_accepted(text: str) -> None:
    for name, value in (("allowPublicMarker", text), ("requiredTagKeys", [text]), ("prices", text)):
        if schema_admits(name, value):
            assert model_accepts(name, value), (name, value)
