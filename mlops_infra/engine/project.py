"""Reading a Pulumi project: Pulumi.yaml, Pulumi.<stack>.yaml and ``--config`` overrides.

Config keys are ``namespace:name`` (at most one namespace; a bare name takes the project's), as
with ``pulumi config set``. ``secure:`` values must be Pulumi ciphertext; the engine never decrypts
them and the program sees a placeholder secret instead (:func:`check_ciphertext` lists the accepted
forms, the documented offline placeholder among them). An ESC ``environment:`` block (imported
Pulumi ESC environments) cannot be resolved offline: it is reported in ``notes``, and ``--esc-file``
(:mod:`mlops_infra.engine.esc`) supplies its ``pulumiConfig`` below the stack file's own config.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from mlops_infra.engine.errors import ProgramError
from mlops_infra.engine.esc import EscConfig
from mlops_infra.engine.yaml_load import safe_load

SECRET_CONFIG_PLACEHOLDER = "offline-secret-placeholder"
# The documented offline placeholder ciphertext: nonce "placeholder" (base64), any base64 after it.
# It has the shape of a passphrase-provider ciphertext, so the file stays valid for the Pulumi CLI's
# parser, and names itself as a stand-in: `pulumi config set --secret KEY VALUE` replaces it.
OFFLINE_PLACEHOLDER_PREFIX = "v1:cGxhY2Vob2xkZXI=:"
_PROJECT_NAME = re.compile(r"[^A-Za-z0-9_.-]+")
_CONFIG_PART = re.compile(r"[A-Za-z0-9_.-]+")
_AES_GCM_NONCE_BYTES = 12
_AES_GCM_TAG_BYTES = 16


@dataclass
class PulumiProject:
    """A located program: its project name, directory, entry file and effective config."""

    name: str
    directory: Path
    main_file: Path
    config: dict[str, str] = field(default_factory=dict)
    secret_keys: list[str] = field(default_factory=list)
    single_file: bool = False  # a lone .py file, not a Pulumi project directory
    notes: list[str] = field(default_factory=list)  # what the user should know about how it was read

    def namespaced(self, key: str) -> str:
        """``key`` -> ``project:key`` unless it already names a namespace (like ``pulumi config set``)."""
        return key if ":" in key else f"{self.name}:{key}"


def check_config_key(key: str, where: str) -> str:
    """``key`` when it is ``name`` or ``namespace:name``; a ProgramError naming it otherwise."""
    parts = key.split(":")
    if len(parts) > 2 or not all(_CONFIG_PART.fullmatch(part) for part in parts):
        raise ProgramError(
            f"{where}: config key {key!r} is not valid: a key is NAME or NAMESPACE:NAME (one namespace at most; "
            "letters, digits, '_', '.', '-'), for example environment or aws:region."
        )
    return key


def _base64(text: str) -> bytes | None:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None


def _is_ciphertext(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    if value.startswith(OFFLINE_PLACEHOLDER_PREFIX):
        return bool(_base64(value.removeprefix(OFFLINE_PLACEHOLDER_PREFIX)))
    if value.startswith("v1:"):
        parts = value.split(":")
        nonce = _base64(parts[1]) if len(parts) == 3 else None
        sealed = _base64(parts[2]) if len(parts) == 3 else None
        return (
            nonce is not None
            and sealed is not None
            and len(nonce) == _AES_GCM_NONCE_BYTES
            and len(sealed) >= _AES_GCM_TAG_BYTES
        )
    decoded = _base64(value)
    return decoded is not None and len(decoded) >= _AES_GCM_TAG_BYTES


def check_ciphertext(key: str, value: Any, where: str) -> None:
    """Accept what ``pulumi config set --secret`` writes; a ProgramError naming ``key`` otherwise.

    Accepted: ``v1:<base64 12-byte nonce>:<base64 ciphertext>`` (passphrase and cloud-KMS secrets
    providers), plain base64 (Pulumi Cloud), and the offline placeholder
    ``v1:cGxhY2Vob2xkZXI=:<base64>`` (documented in docs/architecture.md).
    """
    if _is_ciphertext(value):
        return
    shown = value if isinstance(value, str) and len(value) <= 60 else f"{str(value)[:57]}..."
    raise ProgramError(
        f"{where}: config key {key!r} has `secure: {shown}`, which is not Pulumi ciphertext "
        "(v1:<base64 nonce>:<base64 ciphertext> from a passphrase or cloud-KMS secrets provider, or base64 from "
        f"Pulumi Cloud). Set it with `pulumi config set --secret {key.rpartition(':')[2]} VALUE`, or for offline "
        f"plans only use the placeholder {OFFLINE_PLACEHOLDER_PREFIX}<base64 of any text>."
    )


def _read_yaml(path: Path) -> Any:
    try:
        with path.open(encoding="utf-8") as handle:
            return safe_load(handle)
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
        return PulumiProject(name=name, directory=path.parent, main_file=path, single_file=True)
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
    """Project-level config (``config:`` in Pulumi.yaml): plain values, ``{default: ...}`` or ``{value: ...}``.

    ``value:`` is how Pulumi.yaml sets another namespace's key (``aws:region: {value: us-east-1}``).
    The ``template:`` block is read only by ``pulumi new``: it sets no config here.
    """
    if not isinstance(declared, dict):
        return
    for key, declaration in declared.items():
        value = declaration
        if isinstance(declaration, dict) and set(declaration) == {"value"}:
            value = declaration["value"]
        elif isinstance(declaration, dict) and ("default" in declaration or "type" in declaration):
            if "default" not in declaration:
                continue
            value = declaration["default"]
        set_config_value(project, project.namespaced(check_config_key(str(key), "Pulumi.yaml")), value)


def _contains_secure(value: Any) -> bool:
    if isinstance(value, dict):
        return set(value) == {"secure"} or any(_contains_secure(v) for v in value.values())
    if isinstance(value, list):
        return any(_contains_secure(v) for v in value)
    return False


def _replace_secure(value: Any, key: str, where: str) -> Any:
    if isinstance(value, dict):
        if set(value) == {"secure"}:
            check_ciphertext(key, value["secure"], where)
            return SECRET_CONFIG_PLACEHOLDER
        return {k: _replace_secure(v, key, where) for k, v in value.items()}
    if isinstance(value, list):
        return [_replace_secure(v, key, where) for v in value]
    return value


def set_config_value(project: PulumiProject, key: str, value: Any, where: str = "config") -> None:
    """Store ``value`` as the Pulumi engine does: strings as-is, everything else as JSON."""
    if _contains_secure(value):
        value = _replace_secure(value, key, where)
        if key not in project.secret_keys:
            project.secret_keys.append(key)
    if isinstance(value, str):
        project.config[key] = value
    elif isinstance(value, bool):
        project.config[key] = "true" if value else "false"
    else:
        project.config[key] = json.dumps(value)


def esc_imports(block: Any) -> list[str]:
    """The Pulumi ESC environments a stack file's ``environment:`` block imports.

    Both spellings Pulumi accepts: a list of names, or a mapping with an ``imports`` list.
    """
    imports = block.get("imports") if isinstance(block, dict) else block
    if isinstance(imports, str):
        return [imports]
    if isinstance(imports, list):
        return [str(item) for item in imports]
    return []


def apply_esc(project: PulumiProject, esc: EscConfig) -> None:
    """ESC ``pulumiConfig`` values: over project defaults, under the stack file (apply this first)."""
    where = f"--esc-file {esc.path}"
    for key, value in esc.values.items():
        name = project.namespaced(check_config_key(key, where))
        set_config_value(project, name, value, where)
        if key in esc.secret_keys and name not in project.secret_keys:
            project.secret_keys.append(name)  # fn::secret stays secret, as with the Pulumi CLI


def apply_stack_config(project: PulumiProject, stack: str, esc: EscConfig | None = None) -> None:
    """Merge ``Pulumi.<stack>.yaml`` (if present) into the project's config.

    ``esc`` (from ``--esc-file``) stands in for the environments the file imports: its values go
    in first, so the stack file's own ``config:`` overrides them, as with the Pulumi CLI.
    """
    if esc is not None:
        apply_esc(project, esc)
    stack_file = project.directory / f"Pulumi.{stack}.yaml"
    if not stack_file.is_file():
        if esc is not None:
            project.notes.append(f"note: --esc-file {esc.path} supplied {len(esc.values)} config value(s).")
        return
    spec = _read_yaml(stack_file) or {}
    if not isinstance(spec, dict):
        raise ProgramError(f"{stack_file} must be a mapping with a `config:` section.")
    config = spec.get("config") or {}
    if not isinstance(config, dict):
        raise ProgramError(f"{stack_file}: `config:` must be a mapping of key: value.")
    for key, value in config.items():
        where = str(stack_file)
        set_config_value(project, project.namespaced(check_config_key(str(key), where)), value, where)
    imported = esc_imports(spec.get("environment")) if spec.get("environment") else []
    if esc is not None:
        project.notes.append(
            f"note: --esc-file {esc.path} supplied {len(esc.values)} config value(s)"
            + (f" for the ESC environments {stack_file.name} imports ({', '.join(imported)})" if imported else "")
            + "; the stack file's own config: overrides them."
        )
    elif spec.get("environment"):
        project.notes.append(
            f"warning: {stack_file.name} imports Pulumi ESC environments ({', '.join(imported) or '?'}), which "
            "the offline engine cannot resolve: the config, secrets and variables they provide are missing from "
            "this run. Pass their values.pulumiConfig with --esc-file FILE, or set the values the program needs "
            "with --config or in the stack file's config:."
        )


def apply_overrides(project: PulumiProject, overrides: list[str]) -> None:
    """Apply ``KEY=VALUE`` pairs, like ``pulumi config set KEY VALUE``."""
    for item in overrides:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ProgramError(f"--config {item!r} must look like KEY=VALUE (for example environment=prod).")
        name = check_config_key(key.strip(), f"--config {item!r}")
        set_config_value(project, project.namespaced(name), value)


STACK_ENVIRONMENTS = ("dev", "staging", "prod")
ENVIRONMENT_KEY = "environment"


def _configured_environment(project: PulumiProject) -> str | None:
    return next((v for k, v in sorted(project.config.items()) if k.split(":")[-1] == ENVIRONMENT_KEY), None)


def apply_single_file_stack(project: PulumiProject, stack: str) -> bool:
    """A lone ``.py`` file planned with an explicit ``--stack S`` and no ``Pulumi.S.yaml`` beside it.

    When S is dev, staging or prod and no ``environment`` is configured, ``environment=S`` is set
    (as ``--config environment=S`` would), so ``--stack prod`` plans prod, not the program's
    default, and a note says so. Returns True when it set the environment.
    """
    if not project.single_file or (project.directory / f"Pulumi.{stack}.yaml").is_file():
        return False
    if _configured_environment(project) is not None or stack not in STACK_ENVIRONMENTS:
        return False
    set_config_value(project, project.namespaced(ENVIRONMENT_KEY), stack)
    project.notes.append(
        f"note: no Pulumi.{stack}.yaml beside {project.main_file.name}: environment={stack} is taken from "
        "--stack (pass --config environment=... to choose another)."
    )
    return True


def single_file_environment_note(project: PulumiProject, stack: str, environment: str | None) -> str | None:
    """After a run: which environment a lone file without ``Pulumi.<stack>.yaml`` was planned with, and why."""
    if not project.single_file or (project.directory / f"Pulumi.{stack}.yaml").is_file():
        return None
    if _configured_environment(project) is not None:
        return None  # --config set it: the user said so
    if environment is None:
        return (
            f"note: no Pulumi.{stack}.yaml beside {project.main_file.name} and no environment in --config or in "
            "the program: policy checks judge every resource without an environment tag/label as protected "
            "(mandatory levels); pass --config environment=dev|staging|prod to choose."
        )
    return (
        f"note: no Pulumi.{stack}.yaml beside {project.main_file.name} and no environment in --config: the "
        f"program's components set environment {environment}; policy checks judge each resource by its "
        "environment tag/label and one without it as protected (pass --config environment=... to choose)."
    )
