"""Benchmark: offline plan of the AWS stack scaled to N endpoints, against raw registration.

Not collected by pytest (no ``test_`` prefix). Run:

    uv run python tests/benchmarks/plan_benchmark.py            # N = 1, 10, 50
    uv run python tests/benchmarks/plan_benchmark.py --n 1 5

For each N it prints resources, the cold (first) and warm (second) plan time in one process,
ms per resource (warm) and peak RSS of the plan, then
the same captured custom resources registered raw (``pulumi.CustomResource`` with identical
inputs, no components, no transform) under the same mocks, and the time of the provider-schema
conformance check on each plan (cold: first check in the process, building the type index;
warm: the second) as a percentage of that plan. Each measurement runs in a fresh process, so
peak RSS belongs to that run alone.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
import warnings
from pathlib import Path
from typing import Any

STACK = Path(__file__).resolve().parents[2] / "stacks" / "aws-sagemaker"


def endpoint_specs(count: int) -> list[dict[str, Any]]:
    """``count`` endpoint specs shaped like the stack's own (see stacks/aws-sagemaker/Pulumi.prod.yaml)."""
    return [
        {
            "name": f"churn-{index}",
            "minReplicas": 2,
            "maxReplicas": 4,
            "modelPackageArn": "arn:aws:sagemaker:us-east-1:123456789012:model-package/churn-prod-churn-models-group/7",
        }
        for index in range(count)
    ]


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def measure_plan(count: int) -> dict[str, Any]:
    """Plan twice: the first run also loads provider submodules lazily (cold); the second is warm.

    After each plan, the schema conformance check (what ``plan``/``check`` add) is timed on its own;
    the first check also builds the per-type index of the provider SDK types.
    """
    from mlops_infra.engine import run_program
    from mlops_infra.engine.conformance import check_stack

    overrides = [f"endpoints={json.dumps(endpoint_specs(count))}"]
    timings, checks = [], []
    for _ in range(2):
        started = time.perf_counter()
        stack = run_program(STACK, "prod", overrides)
        timings.append(time.perf_counter() - started)
        started = time.perf_counter()
        report = check_stack(stack)
        checks.append(time.perf_counter() - started)
    raw = [{"type": r.type, "name": r.name, "inputs": r.inputs} for r in stack.custom_resources()]
    Path(f"/tmp/mlops-benchmark-raw-{count}.json").write_text(json.dumps(raw))
    return {
        "resources": len(stack.resources),
        "cold": timings[0],
        "seconds": timings[1],
        "rss_mb": _peak_rss_mb(),
        "schema_cold": checks[0],
        "schema_warm": checks[1],
        "schema_errors": len(report.errors),
    }


def measure_raw(count: int) -> dict[str, Any]:
    """The same custom resources registered raw under the same mocks, cold then warm."""
    import pulumi

    from mlops_infra.engine import run_function

    raw = json.loads(Path(f"/tmp/mlops-benchmark-raw-{count}.json").read_text())

    def program() -> None:
        for index, item in enumerate(raw):
            pulumi.CustomResource(item["type"], f"{item['name']}-{index}", item["inputs"])

    timings = []
    for _ in range(2):
        started = time.perf_counter()
        stack = run_function(program, project="raw", stack="prod")
        timings.append(time.perf_counter() - started)
    return {"resources": len(stack.resources), "cold": timings[0], "seconds": timings[1], "rss_mb": _peak_rss_mb()}


def _child(mode: str, count: int) -> None:
    """Import the SDKs first in both modes, so the timings compare registration, not imports."""
    warnings.filterwarnings("ignore")
    started = time.perf_counter()
    import pulumi_aws  # noqa: F401

    import mlops_infra.aws
    import mlops_infra.aws.model_monitor  # noqa: F401

    imports = time.perf_counter() - started
    measure = measure_plan if mode == "plan" else measure_raw
    print(json.dumps({**measure(count), "import_seconds": imports}))


def _run_child(mode: str, count: int) -> dict[str, Any]:
    completed = subprocess.run(
        [sys.executable, __file__, "--child", mode, str(count)], capture_output=True, text=True, check=False
    )
    if completed.returncode != 0:
        raise SystemExit(f"{mode} N={count} failed:\n{completed.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, nargs="+", default=[1, 10, 50], help="endpoint counts")
    parser.add_argument("--child", nargs=2, metavar=("MODE", "N"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.child[0], int(args.child[1]))
        return
    header = (
        f"{'N':>4} {'resources':>9} {'cold s':>7} {'warm s':>7} {'ms/res':>7} {'peak RSS MB':>11} "
        f"| {'raw res':>7} {'raw warm s':>10} {'raw ms/res':>10} {'raw RSS MB':>10} | {'warm ratio':>10} "
        f"| {'schema cold s':>13} {'+% cold':>7} {'schema warm s':>13} {'+% warm':>7} {'errors':>6}"
    )
    print(header)
    print("-" * len(header))
    for count in args.n:
        planned = _run_child("plan", count)
        raw = _run_child("raw", count)
        plan_ms = 1000 * planned["seconds"] / planned["resources"]
        raw_ms = 1000 * raw["seconds"] / raw["resources"]
        print(
            f"{count:>4} {planned['resources']:>9} {planned['cold']:>7.2f} {planned['seconds']:>7.2f} "
            f"{plan_ms:>7.2f} {planned['rss_mb']:>11.0f} | {raw['resources']:>7} {raw['seconds']:>10.2f} "
            f"{raw_ms:>10.2f} {raw['rss_mb']:>10.0f} | {planned['seconds'] / raw['seconds']:>10.2f} "
            f"| {planned['schema_cold']:>13.3f} {100 * planned['schema_cold'] / planned['cold']:>6.1f}% "
            f"{planned['schema_warm']:>13.3f} {100 * planned['schema_warm'] / planned['seconds']:>6.1f}% "
            f"{planned['schema_errors']:>6}"
        )
    print("cold: first run in a fresh process (provider SDK submodules load lazily); warm: second run.")
    print("schema: the provider-schema conformance check on that plan; +%: its time over the plan's (target < 15 %).")


if __name__ == "__main__":
    main()
