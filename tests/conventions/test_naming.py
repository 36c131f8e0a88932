"""Physical names are stable, valid for each service, and never collide when cut."""

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlops_infra.conventions import naming

RULES = [
    naming.S3_BUCKET,
    naming.IAM_ROLE,
    naming.SAGEMAKER,
    naming.FEATURE_GROUP,
    naming.GLUE_DATABASE,
    naming.SCHEDULER_SCHEDULE,
    naming.KMS_ALIAS,
    naming.GCS_BUCKET,
    naming.GCP_SERVICE_ACCOUNT_ID,
    naming.K8S_LABEL_NAME,
]

component_names = st.text(alphabet=st.characters(codec="ascii", categories=["L", "N", "P"]), min_size=1, max_size=120)


def test_short_names_are_project_environment_name():
    assert naming.physical_name("churn", "prod", "features", naming.S3_BUCKET) == "churn-prod-features"
    assert naming.physical_name("churn", "prod", "features", naming.GLUE_DATABASE) == "churn_prod_features"
    assert naming.physical_name("churn", "prod", "key", naming.KMS_ALIAS) == "alias/churn-prod-key"


def test_long_names_are_cut_with_a_stable_hash():
    long_name = "a-very-long-component-name-that-does-not-fit-into-sixty-three-characters"
    first = naming.physical_name("churn", "prod", long_name, naming.SAGEMAKER)
    assert len(first) == 63
    assert first == naming.physical_name("churn", "prod", long_name, naming.SAGEMAKER)
    other = naming.physical_name("churn", "prod", long_name + "-2", naming.SAGEMAKER)
    assert other != first and other[:40] == first[:40]


@settings(max_examples=200, deadline=None)
@given(name=component_names, rule=st.sampled_from(RULES))
def test_every_fitted_name_is_valid_for_its_service(name, rule):
    try:
        fitted = naming.physical_name("churn", "staging", name, rule)
    except ValueError:
        return  # nothing usable in the name: refused with a message, never a bad name
    assert len(fitted) <= rule.max_length
    body = fitted.removeprefix(rule.prefix)
    assert re.fullmatch(rf"[{rule.allowed}]+", body)
    if rule.lowercase:
        assert body == body.lower()
    assert not body.startswith(rule.separator) and not body.endswith(rule.separator)


@given(content=st.text(max_size=200))
@settings(max_examples=50, deadline=None)
def test_content_suffixed_names_change_exactly_when_content_changes(content):
    base = "churn-prod-endpoint-config"
    name = naming.content_suffixed(base, content, naming.SAGEMAKER)
    assert name == naming.content_suffixed(base, content, naming.SAGEMAKER)
    assert name != naming.content_suffixed(base, content + "x", naming.SAGEMAKER)
    assert len(name) <= naming.SAGEMAKER.max_length


def test_name_without_allowed_characters_is_refused():
    with pytest.raises(ValueError, match="no characters allowed"):
        naming.fit_name("___", naming.S3_BUCKET)
