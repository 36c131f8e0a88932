"""Test helpers for users' own stacks (and ours): plan offline, then assert on the graph.

Use as a pytest plugin (``pytest -p mlops_infra.testing.plugin``) or call :func:`plan` directly.
"""

from mlops_infra.testing.assertions import child_resources, every_string, iam_statements, one, required_tags_present
from mlops_infra.testing.planning import DEFAULT_TEST_CONFIG, plan

__all__ = [
    "DEFAULT_TEST_CONFIG",
    "child_resources",
    "every_string",
    "iam_statements",
    "one",
    "plan",
    "required_tags_present",
]
