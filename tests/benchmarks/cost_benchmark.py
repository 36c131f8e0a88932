"""Benchmark: what pricing adds to `check` on the AWS stack scaled to N endpoints.

Not collected by pytest (no ``test_`` prefix). Run:

    uv run python tests/benchmarks/cost_benchmark.py            # N = 50
    uv run python tests/benchmarks/cost_benchmark.py --n 10 50 --repeat 5

For each N it plans the stack once, then times (median of --repeat runs, in one warm process):
the whole rule evaluation of `check` (cost-budget included), the cost-budget rule alone, and
the estimator alone (`estimate_stack`, what `mlops-infra cost` adds after the plan). It prints the
cost-budget share of `check` (plan + rules) and the estimator's time per priced item.
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from plan_benchmark import STACK, endpoint_specs


def _median(action: Callable[[], Any], repeat: int) -> float:
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        timings.append(time.perf_counter() - started)
    return statistics.median(timings)


def measure(count: int, repeat: int) -> dict[str, float]:
    import json

    from mlops_infra.cost.estimate import estimate_stack
    from mlops_infra.engine import run_program
    from mlops_infra.policy.config import PolicyConfig
    from mlops_infra.policy.evaluate import evaluate_stack, stack_view, stack_violations
    from mlops_infra.policy.rules import REGISTRY
    from mlops_infra.policy.rules.cost_budget import catalogue_for

    started = time.perf_counter()
    stack = run_program(STACK, "prod", [f"endpoints={json.dumps(endpoint_specs(count))}"])
    plan_seconds = time.perf_counter() - started
    config = PolicyConfig()
    catalogue = catalogue_for(config)
    view = stack_view(stack)
    rules = _median(lambda: evaluate_stack(stack, config), repeat)
    rule = _median(lambda: stack_violations(REGISTRY["cost-budget"], view, config), repeat)
    estimator = _median(lambda: estimate_stack(stack, catalogue), repeat)
    items = len(estimate_stack(stack, catalogue).items)
    return {
        "resources": len(stack.resources),
        "plan": plan_seconds,
        "rules": rules,
        "rule": rule,
        "estimator": estimator,
        "items": items,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, nargs="+", default=[50], help="endpoint counts (default 50)")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per measurement (median)")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    print(f"stack: {Path(STACK).name} prod; times are medians of {args.repeat} warm runs")
    header = "| N | resources | plan s | rules s | cost-budget s | share of check | estimator s | ms/item |"
    print(header)
    print("|---" * 8 + "|")
    for count in args.n:
        m = measure(count, args.repeat)
        check = m["plan"] + m["rules"]
        per_item_ms = 1000 * m["estimator"] / max(m["items"], 1)
        print(
            f"| {count} | {m['resources']:.0f} | {m['plan']:.2f} | {m['rules']:.3f} | {m['rule']:.3f} | "
            f"{100 * m['rule'] / check:.1f} % | {m['estimator']:.3f} | {per_item_ms:.2f} |"
        )


if __name__ == "__main__":
    main()
