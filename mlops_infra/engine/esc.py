"""Offline values for imported Pulumi ESC environments: ``--esc-file FILE``.

A stack file's ``environment:`` block imports ESC environments whose ``values.pulumiConfig``
become stack config when the Pulumi CLI runs. The offline engine cannot open them, so the user
passes an environment definition (the YAML ``esc env edit`` shows) whose ``values.pulumiConfig``
stands in for them. Pulumi's precedence holds: project defaults < ESC < the stack file's own
``config:`` < ``--config``. Supported offline: literal values, ``fn::secret`` (plaintext, or
``ciphertext:`` which becomes a placeholder secret) and ``${path}`` interpolation within the
file's ``values``. Any other ``fn::`` function needs ESC itself and is an error naming the key.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from mlops_infra.engine.errors import ProgramError
from mlops_infra.engine.yaml_load import safe_load

ESC_SECRET_PLACEHOLDER = "offline-esc-secret-placeholder"
_REFERENCE = re.compile(r"\$\{([^}]*)\}")
_PATH_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


@dataclass
class EscConfig:
    """The ``pulumiConfig`` of one ESC file: key -> resolved value, and which keys are secret."""

    path: Path
    values: dict[str, Any] = field(default_factory=dict)
    secret_keys: set[str] = field(default_factory=set)


class _Resolver:
    """Evaluates a ``values`` tree: ``fn::secret`` and ``${path}`` references; anything else is literal."""

    def __init__(self, source: Path, root: dict[str, Any]) -> None:
        self.source = source
        self.root = root
        self.secret = False  # set when the value being resolved contains or references a secret
        self._stack: list[str] = []

    def fail(self, where: str, reason: str) -> ProgramError:
        return ProgramError(
            f"--esc-file {self.source}: values.{where} {reason}. The file stands in for your ESC environments "
            "offline: give the value a literal (or `fn::secret: VALUE`), then run again."
        )

    def resolve(self, value: Any, where: str) -> Any:
        if isinstance(value, dict):
            functions = [key for key in value if str(key).startswith("fn::")]
            if functions:
                return self._function(value, functions, where)
            return {str(k): self.resolve(v, f"{where}.{k}") for k, v in value.items()}
        if isinstance(value, list):
            return [self.resolve(item, f"{where}[{i}]") for i, item in enumerate(value)]
        if isinstance(value, str):
            return self._interpolate(value, where)
        return value

    def _function(self, value: dict[str, Any], functions: list[str], where: str) -> Any:
        name = functions[0]
        if len(value) != 1:
            raise self.fail(where, f"mixes {name} with other keys ({', '.join(sorted(map(str, value)))})")
        if name != "fn::secret":
            raise self.fail(where, f"uses {name}, which only Pulumi ESC can evaluate (offline: fn::secret and ${{}})")
        self.secret = True
        argument = value[name]
        if isinstance(argument, dict) and set(argument) == {"ciphertext"}:
            return ESC_SECRET_PLACEHOLDER  # encrypted by ESC: never decrypted here
        if isinstance(argument, (dict, list)):
            raise self.fail(where, "has fn::secret with an object or list; ESC secrets are strings")
        return self.resolve(argument, where)

    def _interpolate(self, text: str, where: str) -> Any:
        whole = _REFERENCE.fullmatch(text)
        if whole:
            return self._lookup(whole.group(1), where)
        return _REFERENCE.sub(lambda match: str(self._lookup(match.group(1), where)), text)

    def _lookup(self, reference: str, where: str) -> Any:
        parts = [m.group(1) if m.group(1) is not None else int(m.group(2)) for m in _PATH_PART.finditer(reference)]
        if not parts or "".join(str(p) for p in parts).strip() == "":
            raise self.fail(where, f"has an empty reference ${{{reference}}}")
        if reference in self._stack:
            raise self.fail(where, f"refers to ${{{reference}}} in a cycle ({' -> '.join([*self._stack, reference])})")
        node: Any = self.root
        for part in parts:
            found = isinstance(part, int) and isinstance(node, list) and part < len(node)
            found = found or (isinstance(part, str) and isinstance(node, dict) and part in node)
            if not found:
                raise self.fail(where, f"refers to ${{{reference}}}, which the file's values do not define")
            node = node[part]
        self._stack.append(reference)
        try:
            return self.resolve(node, reference)
        finally:
            self._stack.pop()


def _read(path: Path) -> Any:
    try:
        return safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ProgramError(f"--esc-file {path}: cannot read it ({exc.strerror}). Pass an existing file.") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        raise ProgramError(f"--esc-file {path} is not valid YAML{at}: {getattr(exc, 'problem', exc)}.") from None


def load_esc_file(path: str | Path) -> EscConfig:
    """Read ``path`` (an ESC environment definition) and resolve its ``values.pulumiConfig``."""
    source = Path(path)
    document = _read(source)
    values = document.get("values") if isinstance(document, dict) else None
    config = values.get("pulumiConfig") if isinstance(values, dict) else None
    if not isinstance(values, dict) or not isinstance(config, dict):
        raise ProgramError(
            f"--esc-file {source} has no `values: pulumiConfig:` mapping: the file must be an ESC environment "
            "definition (as `esc env edit` shows it) with the stack config under values.pulumiConfig, "
            "for example `values: {pulumiConfig: {aws:region: eu-west-1}}`."
        )
    esc = EscConfig(path=source)
    for key, value in config.items():
        resolver = _Resolver(source, values)
        esc.values[str(key)] = resolver.resolve(value, f"pulumiConfig.{key}")
        if resolver.secret:
            esc.secret_keys.add(str(key))
    return esc
