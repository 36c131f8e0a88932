"""The ``mlops-guardrails`` policy pack: the mlops-infra rule library for ``pulumi preview/up``.

    pulumi preview --policy-pack policies/mlops-guardrails
    pulumi preview --policy-pack policies/mlops-guardrails --policy-pack-config policy-config.json

Policy levels follow the stack's ``environment`` config (mandatory in protected environments,
advisory in dev except required-tags, encryption-at-rest and no-public-access). Settings come
from ``--policy-pack-config`` (per-policy properties and enforcementLevel) and, for settings shared
by every policy (protectedEnvironments, enforcement overrides), from the file named by
MLOPS_INFRA_POLICY_CONFIG (the same file ``mlops-infra check --policy-config`` reads).

This is the only place a PolicyPack is constructed: its constructor serves gRPC until the engine stops it.
"""

import os

from pulumi_policy import EnforcementLevel, PolicyPack

from mlops_infra.policy.config import load_policy_config
from mlops_infra.policy.pack import PACK_NAME, build_policies, pack_initial_config

config = load_policy_config(os.environ.get("MLOPS_INFRA_POLICY_CONFIG") or None)
resource_policies, stack_policies = build_policies(config)

PolicyPack(
    name=PACK_NAME,
    enforcement_level=EnforcementLevel.ADVISORY,  # every policy sets its own level; this is only the fallback
    policies=[*resource_policies, *stack_policies],
    initial_config=pack_initial_config(config, [*resource_policies, *stack_policies]),
    description="mlops-infra guardrails: encryption, tagging, exposure, IAM and ML deployment safety.",
)
