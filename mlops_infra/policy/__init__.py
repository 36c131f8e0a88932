"""Guardrails: one rule library for the policy pack, ``mlops-infra check`` and tests.

Rules are plain functions over (resource type, wire-format props, options) or over the whole
stack; see ``mlops_infra.policy.rules`` for the registry and docs/policies.md for every rule.
"""
