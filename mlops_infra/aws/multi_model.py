"""Which SageMaker instance types can host a multi-model endpoint (container ``Mode: MultiModel``).

From the SageMaker developer guide, "Supported algorithms, frameworks, and instances for multi-model
endpoints": every CPU instance type; GPU types only in the families listed there (served through the
Triton Inference Server). Inferentia, Trainium and newer GPU families are not listed, so they are refused.
"""

from __future__ import annotations

# Instance families of CPU types (ml.<family>.<size>): general purpose, compute, memory, burstable.
CPU_FAMILY_LETTERS = ("c", "m", "r", "t", "x")
# GPU families the guide lists for multi-model endpoints.
MULTI_MODEL_GPU_FAMILIES = frozenset({"p2", "p3", "g4dn", "g5"})


def family(instance_type: str) -> str:
    """The family of ``ml.<family>.<size>`` (``m5`` of ``ml.m5.large``)."""
    parts = instance_type.split(".")
    return parts[1] if len(parts) == 3 else instance_type


def multi_model_problem(instance_type: str) -> str | None:
    """Why ``instance_type`` cannot host a multi-model endpoint, or None when it can."""
    name = family(instance_type)
    if name.startswith(("inf", "trn")):
        return f"{instance_type} is an Inferentia/Trainium type; multi-model endpoints run on CPU or listed GPU types"
    if name[:1] in CPU_FAMILY_LETTERS or name in MULTI_MODEL_GPU_FAMILIES:
        return None
    return (
        f"{instance_type}: multi-model endpoints run on every CPU type and on the GPU families "
        f"{sorted(MULTI_MODEL_GPU_FAMILIES)} only"
    )
