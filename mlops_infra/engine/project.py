"""Reading a Pulumi project: Pulumi.yaml, Pulumi.<stack>.yaml and ``--config`` overrides."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from mlops_infra.engine.errors import ProgramError

SECRET_CONFIG_PLACEHOLDER = "offline-secret-placeholder"
_PROJECT_NAME = re.compile(r"[^A-Za-z0-9_.-]+")


@dataclass
class PulumiProject:
    """A located program: its project name, directory, entry file and effective config."""

    name: str
    directory: Path
    main_file: Path
    config: dict[str, str] = field(default_factory=dict)
    secret_keys: list[str] = field(default_factory=list)

    def namespaced(self, key: str) -> str:
        """``key`` -> ``project:key`` unless it already names a namespace (like ``pulumi config set``)."""
        return key if ":" in key else f"{self.name}:{key}"


def _read_yaml(path: Path) -> Any:
    try:
        with path.open(encoding="utf-8") as handle:
            return yaml.safe_load(handle)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ProgramError(f"{path} is not valid YAML{where}: {problem}. Fix the file and run again.") from None


def _locate_main(directory: Path, main: Any) -> Path:
    candidate = directory / str(main) if main else directory
    if candidate.is_dir():
        candidate = candidate / "__main__.py"
    if not candidate.is_file():
        raise ProgramError(
            f"{directory}: no Python entry point found (looked for {candidate}). "
            "Add __main__.py or set `main:` in Pulumi.yaml."
        )
    return candidate


def load_project(program: str | Path) -> PulumiProject:
    """Locate a program: a project directory with Pulumi.yaml, or a single ``.py`` file."""
    path = Path(program).resolve()
    if not path.exists():
        raise ProgramError(f"program not found: {program}. Pass a Pulumi project directory or a .py file.")
    if path.is_file():
        if path.suffix != ".py":
            raise ProgramError(f"{program} is not a Python file or a Pulumi project directory.")
        project_file = next((p for p in (path.parent / "Pulumi.yaml", path.parent / "Pulumi.yml") if p.is_file()), None)
        if project_file is not None and _locate_main(path.parent, (_read_yaml(project_file) or {}).get("main")) == path:
            return load_project(path.parent)
        # Hyphens, not underscores: physical names derive from the project name.
        name = _PROJECT_NAME.sub("-", path.stem.replace("_", "-")).strip("-_") or "program"
        return PulumiProject(name=name, directory=path.parent, main_file=path)
    project_file = next((p for p in (path / "Pulumi.yaml", path / "Pulumi.yml") if p.is_file()), None)
    if project_file is None:
        raise ProgramError(f"{program} has no Pulumi.yaml: it is not a Pulumi project directory.")
    spec = _read_yaml(project_file)
    if not isinstance(spec, dict) or not spec.get("name"):
        raise ProgramError(f"{project_file} must be a mapping with a `name:` field.")
    runtime = spec.get("runtime")
    runtime_name = runtime.get("name") if isinstance(runtime, dict) else runtime
    if runtime_name != "python":
        raise ProgramError(
            f"{project_file}: runtime is {runtime_name!r}; the offline engine runs Python programs only."
        )
    project = PulumiProject(name=str(spec["name"]), directory=path, main_file=_locate_main(path, spec.get("main")))
    _apply_project_defaults(project, spec.get("config"))
    return project


def _apply_project_defaults(project: PulumiProject, declared: Any) -> None:
    """Project-level config (``config:`` in Pulumi.yaml): plain values or ``{default: ...}``."""
    if not isinstance(declared, dict):
        return
    for key, declaration in declared.items():
        value = declaration
        if isinstance(declaration, dict) and ("default" in declaration or "type" in declaration):
            if "default" not in declaration:
                continue
            value = declaration["default"]
        set_config_value(project, project.namespaced(str(key)), value)


def _contains_secure(value: Any) -> bool:
    if isinstance(value, dict):
        return set(value) == {"secure"} or any(_contains_secure(v) for v in value.values())
    if isinstance(value, list):
        return any(_contains_secure(v) for v in value)
    return False


def _replace_secure(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {"secure"}:
            return SECRET_CONFIG_PLACEHOLDER
        return {k: _replace_secure(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_replace_secure(v) for v in value]
    return value


def set_config_value(project: PulumiProject, key: str, value: Any) -> None:
    """Store ``value`` as the Pulumi engine does: strings as-is, everything else as JSON."""
    if _contains_secure(value):
        if key not in project.secret_keys:
            project.secret_keys.append(key)
        value = _replace_secure(value)
    if isinstance(value, str):
        project.config[key] = value
    elif isinstance(value, bool):
        project.config[key] = "true" if value else "false"
    else:
        project.config[key] = json.dumps(value)


def apply_stack_config(project: PulumiProject, stack: str) -> None:
    """Merge ``Pulumi.<stack>.yaml`` (if present) into the project's config."""
    stack_file = project.directory / f"Pulumi.{stack}.yaml"
    if not stack_file.is_file():
        return
    spec = _read_yaml(stack_file) or {}
    if not isinstance(spec, dict):
        raise ProgramError(f"{stack_file} must be a mapping with a `config:` section.")
    config = spec.get("config") or {}
    if not isinstance(config, dict):
        raise ProgramError(f"{stack_file}: `config:` must be a mapping of key: value.")
    for key, value in config.items():
        set_config_value(project, project.namespaced(str(key)), value)


def apply_overrides(project: PulumiProject, overrides: list[str]) -> None:
    """Apply ``KEY=VALUE`` pairs, like ``pulumi config set KEY VALUE``."""
    for item in overrides:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ProgramError(f"--config {item!r} must look like KEY=VALUE (for example environment=prod).")
        set_config_value(project, project.namespaced(key.strip()), value)
