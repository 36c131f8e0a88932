"""The offline engine: run a Pulumi program under mocks and capture its resource graph.

The runner (and with it the Pulumi SDK) loads on first use of ``run_program``, ``run_function``
or ``format_validation_error``, so importing ``mlops_infra.engine.errors`` or ``.captured``
(as ``mlops-infra --help`` does) stays cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from mlops_infra.engine.captured import CapturedResource, CapturedStack, SourcePosition
from mlops_infra.engine.errors import ProgramError

if TYPE_CHECKING:
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

_LAZY = dict.fromkeys(("format_validation_error", "run_function", "run_program"), "mlops_infra.engine.runner")


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is not None:
        return getattr(importlib.import_module(module), name)
    raise AttributeError(f"module 'mlops_infra.engine' has no attribute {name!r}")
