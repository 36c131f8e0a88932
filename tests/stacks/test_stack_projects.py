"""Every shipped stack is its own Pulumi project, and its stack files configure that project.

Two projects with one name share their stacks (``churn/dev`` would be both programs' state), and a
config key under another project's namespace is silently ignored by ``pulumi.Config()``.
"""

from pathlib import Path

import pytest
import yaml

STACKS = Path(__file__).resolve().parents[2] / "stacks"
PROJECT_DIRS = sorted(p.parent for p in STACKS.glob("*/Pulumi.yaml"))
# Namespaces of the providers the stacks configure (aws:region, gcp:project, kubernetes:context).
PROVIDER_NAMESPACES = {"aws", "gcp", "kubernetes"}


def project_name(directory: Path) -> str:
    return yaml.safe_load((directory / "Pulumi.yaml").read_text())["name"]


def test_every_stack_directory_is_a_distinct_pulumi_project():
    names = {d.name: project_name(d) for d in PROJECT_DIRS}
    assert {"aws-sagemaker", "gcp-vertex", "k8s-kserve"} <= set(names)
    duplicates = {n for n in names.values() if list(names.values()).count(n) > 1}
    assert not duplicates, f"stack directories share a Pulumi project name (and so their stacks): {names}"


@pytest.mark.parametrize(
    "stack_file",
    [f for d in PROJECT_DIRS for f in sorted(d.glob("Pulumi.*.yaml"))],
    ids=lambda f: f"{f.parent.name}/{f.name}",
)
def test_stack_config_keys_are_in_the_project_namespace(stack_file):
    project = project_name(stack_file.parent)
    config = (yaml.safe_load(stack_file.read_text()) or {}).get("config") or {}
    foreign = [k for k in config if ":" in k and k.split(":", 1)[0] not in {project, *PROVIDER_NAMESPACES}]
    assert not foreign, f"{stack_file.name}: keys outside the {project!r} namespace are ignored: {foreign}"
