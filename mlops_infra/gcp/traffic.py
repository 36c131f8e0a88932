"""Traffic splits across an endpoint's deployed model versions (percentages per deployment key)."""

from __future__ import annotations

from collections.abc import Iterable


def check_traffic_steps(steps: list[dict[str, int]], deployment_keys: Iterable[str]) -> None:
    """Each step names only declared deployments, uses 0-100 shares, and sums to exactly 100."""
    keys = list(deployment_keys)
    if not steps:
        raise ValueError("traffic_steps needs at least one split (the final one)")
    for index, step in enumerate(steps):
        if not step:
            raise ValueError(f"traffic_steps[{index}] is empty; a split must send 100% somewhere")
        unknown = sorted(set(step) - set(keys))
        if unknown:
            raise ValueError(
                f"traffic_steps[{index}] names {unknown}, which is not a deployed version (deployments: {keys})"
            )
        bad = sorted(k for k, v in step.items() if not isinstance(v, int) or isinstance(v, bool) or not 0 <= v <= 100)
        if bad:
            raise ValueError(f"traffic_steps[{index}]: shares of {bad} must be whole percentages 0-100")
        total = sum(step.values())
        if total != 100:
            raise ValueError(f"traffic_steps[{index}] sums to {total}, not 100")


def renormalize(split: dict[str, int]) -> dict[str, int]:
    """Scale shares to sum to 100 (largest remainder); an all-zero split stays empty (no traffic)."""
    total = sum(split.values())
    if total <= 0:
        return {}
    exact = {k: v * 100 / total for k, v in split.items()}
    result = {k: int(v) for k, v in exact.items()}
    for key in sorted(exact, key=lambda k: exact[k] - result[k], reverse=True)[: 100 - sum(result.values())]:
        result[key] += 1
    return result
