from pathlib import Path
from textwrap import dedent

import pytest


@pytest.fixture
def make_project(tmp_path: Path):
    """Write a Pulumi project (Pulumi.yaml, __main__.py, optional stack files) and return its directory."""

    def make(
        main: str, stacks: dict[str, str] | None = None, name: str = "demo", project_yaml: str | None = None
    ) -> Path:
        directory = tmp_path / name
        directory.mkdir()
        (directory / "Pulumi.yaml").write_text(
            project_yaml or f"name: {name}\nruntime:\n  name: python\n  options:\n    toolchain: uv\n"
        )
        (directory / "__main__.py").write_text(dedent(main))
        for stack, body in (stacks or {}).items():
            (directory / f"Pulumi.{stack}.yaml").write_text(dedent(body))
        return directory

    return make
