"""The offline engine: run a Pulumi program under mocks and capture its resource graph."""

from mlops_infra.engine.captured import CapturedResource, CapturedStack, SourcePosition
from mlops_infra.engine.errors import ProgramError
from mlops_infra.engine.runner import format_validation_error, run_function, run_program

__all__ = [
    "CapturedResource",
    "CapturedStack",
    "ProgramError",
    "SourcePosition",
    "format_validation_error",
    "run_function",
    "run_program",
]
