"""Provider-schema conformance: every custom resource's inputs against the installed provider SDK's input types.

See docs/schema-conformance.md for what is validated and what is not.
"""

from mlops_infra.engine.conformance.report import SchemaError, SchemaReport, SchemaSkip, check_resource, check_stack

__all__ = ["SchemaError", "SchemaReport", "SchemaSkip", "check_resource", "check_stack"]
