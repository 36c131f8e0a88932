"""Run a Pulumi program in-process under mocks and capture its resource graph.

The real Pulumi Python SDK does all the work; only the engine side is emulated: the
resource monitor answers with deterministic fake state and runs registered transforms.
No CLI, no cloud credentials, no sockets.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import os
import runpy
import sys
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pulumi
import pydantic
from pulumi.runtime import settings as pulumi_settings
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _ensure_event_loop, _sync_await

from mlops_infra.engine.captured import CapturedStack
from mlops_infra.engine.echoed_failures import drop_leftover_reports
from mlops_infra.engine.errors import ProgramError, validation_message
from mlops_infra.engine.esc import load_esc_file
from mlops_infra.engine.fake_state import FAKE_AWS_REGION, FAKE_GCP_PROJECT, FAKE_GCP_REGION
from mlops_infra.engine.inline_calls import inline_monitor_calls
from mlops_infra.engine.monitor import SECRET_PLACEHOLDER, CaptureMonitor, DeterministicMocks, plain_value
from mlops_infra.engine.plain_urns import plain_urn_strings
from mlops_infra.engine.project import (
    PulumiProject,
    apply_overrides,
    apply_single_file_stack,
    apply_stack_config,
    load_project,
    set_config_value,
    single_file_environment_note,
)
from mlops_infra.engine.source_position import cheap_source_positions


def format_validation_error(exc: pydantic.ValidationError) -> str:
    """One line per problem: ``field.path: reason`` (without pydantic's ``Value error, `` prefix)."""
    problems = []
    for error in exc.errors():
        location = ".".join(str(part) for part in error["loc"]) or "(settings)"
        problems.append(f"{location}: {validation_message(error['msg'])}")
    return f"invalid {exc.title} settings: " + "; ".join(problems)


# This package and site-packages: never the user's code, never unloaded between runs.
_LIBRARY_DIRS = (
    Path(__file__).resolve().parents[1],
    Path(pulumi.__file__).resolve().parents[1],
    Path(sys.prefix).resolve(),
)


def _is_user_file(filename: str, directory: Path) -> bool:
    path = Path(filename).resolve()
    return path.is_relative_to(directory) and not any(path.is_relative_to(lib) for lib in _LIBRARY_DIRS)


def _user_frame(exc: BaseException, directory: Path) -> str:
    """``file:line`` of the deepest frame in the user's own code (not this library, not site-packages)."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if _is_user_file(f.filename, directory)]
    return f" ({frames[-1].filename}:{frames[-1].lineno})" if frames else ""


def _as_program_error(exc: BaseException, project: PulumiProject) -> ProgramError:
    if isinstance(exc, ProgramError):
        return exc
    if isinstance(exc, pydantic.ValidationError):
        return ProgramError(format_validation_error(exc) + _user_frame(exc, project.directory))
    if isinstance(exc, SyntaxError):
        return ProgramError(f"{exc.filename}:{exc.lineno}: syntax error: {exc.msg}. Fix the program and run again.")
    if isinstance(exc, ImportError):
        return ProgramError(f"the program could not import a module: {exc}{_user_frame(exc, project.directory)}.")
    message = str(exc) or type(exc).__name__
    return ProgramError(f"the program failed: {type(exc).__name__}: {message}{_user_frame(exc, project.directory)}")


@contextlib.contextmanager
def _program_context(project: PulumiProject) -> Iterator[None]:
    """cwd and sys.path as ``pulumi up`` sets them; drop the program's own modules afterwards."""
    previous_cwd = os.getcwd()
    previous_path = list(sys.path)
    previous_modules = set(sys.modules)
    os.chdir(project.directory)
    sys.path.insert(0, str(project.directory))
    try:
        yield
    finally:
        os.chdir(previous_cwd)
        sys.path[:] = previous_path
        for name in set(sys.modules) - previous_modules:
            module_file = getattr(sys.modules[name], "__file__", None) or ""
            if module_file and _is_user_file(module_file, project.directory):
                del sys.modules[name]


class _DiagnosticsHandler(logging.Handler):
    """Collects what the program logs through ``pulumi.log`` (warnings and errors)."""

    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(f"{record.levelname.lower()}: {record.getMessage()}")


def _program_logger(handler: _DiagnosticsHandler) -> logging.Logger:
    logger = logging.getLogger("mlops_infra.engine.program")
    logger.handlers[:] = [handler]
    logger.propagate = False
    logger.setLevel(logging.WARNING)
    return logger


def _install_runtime(
    project: PulumiProject, stack: str, monitor: CaptureMonitor, logger: logging.Logger, preview: bool
) -> None:
    pulumi_settings.reset_options(project=project.name, stack=stack)
    pulumi.runtime.set_all_config(dict(project.config), list(project.secret_keys))
    pulumi.runtime.set_mocks(
        monitor.mocks, project=project.name, stack=stack, preview=preview, monitor=monitor, logger=logger
    )
    pulumi_settings.SETTINGS.callbacks = monitor.callbacks


@contextlib.contextmanager
def collector_paused(enabled: bool = True) -> Iterator[None]:
    """The garbage collector off while the program registers (and what is loaded so far frozen).

    A plan allocates millions of short-lived objects (Outputs, futures, protobuf messages), so
    Python's generational collector would run thousands of times and rescan the imported SDKs on
    each full pass: more than half of a large plan's time. Registration creates little cyclic
    garbage, so the collector stays off until the program has finished; afterwards the frozen
    objects return to the oldest generation and the previous state is restored, so a process that
    plans many times (tests) still frees each run's garbage.
    """
    if not enabled:
        yield
        return
    was_enabled = gc.isenabled()
    gc.disable()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
        if was_enabled:
            gc.enable()


def run_project(
    project: PulumiProject,
    stack: str,
    program: Callable[[], None] | None = None,
    *,
    preview: bool = False,
    manage_gc: bool = True,
) -> CapturedStack:
    """Run an already-configured project (or ``program`` in its place) and return what it registered.

    ``preview`` runs it as ``pulumi preview`` of a new stack sees it: no resource has an id or computed
    outputs yet, so an input taken from another resource's output is the engine's unknown placeholder.

    ``manage_gc`` pauses the garbage collector during the run (:func:`collector_paused`); the plan is
    the same either way (tests prove it on every shipped stack).
    """
    # Fake state uses the configured region/project, else fixed stand-ins; config itself is left as the user set it.
    mocks = DeterministicMocks(
        aws_region=project.config.get("aws:region", FAKE_AWS_REGION),
        gcp_project=project.config.get("gcp:project", FAKE_GCP_PROJECT),
        gcp_region=project.config.get("gcp:region", FAKE_GCP_REGION),
        preview=preview,
    )
    monitor = CaptureMonitor(mocks, project.config)
    outputs: dict[str, Any] = {}

    async def resolve_outputs() -> None:
        root = pulumi_settings.get_root_resource()
        for key, value in (getattr(root, "outputs", None) or {}).items():
            output = pulumi.Output.from_input(value)
            resolved = await output.future()
            outputs[key] = SECRET_PLACEHOLDER if await output.is_secret() else resolved

    def run_main() -> None:
        runpy.run_path(str(project.main_file), run_name="__main__")

    def pulumi_program() -> Any:
        (program or run_main)()
        return resolve_outputs()

    diagnostics = _DiagnosticsHandler()
    with _program_context(project), collector_paused(manage_gc), cheap_source_positions(), plain_urn_strings():
        _install_runtime(project, stack, monitor, _program_logger(diagnostics), preview)
        loop = _ensure_event_loop()  # type: ignore[no-untyped-call]  # the loop _sync_await runs
        try:
            with inline_monitor_calls(loop):
                _sync_await(run_pulumi_func(pulumi_program))
            monitor.resolve_added_dependencies()
        except BaseException as exc:
            if isinstance(exc, KeyboardInterrupt):
                raise
            drop_leftover_reports(loop)
            error = _as_program_error(exc, project)
            error.registered = sorted(r.urn for r in monitor.captured)
            raise error from exc
        finally:
            pulumi.runtime.set_all_config({}, [])
            monitor.close()
    return CapturedStack(
        project=project.name,
        stack=stack,
        config=dict(project.config),
        resources=sorted(monitor.captured, key=lambda r: r.urn),
        outputs={k: plain_value(v) for k, v in sorted(outputs.items())},
        program_path=str(project.main_file),
        diagnostics=[*project.notes, *monitor.duplicates, *sorted(set(diagnostics.messages))],
    )


def run_program(
    program: str | Path,
    stack: str = "dev",
    config: list[str] | None = None,
    *,
    environment_from_stack: bool = False,
    esc_file: str | Path | None = None,
    manage_gc: bool = True,
) -> CapturedStack:
    """Plan ``program`` (project directory or ``.py`` file) for ``stack`` offline.

    ``config`` holds ``KEY=VALUE`` overrides applied after ``Pulumi.<stack>.yaml``. For a single
    ``.py`` file without ``Pulumi.<stack>.yaml`` beside it, ``environment_from_stack`` (the CLI's
    explicit ``--stack``) sets ``environment=<stack>`` when the stack is dev, staging or prod and no
    environment is configured; otherwise a note says which environment the program chose.
    ``esc_file`` (an ESC environment definition) supplies the ``values.pulumiConfig`` of the ESC
    environments the stack file imports, under the stack file's own config. ``manage_gc=False``
    leaves the garbage collector alone during the run (see :func:`collector_paused`).
    Raises :class:`ProgramError` with a one-paragraph message for anything the user must fix.
    """
    project = load_project(program)
    apply_stack_config(project, stack, load_esc_file(esc_file) if esc_file is not None else None)
    apply_overrides(project, config or [])
    from_stack = environment_from_stack and apply_single_file_stack(project, stack)
    try:
        captured = run_project(project, stack, manage_gc=manage_gc)
        note = None if from_stack else single_file_environment_note(project, stack, captured.environment())
        if note is not None:
            captured.diagnostics.insert(0, note)
        return captured
    except ProgramError as error:
        stack_file = project.directory / f"Pulumi.{stack}.yaml"
        if project.main_file.name == "__main__.py" and not stack_file.is_file():
            # The likeliest cause of missing settings: a typo in --stack.
            raise ProgramError(
                f"{error} (note: there is no {stack_file.name} in {project.directory})", error.registered
            ) from error
        raise


def run_function(
    program: Callable[[], None],
    *,
    project: str = "test",
    stack: str = "dev",
    config: dict[str, Any] | None = None,
    directory: str | Path = ".",
    preview: bool = False,
) -> CapturedStack:
    """Run a Python callable as a Pulumi program offline (used by tests and ``mlops_infra.testing``).

    ``config`` maps keys (namespaced or not) to values, as a stack's YAML config would; ``preview``:
    see :func:`run_project`.
    """
    located = PulumiProject(name=project, directory=Path(directory).resolve(), main_file=Path(directory).resolve())
    for key, value in (config or {}).items():
        set_config_value(located, located.namespaced(key), value)
    return run_project(located, stack, program, preview=preview)
