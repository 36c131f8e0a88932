"""Every shipped stack is its own Pulumi project, and its stack files configure that project.

Two projects with one name share their stacks (``churn/dev`` would be both programs' state), and a
config key under another project's namespace is silently ignored by ``pulumi.Config()``.
"""

import shutil
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


# --- `pulumi new` templates ------------------------------------------------------------------------------

# What a user answers at the `pulumi new` prompts that have no default (placeholders for the offline plan).
TEMPLATE_ANSWERS: dict[str, dict[str, str]] = {
    "aws-sagemaker": {"owner": "ml", "costCenter": "cc-1", "alertEmails": '["ml@example.com"]'},
    "gcp-vertex": {
        "gcp:project": "acme-new",
        "owner": "ml",
        "costCenter": "cc-1",
        "billingAccount": "01A2B3-C4D5E6-F7A8B9",
        "trainerImage": "us-central1-docker.pkg.dev/acme-new/images/trainer:1.0.0",
        "servingImage": "us-central1-docker.pkg.dev/acme-new/images/serving:1.0.0",
        "modelArtifactUri": "gs://acme-new-models/churn/1",
    },
    "k8s-kserve": {
        "kubernetes:context": "dev-cluster",
        "owner": "ml",
        "costCenter": "cc-1",
        "dataBucket": "acme-new",
        "modelUri": "s3://acme-new/models/churn/v1",
        "oidcIssuerUrl": "https://login.example.com/realms/ml",
        "alerts": '{"emails": ["ml@example.com"]}',
        "redisPassword": "r",
        "postgresPassword": "p",
        "oidcClientSecret": "c",
        "cookieSecret": "0123456789abcdef0123456789abcdef",
    },
    "platform": {"owner": "ml", "costCenter": "cc-1"},
}


def template_of(directory: Path) -> dict:
    return yaml.safe_load((directory / "Pulumi.yaml").read_text()).get("template") or {}


@pytest.mark.parametrize("directory", PROJECT_DIRS, ids=lambda d: d.name)
def test_every_stack_is_a_pulumi_new_template(directory):
    template = template_of(directory)
    assert isinstance(template.get("description"), str) and template["description"].strip()
    config = template.get("config")
    assert isinstance(config, dict) and {"environment", "owner", "costCenter"} <= set(config)
    for key, entry in config.items():
        assert ":" not in key or key.split(":", 1)[0] in PROVIDER_NAMESPACES, key  # bare keys take the new name
        assert isinstance(entry.get("description"), str) and entry["description"].strip(), key
        assert set(entry) <= {"description", "default", "secret"}, key
        assert "default" not in entry or isinstance(entry["default"], str), f"{key}: `pulumi new` defaults are strings"
        assert not (entry.get("secret") and "default" in entry), f"{key}: a secret has no default"
    assert config["environment"]["default"] == "dev"  # a new stack starts unprotected and cheap
    assert set(TEMPLATE_ANSWERS[directory.name]) == {k for k, e in config.items() if "default" not in e}


@pytest.mark.parametrize("directory", PROJECT_DIRS, ids=lambda d: d.name)
def test_a_new_stack_from_the_template_plans(directory, tmp_path):
    """`pulumi new` then `pulumi up` with the prompts answered: the template's config is all the program needs."""
    from mlops_infra.engine import run_program

    copy = tmp_path / directory.name
    shutil.copytree(directory, copy, ignore=shutil.ignore_patterns("Pulumi.*.yaml", "uv.lock", "__pycache__"))
    config = template_of(directory)["config"]
    values = {k: e["default"] for k, e in config.items() if "default" in e} | TEMPLATE_ANSWERS[directory.name]
    stack = run_program(copy, "newstack", [f"{k}={v}" for k, v in values.items()])
    assert stack.environment() == "dev"
    assert stack.custom_resources()


def test_project_config_value_sets_a_provider_key():
    """``aws:region: {value: us-east-1}`` in Pulumi.yaml is the value itself, not a JSON object."""
    from mlops_infra.engine.project import load_project

    assert load_project(STACKS / "aws-sagemaker").config["aws:region"] == "us-east-1"
