"""key-rotation: customer-managed keys rotate automatically, at least every ``maxKeyRotationDays`` (365).

Only symmetric encryption keys can rotate automatically; asymmetric, HMAC and imported keys are
out of scope (AWS and Cloud KMS reject automatic rotation for them).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from mlops_infra.policy.context import RuleContext
from mlops_infra.policy.model import Finding, ResourceView
from mlops_infra.policy.rules.common import Handler, covered_types, dispatch, subject
from mlops_infra.policy.spec import PolicySpec
from mlops_infra.policy.values import is_true, known

ID = "key-rotation"
SECONDS_PER_DAY = 86_400
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)s$")


def _aws_key(view: ResourceView, ctx: RuleContext) -> Iterator[Finding]:
    spec = known(view.props.get("customerMasterKeySpec"), "customerMasterKeySpec") or "SYMMETRIC_DEFAULT"
    usage = known(view.props.get("keyUsage"), "keyUsage") or "ENCRYPT_DECRYPT"
    if spec != "SYMMETRIC_DEFAULT" or usage != "ENCRYPT_DECRYPT":
        return
    if not is_true(view.props.get("enableKeyRotation"), "enableKeyRotation"):
        yield Finding(
            f"{subject(view)}: automatic rotation is off. Set enableKeyRotation: true "
            f"(and rotationPeriodInDays <= {ctx.config.max_key_rotation_days})."
        )
        return
    period = known(view.props.get("rotationPeriodInDays"), "rotationPeriodInDays")
    if isinstance(period, (int, float)) and period > ctx.config.max_key_rotation_days:
        yield Finding(
            f"{subject(view)}: rotationPeriodInDays is {int(period)}; set it to at most "
            f"{ctx.config.max_key_rotation_days}."
        )


def _gcp_key(view: ResourceView, ctx: RuleContext) -> Iterator[Finding]:
    purpose = known(view.props.get("purpose"), "purpose") or "ENCRYPT_DECRYPT"
    if purpose != "ENCRYPT_DECRYPT" or is_true(view.props.get("importOnly"), "importOnly"):
        return
    period = known(view.props.get("rotationPeriod"), "rotationPeriod")
    limit = ctx.config.max_key_rotation_days
    if not period:
        yield Finding(
            f"{subject(view)}: the key never rotates. Set rotationPeriod (for example "
            f'"{limit * SECONDS_PER_DAY}s" = {limit} days).'
        )
        return
    match = _DURATION.match(str(period))
    if match and float(match.group(1)) > limit * SECONDS_PER_DAY:
        days = float(match.group(1)) / SECONDS_PER_DAY
        yield Finding(
            f"{subject(view)}: rotationPeriod is {period} ({days:.0f} days); set it to at most "
            f'"{limit * SECONDS_PER_DAY}s" ({limit} days).'
        )


HANDLERS: dict[str, Handler] = {"aws:kms/key:Key": _aws_key, "gcp:kms/cryptoKey:CryptoKey": _gcp_key}

SPEC = PolicySpec(
    id=ID,
    title="KMS and Cloud KMS keys rotate at least yearly",
    description="Symmetric customer-managed keys rotate automatically within maxKeyRotationDays (365 by default).",
    remediation='AWS: enableKeyRotation: true, rotationPeriodInDays <= 365. GCP: rotationPeriod <= "31536000s".',
    resource_types=covered_types(HANDLERS),
    checkov_ids=("CKV_AWS_7", "CKV_GCP_43"),
    resource_check=dispatch(HANDLERS),
    config_properties=("maxKeyRotationDays",),
)
