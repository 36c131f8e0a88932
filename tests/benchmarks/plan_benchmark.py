"""Benchmark: mlops-infra against what a user would write without it, at every scale, in one run.

Not collected by pytest (no ``test_`` prefix); it prints figures and asserts nothing. Run:

    uv run --all-extras python tests/benchmarks/plan_benchmark.py                 # everything
    uv run --all-extras python tests/benchmarks/plan_benchmark.py --n 1 10 --rules-n 1 50 --no-cli

Sections (each measurement in a fresh process, so peak RSS belongs to that run alone):

First the site-packages and the project are byte-compiled (as pip does at install), so cold
processes are compared as a user's installation runs them.

1. Scale (``--n``, default 1 10 50 200): the AWS stack (stacks/aws-sagemaker, prod) with N endpoints,
   planned cold and warm (best of three warm runs in each of two processes, the modes interleaved);
   the same custom resources registered as raw typed ``pulumi_aws`` classes
   (top-level inputs as keyword arguments, no components, no transform), once with plain values
   ("typed") and once with the plan's data flow ("wired": each input taken from other resources
   passed as an Output of them), "wired" under the plan's tree of component resources ("tree"), and
   as generic ``pulumi.CustomResource``, all under the same mocks
   and with the collector off as the CLI runs; ratios to each (warm), peak RSS, rule evaluation and
   schema-conformance time. Target: plan <= 1.2x typed at every N.
2. Rule evaluation (``--rules-n``, default 1 50 200 400): ``evaluate_stack`` on the N-endpoint plan
   (best of 3) and its growth factor per doubling of resources (1.0 = linear).
3. Cold CLI (``--no-cli`` skips): ``mlops-infra --help``, and ``plan`` and ``check`` of each shipped
   stack, wall seconds and peak RSS. Targets: ``--help`` <= 0.2 s.
4. checkov (optional, never a dependency): when ``checkov`` is installed, ``check`` of the shipped
   stack and of the largest N plan against checkov on the same resources converted to a Terraform
   plan JSON (type tokens mapped by name: ``aws:s3/bucketV2:BucketV2`` -> ``aws_s3_bucket_v2``,
   top-level inputs snake_cased; approximate), run offline (``--skip-download``); the line shows
   how many checks checkov ran, so an empty comparison is visible. Install it apart from the
   project (``uv tool install checkov``); otherwise it prints "checkov: not installed".
"""

from __future__ import annotations

import argparse
import gc
import importlib
import importlib.util
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
STACK = ROOT / "stacks" / "aws-sagemaker"
SHIPPED = [("aws-sagemaker", "prod"), ("gcp-vertex", "prod"), ("k8s-kserve", "prod"), ("platform", "multi-prod")]
WORK = Path(tempfile.gettempdir())
WARM_RUNS = 3  # warm figures are the best of these: a shared 2-core machine varies by 15 % run to run
ROUNDS = 2  # each scale measurement in this many processes, interleaved; the best warm figure counts


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


def _overrides(count: int) -> list[str]:
    """``--config`` overrides for N endpoints; N = 0 is the shipped stack as it is."""
    return [f"endpoints={json.dumps(endpoint_specs(count))}"] if count else []


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def _raw_file(count: int) -> Path:
    return WORK / f"mlops-benchmark-raw-{count}.json"


def _tree_file(count: int) -> Path:
    """The plan's component resources (urn, type, name, parent), for the ``tree`` baseline."""
    return WORK / f"mlops-benchmark-tree-{count}.json"


def measure_plan(count: int) -> dict[str, Any]:
    """Plan cold (provider submodules load lazily), then warm; time rules and schema checks.

    The data flow the baselines replay is recorded in one more, untimed run, so the recording
    does not weigh on the plan's figures.
    """
    from mlops_infra.engine import run_program
    from mlops_infra.engine.conformance import check_stack
    from mlops_infra.policy.evaluate import evaluate_stack

    timings = []
    for _ in range(1 + WARM_RUNS):
        gc.collect()  # the previous run's garbage (collection is off during runs), so peak RSS is one run's
        started = time.perf_counter()
        stack = run_program(STACK, "prod", _overrides(count))
        timings.append(time.perf_counter() - started)
    started = time.perf_counter()
    violations = evaluate_stack(stack)
    rules = time.perf_counter() - started
    started = time.perf_counter()
    report = check_stack(stack)
    schema = time.perf_counter() - started
    wiring = _record_wiring()
    gc.collect()
    recorded = run_program(STACK, "prod", _overrides(count))
    assert recorded.to_json() == stack.to_json(), "the recorded run planned something else"
    order = {urn: index for index, urn in enumerate(wiring)}
    raw = [
        {
            "urn": r.urn,
            "type": r.type,
            "name": r.name,
            "inputs": r.inputs,
            "wired": wiring.get(r.urn, {}),
            "parent": r.parent,
        }
        for r in sorted(stack.custom_resources(), key=lambda r: order.get(r.urn, len(order)))
    ]
    _raw_file(count).write_text(json.dumps(raw))
    tree = [{"urn": r.urn, "type": r.type, "name": r.name, "parent": r.parent} for r in stack.resources if not r.custom]
    _tree_file(count).write_text(json.dumps(tree))
    return {
        "resources": len(stack.resources),
        "cold": timings[0],
        "seconds": min(timings[1:]),
        "rss_mb": _peak_rss_mb(),
        "rules": rules,
        "violations": len(violations),
        "schema": schema,
        "schema_errors": len(report.errors),
    }


def _record_wiring() -> dict[str, dict[str, list[str]]]:
    """Each registration's per-property dependencies (``propertyDependencies``), in registration order.

    The wired baseline replays them: an input that came from another resource's output is passed as
    an Output of that resource, as a user writing the resources by hand would (``role.arn``).
    """
    from mlops_infra.engine import monitor

    wiring: dict[str, dict[str, list[str]]] = {}
    register = monitor.CaptureMonitor.RegisterResource

    def recording(self: Any, request: Any) -> Any:
        response = register(self, request)
        if request.custom:
            wiring[response.urn] = {key: list(deps.urns) for key, deps in request.propertyDependencies.items()}
        return response

    monitor.CaptureMonitor.RegisterResource = recording  # type: ignore[method-assign]
    return wiring


def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


def typed_class(token: str) -> Any:
    """``aws:s3/bucketV2:BucketV2`` -> ``pulumi_aws.s3.BucketV2`` (None when the SDK has no such class)."""
    package, module, name = token.split(":")
    try:
        return getattr(importlib.import_module(f"pulumi_{package}.{module.split('/')[0]}"), name)
    except (ImportError, AttributeError):
        return None


def measure_registration(count: int, mode: str) -> dict[str, Any]:
    """The same custom resources registered raw under the same mocks.

    ``typed``: typed provider classes with every input a plain value (no resource depends on another);
    ``wired``: typed classes, and each input that came from other resources' outputs passed as an
    Output of those resources (what hand-written code does with ``role.arn``); ``tree``: ``wired``,
    each resource under the plan's tree of component resources (plain ``ComponentResource``s of the
    same types and names, each registering empty outputs); ``generic``: ``pulumi.CustomResource``
    with plain inputs.
    """
    import inspect

    import pulumi

    from mlops_infra.engine import run_function

    raw = json.loads(_raw_file(count).read_text())
    dropped = 0
    plans: list[tuple[Any, str, dict[str, Any], dict[str, Any]]] = []
    for index, item in enumerate(raw):
        name = f"{item['name']}-{index}"
        cls = typed_class(item["type"]) if mode != "generic" else None
        if cls is None:
            plans.append((None, name, item, {}))
            continue
        accepted = set(inspect.signature(cls._internal_init).parameters)
        kwargs, wired = {}, {}
        for key, value in item["inputs"].items():
            if _snake(key) not in accepted:
                dropped += 1
            elif mode in ("wired", "tree") and item["wired"].get(key):
                wired[_snake(key)] = (item["wired"][key], value)
            else:
                kwargs[_snake(key)] = value
        parent = item.get("parent") if mode == "tree" else None
        plans.append((cls, name, kwargs, {"urn": item["urn"], "wired": wired, "parent": parent}))
    components = {c["urn"]: c for c in json.loads(_tree_file(count).read_text())} if mode == "tree" else {}

    def program() -> None:
        created: dict[str, pulumi.Resource] = {}
        tree: dict[str, pulumi.ComponentResource] = {}

        def component(urn: str | None) -> pulumi.ComponentResource | None:
            if urn is None or urn not in components:
                return None
            if urn not in tree:
                spec = components[urn]
                above = component(spec["parent"])
                tree[urn] = pulumi.ComponentResource(
                    spec["type"], spec["name"], None, pulumi.ResourceOptions(parent=above) if above else None
                )
            return tree[urn]

        for cls, name, payload, extra in plans:
            if cls is None:
                pulumi.CustomResource(payload["type"], name, payload["inputs"])
                continue
            inputs = dict(payload)
            for key, (urns, value) in extra["wired"].items():
                sources = [created[urn].urn for urn in urns if urn in created]
                inputs[key] = pulumi.Output.all(*sources).apply(lambda _, value=value: value) if sources else value
            parent = component(extra.get("parent"))
            opts = pulumi.ResourceOptions(parent=parent) if parent is not None else None
            created[extra["urn"]] = cls(name, **inputs, opts=opts)
        for each in tree.values():
            each.register_outputs({})

    timings = []
    for _ in range(1 + WARM_RUNS):
        gc.collect()  # as in measure_plan
        started = time.perf_counter()
        stack = run_function(program, project="raw", stack="prod")
        timings.append(time.perf_counter() - started)
    generic = sum(1 for cls, _, _, _ in plans if cls is None)
    wired_inputs = sum(len(extra.get("wired", {})) for _, _, _, extra in plans)
    return {
        "resources": len(stack.resources),
        "cold": timings[0],
        "seconds": min(timings[1:]),
        "rss_mb": _peak_rss_mb(),
        "generic": generic,
        "dropped_inputs": dropped,
        "wired_inputs": wired_inputs,
    }


def measure_rules(count: int) -> dict[str, Any]:
    """Rule evaluation alone on the N-endpoint plan: best of three."""
    from mlops_infra.engine import run_program
    from mlops_infra.policy.evaluate import evaluate_stack

    stack = run_program(STACK, "prod", _overrides(count))
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        evaluate_stack(stack)
        best = min(best, time.perf_counter() - started)
    return {"resources": len(stack.resources), "rules": best}


def _child(mode: str, count: int) -> None:
    """Import the SDKs first in every mode, so the timings compare registration, not imports."""
    warnings.filterwarnings("ignore")
    gc.disable()  # as the CLI runs: no collection during or after the run (it exits instead)
    import pulumi_aws  # noqa: F401

    import mlops_infra.aws
    import mlops_infra.aws.model_monitor  # noqa: F401

    if mode == "plan":
        result = measure_plan(count)
    elif mode == "rules":
        result = measure_rules(count)
    else:
        result = measure_registration(count, mode)
    print(json.dumps(result))


def _run_child(mode: str, count: int) -> dict[str, Any]:
    completed = subprocess.run(
        [sys.executable, __file__, "--child", mode, str(count)], capture_output=True, text=True, check=False
    )
    if completed.returncode != 0:
        raise SystemExit(f"{mode} N={count} failed:\n{completed.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
    return result


def timed_process(argv: list[str], stdout: Path | None = None) -> tuple[float, float, int]:
    """(wall seconds, peak RSS MB, exit code) of one command in a fresh process (its output to ``stdout``)."""
    started = time.perf_counter()
    with open(stdout or os.devnull, "wb") as sink:
        process = subprocess.Popen(argv, stdout=sink, stderr=subprocess.DEVNULL)
        _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    return time.perf_counter() - started, usage.ru_maxrss / 1024, process.returncode


def scale_section(counts: list[int]) -> None:
    print("== 1. plan vs the same resources as raw typed provider classes, wired or not, vs generic (warm, seconds)")
    header = (
        f"{'N':>4} {'resources':>9} {'plan cold':>9} {'plan':>6} {'typed':>6} {'wired':>6} {'tree':>6} "
        f"{'generic':>7} {'plan/typed':>10} {'plan/wired':>10} {'plan/tree':>9} {'plan/generic':>12} "
        f"{'RSS MB':>6} {'typed RSS':>9} {'rules 1st':>9} {'schema s':>8}"
    )
    print(header)
    print("-" * len(header))
    notes = []
    modes = ("plan", "typed", "wired", "tree", "generic")
    for count in counts:
        # Interleaved rounds: a slow spell of the machine hits every mode, and the best process counts.
        rounds = [{mode: _run_child(mode, count) for mode in modes} for _ in range(ROUNDS)]
        planned, typed, wired, tree, generic = (
            min((r[mode] for r in rounds), key=lambda result: result["seconds"]) for mode in modes
        )
        plan = planned["seconds"]
        print(
            f"{count:>4} {planned['resources']:>9} {planned['cold']:>9.2f} {plan:>6.2f} {typed['seconds']:>6.2f} "
            f"{wired['seconds']:>6.2f} {tree['seconds']:>6.2f} {generic['seconds']:>7.2f} "
            f"{plan / typed['seconds']:>10.2f} {plan / wired['seconds']:>10.2f} {plan / tree['seconds']:>9.2f} "
            f"{plan / generic['seconds']:>12.2f} {planned['rss_mb']:>6.0f} {typed['rss_mb']:>9.0f} "
            f"{planned['rules']:>9.3f} {planned['schema']:>8.3f}"
        )
        notes.append(
            f"N={count}: typed run registered {typed['generic']} resources generically (no typed class) and "
            f"left out {typed['dropped_inputs']} top-level inputs its constructor does not take; the wired run "
            f"passed {wired['wired_inputs']} inputs as Outputs of the resources they came from; the tree run "
            f"registered {tree['resources'] - wired['resources']} component resources"
        )
    print("\n".join(notes))
    print(
        "target: plan <= 1.2x typed at every N; 5,000 resources plan + check <= 15 s and <= 1 GB peak RSS.\n"
        "typed: every input a plain value, so no resource waits for another; wired: the same classes with the\n"
        "plan's data flow (role.arn into the model, as hand-written code has it): closer to a user's own program;\n"
        "tree: wired, each resource under the plan's tree of (empty) component resources"
    )


def rules_section(counts: list[int]) -> None:
    print("\n== 2. rule evaluation (evaluate_stack, best of 3) and its growth")
    print(f"{'N':>4} {'resources':>9} {'rules s':>8} {'ms/res':>7} {'growth':>7}")
    previous: dict[str, Any] | None = None
    for count in counts:
        result = _run_child("rules", count)
        growth = ""
        if previous is not None:
            # time ratio over resource ratio: 1.0 is linear, 2.0 per doubling is quadratic
            ratio = (result["rules"] / previous["rules"]) / (result["resources"] / previous["resources"])
            growth = f"{ratio:.2f}"
        print(
            f"{count:>4} {result['resources']:>9} {result['rules']:>8.3f} "
            f"{1000 * result['rules'] / result['resources']:>7.3f} {growth:>7}"
        )
        previous = result
    print("growth: (time ratio) / (resource ratio) against the previous row; 1.0 = linear. Target: <= 0.5 s at 5,000")


def cli_section() -> None:
    print("\n== 3. cold CLI (fresh process each; wall seconds, peak RSS MB)")
    cli = [sys.executable, "-m", "mlops_infra.cli"]
    seconds, rss, _ = timed_process([*cli, "--help"])
    print(f"{'--help':<34} {seconds:>6.2f} s {rss:>6.0f} MB   (target <= 0.2 s)")
    for stack_dir, stack in SHIPPED:
        for command in ("plan", "check"):
            seconds, rss, code = timed_process([*cli, command, str(ROOT / "stacks" / stack_dir), "--stack", stack])
            label = f"{command} {stack_dir} {stack}"
            print(f"{label:<34} {seconds:>6.2f} s {rss:>6.0f} MB   (exit {code})")


def terraform_plan(raw: list[dict[str, Any]]) -> dict[str, Any]:
    """An approximate Terraform plan JSON of the captured AWS resources, for checkov.

    checkov reads the resources from ``planned_values`` (``resource_changes`` only adds the actions).
    """
    resources, changes = [], []
    for index, item in enumerate(raw):
        package, module, name = item["type"].split(":")
        tf_type = f"{package}_{module.split('/')[0]}_{_snake(name)}".replace("-", "_")
        after = {_snake(k): v for k, v in item["inputs"].items()}
        address = f"{tf_type}.r{index}"
        resources.append(
            {
                "address": address,
                "mode": "managed",
                "type": tf_type,
                "name": f"r{index}",
                "provider_name": "registry.terraform.io/hashicorp/aws",
                "values": after,
            }
        )
        change = {"actions": ["create"], "before": None, "after": after}
        changes.append({"address": address, "mode": "managed", "type": tf_type, "name": f"r{index}", "change": change})
    return {
        "format_version": "1.2",
        "terraform_version": "1.9.8",
        "planned_values": {"root_module": {"resources": resources}},
        "resource_changes": changes,
    }


def checkov_section(counts: list[int]) -> None:
    """``check`` vs checkov, cold, for each N (0: the shipped stack as it is)."""
    print("\n== 4. check vs checkov on the converted plan (cold processes)")
    binary = shutil.which("checkov")
    if binary is None and importlib.util.find_spec("checkov") is None:
        print("checkov: not installed (optional; pip install checkov in a separate environment to compare)")
        return
    for count in counts:
        _checkov_row(binary, count)


def _checkov_row(binary: str | None, count: int) -> None:
    raw_path = _raw_file(count)
    if not raw_path.exists():
        _run_child("plan", count)
    plan_file = WORK / f"mlops-benchmark-tfplan-{count}.json"
    plan_file.write_text(json.dumps(terraform_plan(json.loads(raw_path.read_text()))))
    report_file = WORK / f"mlops-benchmark-checkov-{count}.json"
    os.environ.setdefault("BC_SKIP_MAPPING", "TRUE")  # offline: no guideline download
    ours, _, _ = timed_process(
        [sys.executable, "-m", "mlops_infra.cli", "check", str(STACK), "--stack", "prod"]
        + [argument for override in _overrides(count) for argument in ("-c", override)]
    )
    theirs, _, _ = timed_process(
        [
            binary or sys.executable,
            *([] if binary else ["-m", "checkov.main"]),
            *("-f", str(plan_file), "--framework", "terraform_plan", "--skip-download", "--compact", "-o", "json"),
        ],
        stdout=report_file,
    )
    try:  # the summary shows checkov really evaluated the converted resources
        report = json.loads(report_file.read_text() or "{}")
        summary = (report[0] if isinstance(report, list) else report).get("summary", {})
        ran = f"{summary.get('passed', 0)} passed, {summary.get('failed', 0)} failed checks"
    except (ValueError, AttributeError, IndexError):
        ran = "its report could not be read"
    label = f"N={count}" if count else "shipped aws-sagemaker prod"
    print(
        f"{label}: mlops-infra check {ours:.2f} s, checkov {theirs:.2f} s ({ran}), ratio {ours / theirs:.2f} "
        "(target <= 0.5)"
    )


def byte_compile() -> None:
    """Write the .pyc files a normal installation has, so cold processes compare with checkov's.

    pip compiles packages when it installs them; uv compiles lazily on first import, which
    ``PYTHONDONTWRITEBYTECODE=1`` (set on some machines) turns into compiling the provider SDKs again
    in every process: about 1 s of each cold command. Files already compiled are only checked.
    """
    import compileall
    import sysconfig

    started = time.perf_counter()
    targets = [Path(sysconfig.get_paths()["purelib"]), ROOT / "mlops_infra", ROOT / "stacks"]
    for target in targets:
        compileall.compile_dir(target, quiet=2, workers=0)
    seconds = time.perf_counter() - started
    print(f"byte-compiled site-packages and the project ({seconds:.1f} s; as pip does at install)\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, nargs="+", default=[1, 10, 50, 200], help="endpoint counts (section 1)")
    parser.add_argument("--rules-n", type=int, nargs="+", default=[1, 50, 200, 400], help="endpoint counts (2)")
    parser.add_argument("--no-cli", action="store_true", help="skip the cold CLI section")
    parser.add_argument("--child", nargs=2, metavar=("MODE", "N"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.child[0], int(args.child[1]))
        return
    byte_compile()
    scale_section(args.n)
    rules_section(args.rules_n)
    if not args.no_cli:
        cli_section()
    checkov_section([0, args.n[-1]])


if __name__ == "__main__":
    main()
