"""docs/policies.md documents every rule, maps every checkov id of the reference catalogue, and shows how to run."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from mlops_infra.policy.model import POLICY_IDS
from mlops_infra.policy.rules import REGISTRY

DOCS = (Path(__file__).resolve().parents[2] / "docs" / "policies.md").read_text()

# The checkov ML catalogue of the design reference, with the policy id each one maps to.
REFERENCE_CHECKOV = {
    "CKV_AWS_22": "encryption-at-rest",
    "CKV_AWS_187": "encryption-at-rest",
    "CKV_AWS_98": "encryption-at-rest",
    "CKV_AWS_122": "no-public-access",
    "CKV_AWS_306": "network-isolation",
    "CKV_AWS_307": "least-privilege-iam",
    "CKV_AWS_367": "encryption-at-rest",
    "CKV_AWS_368": "encryption-at-rest",
    "CKV_AWS_369": "encryption-in-transit",
    "CKV_AWS_370": "network-isolation",
    "CKV_AWS_371": "no-public-access",
    "CKV_AWS_372": "encryption-at-rest",
    "CKV2_AWS_68": "least-privilege-iam",
    "CKV2_GCP_24": "encryption-at-rest",
    "CKV2_GCP_25": "encryption-at-rest",
    "CKV2_GCP_26": "encryption-at-rest",
    "CKV_GCP_92": "encryption-at-rest",
    "CKV_GCP_96": "encryption-at-rest",
    "CKV2_GCP_21": "encryption-at-rest",
    "CKV2_GCP_27": "encryption-at-rest",
    "CKV2_GCP_35": "encryption-at-rest",
    "CKV2_GCP_33": "no-public-access",
    "CKV2_GCP_34": "no-public-access",
    "CKV_GCP_89": "no-public-access",
    "CKV2_GCP_28": "no-public-access",
    "CKV2_GCP_36": "no-public-access",
    "CKV_GCP_126": "network-isolation",
    "CKV_GCP_127": "network-isolation",
}


def _section(policy_id: str) -> str:
    match = re.search(rf"^## {re.escape(policy_id)}\n(.*?)(?=^## )", DOCS, re.S | re.M)
    assert match, f"no section for {policy_id}"
    return match.group(1)


@pytest.mark.parametrize("checkov_id", sorted(REFERENCE_CHECKOV))
def test_every_reference_checkov_id_is_mapped_in_docs_and_rules(checkov_id: str) -> None:
    policy_id = REFERENCE_CHECKOV[checkov_id]
    assert checkov_id in REGISTRY[policy_id].checkov_ids
    rows = [line for line in DOCS.splitlines() if line.startswith(f"| {checkov_id} |")]
    assert len(rows) == 1 and f"[`{policy_id}`]" in rows[0]


@pytest.mark.parametrize("policy_id", POLICY_IDS)
def test_every_policy_id_has_a_section(policy_id: str) -> None:
    section = _section(policy_id)
    if policy_id in REGISTRY:
        spec = REGISTRY[policy_id]
        assert "**What it checks**" in section and "**Enforcement:**" in section and "**Remediation:**" in section
        for tokens in spec.resource_types.values():
            assert all(f"`{t}`" in section for t in tokens)
        assert all(f"`{c}`" in section for c in spec.checkov_ids)


def test_docs_show_how_to_run_the_pack_and_the_check() -> None:
    assert "pulumi preview --policy-pack policies/mlops-guardrails" in DOCS
    assert "--policy-pack-config" in DOCS and "mlops-infra check" in DOCS and "--policy-config" in DOCS
    for key in (
        "requiredTagKeys",
        "allowedInstanceTypes",
        "protectedEnvironments",
        "allowPublicMarker",
        "maxKeyRotationDays",
        "enforcement",
    ):
        assert f"`{key}`" in DOCS
