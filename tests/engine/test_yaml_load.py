"""The libyaml loader reads every YAML file the project ships as yaml.safe_load does, errors included."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from mlops_infra.engine.yaml_load import SAFE_LOADER, safe_load

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = sorted(
    path
    for pattern in ("mlops_infra/**/*.yaml", "stacks/**/*.yaml", "examples/**/*.yaml", "policies/**/*.yaml")
    for path in ROOT.glob(pattern)
    if ".venv" not in path.parts
)


def test_the_c_loader_is_used_where_pyyaml_has_it() -> None:
    assert SAFE_LOADER is (yaml.CSafeLoader if yaml.__with_libyaml__ else yaml.SafeLoader)


@pytest.mark.parametrize("path", SHIPPED, ids=lambda path: str(path.relative_to(ROOT)))
def test_shipped_files_read_the_same(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert safe_load(text) == yaml.safe_load(text)


@pytest.mark.parametrize("text", ["a: [1, 2\n", "a: b: c\n", "key: 'unclosed\n", "- a\nb: c\n"])
def test_errors_carry_the_line_of_the_problem(text: str) -> None:
    with pytest.raises(yaml.YAMLError) as ours:
        safe_load(text)
    with pytest.raises(yaml.YAMLError) as theirs:
        yaml.safe_load(text)
    mark = getattr(ours.value, "problem_mark", None)
    assert mark is not None and mark.line == theirs.value.problem_mark.line  # type: ignore[attr-defined]
