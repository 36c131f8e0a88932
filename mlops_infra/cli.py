"""``mlops-infra``: plan, check and price a Pulumi program offline; print the platform spec's JSON Schema.

Exit codes: 0 ok; 1 mandatory policy violations or schema errors (check) or budget exceeded (cost);
2 bad usage, or a program or config error, shown as one paragraph with no traceback.
"""

from __future__ import annotations

import functools
import gc
import json
import os
import sys
import warnings
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from typer.core import TyperGroup, TyperOption

from mlops_infra.engine.captured import CapturedStack
from mlops_infra.engine.errors import ProgramError

if TYPE_CHECKING:
    from rich.console import Console, RenderableType

    from mlops_infra.engine.conformance import SchemaReport

EXIT_OK = 0
EXIT_VIOLATIONS = 1
EXIT_ERROR = 2


class _UnsetFlagOption(TyperOption):
    """A ``--help`` flag that nobody passed reads False without typer's pydantic coercion."""

    def process_value(self, ctx: Any, value: Any) -> Any:
        return super().process_value(ctx, False if value is None else value)


class _FastHelpGroup(TyperGroup):
    """The CLI's group: ``mlops-infra <command> --help`` imports no pydantic.

    typer coerces every parameter's value through a pydantic adapter, the group's unset
    ``--help`` (``None``) included; a flag already read as a bool skips that step.
    """

    def get_help_option(self, ctx: Any) -> Any:
        option = super().get_help_option(ctx)
        if option is not None and type(option) is TyperOption:
            option.__class__ = _UnsetFlagOption
        return option


app = typer.Typer(
    name="mlops-infra",
    cls=_FastHelpGroup,
    help="Plan, policy-check and price mlops-infra Pulumi programs offline: no cloud account, no Pulumi CLI.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # Click's plain help: typer's rich help loads rich's markdown, syntax and traceback modules (~0.17 s).
    rich_markup_mode=None,
)


@functools.cache
def _stderr() -> Console:
    """The error console, built on first use: ``--help`` loads no rich."""
    from rich.console import Console

    return Console(stderr=True, highlight=False, emoji=False)


def escape(text: str) -> str:
    """``text`` with rich markup escaped (rich loaded on first use)."""
    from rich.markup import escape as rich_escape

    return rich_escape(text)


@app.callback()
def _commands() -> None:
    """Plan, policy-check and price mlops-infra Pulumi programs offline."""


class PlanFormat(StrEnum):
    text = "text"
    json = "json"


ProgramArg = Annotated[
    Path,
    typer.Argument(
        help="A Pulumi project directory (with Pulumi.yaml) or a single Python file.",
        show_default=False,
        metavar="PROGRAM",
    ),
]
StackOpt = Annotated[
    str | None,
    typer.Option(
        "--stack",
        "-s",
        metavar="STACK",
        help="Stack name (default: dev); config comes from Pulumi.<stack>.yaml. For a single .py file "
        "without that file, --stack dev|staging|prod also sets environment unless --config sets one; "
        "a note on stderr always says which environment was used.",
        show_default=False,
    ),
]
DEFAULT_STACK = "dev"
ConfigOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--config",
        "-c",
        metavar="KEY=VALUE",
        help="KEY=VALUE or NAMESPACE:KEY=VALUE, like `pulumi config set`; repeatable.",
        show_default=False,
    ),
]
EscFileOpt = Annotated[
    Path | None,
    typer.Option(
        "--esc-file",
        metavar="FILE",
        help="An ESC environment definition whose values.pulumiConfig stands in for the ESC environments the "
        "stack file imports (offline); the stack file's own config overrides it.",
        show_default=False,
    ),
]
OutOpt = Annotated[
    Path | None, typer.Option("--out", "-o", metavar="FILE", help="Write the output to FILE instead of stdout.")
]
BudgetOpt = Annotated[
    str | None,
    typer.Option(
        "--budget",
        metavar="USD",
        help="Monthly budget in USD; overrides the budgets the stack declares. Exit 1 when the worst case exceeds it.",
        show_default=False,
    ),
]
PricesOpt = Annotated[
    Path | None,
    typer.Option(
        "--prices", metavar="FILE", help="Your price rows (YAML or JSON), merged over the packaged catalogue."
    ),
]


WithCostOpt = Annotated[
    bool,
    typer.Option("--with-cost", help="Add the monthly cost estimate (the `cost` section in JSON, a table in text)."),
]


def fail(message: str) -> NoReturn:
    """Print a one-paragraph error and exit 2 (the message is shown verbatim, never read as markup)."""
    _stderr().print(f"[bold red]error:[/] {escape(message)}", soft_wrap=True)
    raise typer.Exit(EXIT_ERROR)


def run_offline(
    program: Path, stack: str | None, config: list[str] | None, esc_file: Path | None = None
) -> CapturedStack:
    """Run the program with the offline engine; any user-fixable problem exits 2."""
    from mlops_infra.engine.runner import run_program  # deferred: keeps `--help` fast

    warnings.filterwarnings("ignore", category=DeprecationWarning)
    try:
        return run_program(
            program,
            stack or DEFAULT_STACK,
            list(config or []),
            environment_from_stack=stack is not None,
            esc_file=esc_file,
        )
    except ProgramError as exc:
        fail(str(exc))


def plan_document(stack: CapturedStack) -> dict[str, Any]:
    """The documented JSON document; ``check`` and ``cost`` add their sections to it."""
    return stack.to_json()


def with_schema(document: dict[str, Any], schema: SchemaReport) -> dict[str, Any]:
    """The document with its ``schema_errors`` and ``schema_skipped`` sections (``plan`` and ``check``)."""
    return {
        **document,
        "schema_errors": [error.to_json() for error in schema.errors],
        "schema_skipped": [skip.to_json() for skip in schema.skipped],
    }


def schema_report(stack: CapturedStack) -> SchemaReport:
    """Every custom resource's inputs against the installed provider SDKs; a stderr line when some are refused."""
    from mlops_infra.engine.conformance import check_stack  # deferred: keeps `--help` fast

    report = check_stack(stack)
    if report.errors:
        _stderr().print(f"[bold red]{escape(report.summary())}[/]", soft_wrap=True)
    return report


def emit(content: str | RenderableType, out: Path | None) -> None:
    """Write to ``out`` (plain text) or to stdout."""
    from rich.console import Console

    if out is None:
        if isinstance(content, str):
            sys.stdout.write(content if content.endswith("\n") else content + "\n")
        else:
            Console(highlight=False, emoji=False).print(content)
        return
    try:
        if isinstance(content, str):
            out.write_text(content if content.endswith("\n") else content + "\n", encoding="utf-8")
        else:
            with out.open("w", encoding="utf-8") as handle:
                Console(file=handle, width=160, no_color=True, emoji=False).print(content)
    except OSError as exc:
        fail(f"cannot write --out {out}: {exc.strerror}")


def print_diagnostics(stack: CapturedStack) -> None:
    """The engine's notes and the program's warnings, on stderr (stdout stays the document)."""
    for line in stack.diagnostics:
        style = "yellow" if line.startswith("warning:") else "dim"
        _stderr().print(f"[{style}]{escape(line)}[/]", soft_wrap=True)


def to_json_text(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, default=str)


@app.command()
def plan(  # noqa: PLR0917 - the documented CLI contract
    program: ProgramArg,
    stack: StackOpt = None,
    config: ConfigOpt = None,
    output_format: Annotated[
        PlanFormat, typer.Option("--format", "-f", metavar="text|json", help="text or json.")
    ] = PlanFormat.text,
    out: OutOpt = None,
    with_cost: WithCostOpt = False,
    prices: PricesOpt = None,
    esc_file: EscFileOpt = None,
) -> None:
    """Run PROGRAM offline and show every resource it would create."""
    catalogue = _catalogue(prices) if with_cost else None
    captured = run_offline(program, stack, config, esc_file)
    print_diagnostics(captured)
    schema = schema_report(captured)
    estimate = _estimate(captured, catalogue) if catalogue is not None else None
    if output_format is PlanFormat.json:
        document = with_schema(plan_document(captured), schema)
        if estimate is not None:
            document["cost"] = estimate.to_json()
        emit(to_json_text(document), out)
        return
    from mlops_infra.render.plan_text import render_plan

    emit(_with_estimate(render_plan(captured, schema), captured, estimate), out)


def _catalogue(prices: Path | None) -> Any:
    from mlops_infra.cost.catalogue import load_catalogue  # deferred: keeps `--help` fast

    try:
        return load_catalogue(prices)
    except ProgramError as exc:
        fail(str(exc))


def _estimate(captured: CapturedStack, catalogue: Any) -> Any:
    from mlops_infra.cost.estimate import estimate_stack

    return estimate_stack(captured, catalogue)


def _with_estimate(content: RenderableType, captured: CapturedStack, estimate: Any) -> RenderableType:
    """``content`` followed by the cost table when an estimate was asked for."""
    if estimate is None:
        return content
    from rich.console import Group

    from mlops_infra.cost.report import render_estimate

    return Group(content, render_estimate(captured, estimate, None))


class CheckFormat(StrEnum):
    text = "text"
    json = "json"
    sarif = "sarif"


PolicyConfigOpt = Annotated[
    Path | None,
    typer.Option(
        "--policy-config", metavar="FILE", help="Policy settings (JSON or YAML; native or policy-pack shape)."
    ),
]
CheckFormatOpt = Annotated[
    CheckFormat, typer.Option("--format", "-f", metavar="text|json|sarif", help="text, json or sarif.")
]


@app.command()
def check(  # noqa: PLR0917 - the documented CLI contract has seven options
    program: ProgramArg,
    stack: StackOpt = None,
    config: ConfigOpt = None,
    policy_config: PolicyConfigOpt = None,
    output_format: CheckFormatOpt = CheckFormat.text,
    out: OutOpt = None,
    with_cost: WithCostOpt = False,
    esc_file: EscFileOpt = None,
) -> None:
    """Run PROGRAM offline and check it against every guardrail policy; exit 1 on a mandatory violation
    or a schema error (an input the provider SDK's types refuse).

    cost-budget always runs (prices from the policy config's ``prices`` over the packaged catalogue).
    """
    from mlops_infra.policy.config import load_policy_config  # deferred: keeps `--help` fast
    from mlops_infra.policy.evaluate import evaluate_stack, has_mandatory
    from mlops_infra.policy.rules.cost_budget import catalogue_for

    if with_cost and output_format is CheckFormat.sarif:
        fail("--with-cost adds a cost section to text or json output; SARIF has no place for it")
    try:
        rules = load_policy_config(policy_config)
        catalogue = catalogue_for(rules)  # a broken price file is a config error (exit 2), not a rule failure
    except ProgramError as exc:
        fail(str(exc))
    captured = run_offline(program, stack, config, esc_file)
    print_diagnostics(captured)
    violations = evaluate_stack(captured, rules)
    schema = schema_report(captured)
    estimate = _estimate(captured, catalogue) if with_cost else None
    if output_format is CheckFormat.json:
        from mlops_infra.policy.report import add_violations

        document = add_violations(with_schema(plan_document(captured), schema), violations)
        if estimate is not None:
            document["cost"] = estimate.to_json()
        emit(to_json_text(document), out)
    elif output_format is CheckFormat.sarif:
        from mlops_infra.render.schema_sarif import check_sarif

        # GitHub resolves relative artifact URIs from the repository root: CI runs from there.
        emit(to_json_text(check_sarif(captured, violations, rules, schema, source_root=Path.cwd())), out)
    else:
        from rich.console import Group

        from mlops_infra.policy.report import render_text
        from mlops_infra.render.schema_report import render_schema_report

        report = Group(render_text(violations), render_schema_report(schema))
        emit(_with_estimate(report, captured, estimate), out)
    if has_mandatory(violations) or schema.errors:
        raise typer.Exit(EXIT_VIOLATIONS)


def _budget_value(text: str | None) -> float | None:
    if text is None:
        return None
    try:
        value = float(text.strip().lstrip("$").replace(",", ""))
    except ValueError:
        fail(f"--budget must be a monthly amount in USD such as 500 or 1200.50, got {text!r}")
    if not value > 0 or value == float("inf"):
        fail(f"--budget must be a positive monthly amount in USD, got {text!r}")
    return value


@app.command()
def cost(  # noqa: PLR0917 - the documented CLI contract has seven options
    program: ProgramArg,
    stack: StackOpt = None,
    config: ConfigOpt = None,
    prices: PricesOpt = None,
    budget: BudgetOpt = None,
    output_format: Annotated[
        PlanFormat, typer.Option("--format", "-f", metavar="text|json", help="text or json.")
    ] = PlanFormat.text,
    out: OutOpt = None,
    esc_file: EscFileOpt = None,
) -> None:
    """Run PROGRAM offline and price it per month; exit 1 when the worst case exceeds the budget."""
    from mlops_infra.cost.estimate import budget_breaches  # deferred: keeps `--help` fast

    limit = _budget_value(budget)
    catalogue = _catalogue(prices)
    captured = run_offline(program, stack, config, esc_file)
    print_diagnostics(captured)
    estimate = _estimate(captured, catalogue)
    if output_format is PlanFormat.json:
        emit(to_json_text({**plan_document(captured), "cost": estimate.to_json()}), out)
    else:
        from mlops_infra.cost.report import render_estimate

        emit(render_estimate(captured, estimate, limit), out)
    if limit is None and not estimate.budgets:
        _stderr().print("[dim]note: no budget declared and no --budget given: exit 0 without a budget check[/]")
    breaches = budget_breaches(estimate, limit)
    for breach in breaches:
        _stderr().print(f"[bold red]over budget:[/] {escape(breach.message())}", soft_wrap=True)
    if breaches:
        raise typer.Exit(EXIT_VIOLATIONS)


@app.command()
def schema(out: OutOpt = None) -> None:
    """Print the JSON Schema of the platform spec (platform.yaml), for editors and CI."""
    try:
        from mlops_infra.spec import platform_json_schema  # deferred: keeps `--help` fast
    except ImportError as exc:
        fail(f"this installation has no platform spec (mlops_infra.spec): {exc}")
    emit(json.dumps(platform_json_schema(), indent=2, sort_keys=True), out)


def _exit_now(code: object) -> NoReturn:
    """Flush and close stdout/stderr, then end the process without the interpreter's final collection.

    ``code`` follows :class:`SystemExit`: None is 0, an int is the status, anything else is printed
    on stderr and exits 1. Nothing after this point runs (no atexit hooks, no garbage collection):
    every document has been written and closed by the command itself.
    """
    status = 0
    if isinstance(code, int):
        status = code
    elif code is not None:
        sys.stderr.write(f"{code}\n")
        status = 1
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe (mlops-infra plan | head): nothing left to say
            status = status or 1
    os._exit(status)


def main() -> None:
    """Console entry point: no traceback ever reaches the user (set MLOPS_INFRA_DEBUG=1 to see one).

    The garbage collector stays off for the whole command (one short-lived process; the engine
    freezes what the imports loaded) and the process exits without a final collection once its
    output is flushed: the interpreter's shutdown collection of a large plan takes longer than
    printing it.
    """
    gc.disable()
    try:
        app()
    except SystemExit as exc:
        _exit_now(exc.code)
    except Exception as exc:
        if os.environ.get("MLOPS_INFRA_DEBUG"):
            raise
        _stderr().print(f"[bold red]error:[/] internal error: {escape(f'{type(exc).__name__}: {exc}')}", soft_wrap=True)
        _exit_now(EXIT_ERROR)
    _exit_now(EXIT_OK)


if __name__ == "__main__":
    main()
