"""Compute Engine machine types as kfp step limits: Vertex Pipelines picks the machine that fits them."""

from __future__ import annotations

import math
import re

# Memory per vCPU of the Compute Engine machine families Vertex offers, GB.
MEMORY_PER_VCPU_GB: dict[tuple[str, str], float] = {
    ("n1", "standard"): 3.75,
    ("n1", "highmem"): 6.5,
    ("n1", "highcpu"): 0.9,
    ("e2", "standard"): 4,
    ("e2", "highmem"): 8,
    ("e2", "highcpu"): 1,
    ("n2", "standard"): 4,
    ("n2", "highmem"): 8,
    ("n2", "highcpu"): 1,
    ("n2d", "standard"): 4,
    ("n2d", "highmem"): 8,
    ("n2d", "highcpu"): 1,
    ("c2", "standard"): 4,
}
_MACHINE = re.compile(r"^(?P<family>[a-z0-9]+)-(?P<kind>[a-z]+)-(?P<cpus>[0-9]+)$")


def step_limits(machine_type: str) -> tuple[str | None, str | None]:
    """vCPU and memory of a machine type as kfp step limits (Vertex picks the machine that fits them)."""
    match = _MACHINE.fullmatch(machine_type)
    if match is None:
        return None, None
    cpus = int(match["cpus"])
    per_cpu = MEMORY_PER_VCPU_GB.get((match["family"], match["kind"]))
    memory = f"{math.floor(cpus * per_cpu)}G" if per_cpu is not None else None
    return str(cpus), memory
