"""The offline engine runs real Pulumi programs and captures what the engine would see."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from mlops_infra.engine import ProgramError, run_program

BUCKET_PROGRAM = """
import pulumi
import pulumi_aws as aws

config = pulumi.Config()
key = aws.kms.Key("key", enable_key_rotation=True, deletion_window_in_days=30)
bucket = aws.s3.Bucket("data", bucket=config.require("bucketName"), opts=pulumi.ResourceOptions(protect=True))
aws.s3.BucketServerSideEncryptionConfiguration(
    "data-sse",
    bucket=bucket.id,
    rules=[{"apply_server_side_encryption_by_default": {"sse_algorithm": "aws:kms", "kms_master_key_id": key.arn}}],
)
queue = aws.sqs.Queue("q", message_retention_seconds=1209600, kms_master_key_id=key.arn)
pulumi.export("bucketArn", bucket.arn)
pulumi.export("settings", config.require_object("settings"))
pulumi.export("password", config.require_secret("password"))
"""

STACK = """
config:
  demo:bucketName: demo-data
  demo:settings:
    replicas: 3
    zones: [a, b]
  demo:password:
    secure: AAABAG9mZmxpbmUtdGVzdC1jaXBoZXJ0ZXh0LWJ5dGVzISE=
"""


def test_captures_types_inputs_wiring_and_outputs(make_project):
    stack = run_program(make_project(BUCKET_PROGRAM, {"dev": STACK}), "dev")
    types = sorted(r.type for r in stack.resources)
    assert types == [
        "aws:kms/key:Key",
        "aws:s3/bucket:Bucket",
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        "aws:sqs/queue:Queue",
    ]
    key = stack.by_type("aws:kms/key:Key")[0]
    sse = stack.by_type("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration")[0]
    rule = sse.inputs["rules"][0]["applyServerSideEncryptionByDefault"]
    # Wire names are camelCase and the key ARN resolved through deterministic fake state.
    assert rule["sseAlgorithm"] == "aws:kms"
    assert rule["kmsMasterKeyId"].startswith("arn:aws:kms:us-east-1:123456789012:key/")
    assert key.urn in sse.dependencies
    assert sse.inputs["bucket"] == "demo-data"
    # Integers come back as ints, not floats.
    assert stack.by_type("aws:sqs/queue:Queue")[0].inputs["messageRetentionSeconds"] == 1209600
    assert stack.by_type("aws:s3/bucket:Bucket")[0].protect is True
    assert key.protect is False
    assert stack.outputs == {
        "bucketArn": "arn:aws:s3:::demo-data",
        "password": "[secret]",
        "settings": {"replicas": 3, "zones": ["a", "b"]},
    }


def test_urns_match_the_real_engine_format(make_project):
    stack = run_program(make_project(BUCKET_PROGRAM, {"dev": STACK}), "dev")
    urns = {r.urn for r in stack.resources}
    assert "urn:pulumi:dev::demo::aws:kms/key:Key::key" in urns
    assert all(r.parent is None for r in stack.resources)


def test_two_runs_give_identical_documents(make_project):
    project = make_project(BUCKET_PROGRAM, {"dev": STACK})
    first = json.dumps(run_program(project, "dev").to_json(), sort_keys=True)
    second = json.dumps(run_program(project, "dev").to_json(), sort_keys=True)
    assert first == second


def test_overrides_beat_stack_file_and_take_project_namespace(make_project):
    stack = run_program(make_project(BUCKET_PROGRAM, {"dev": STACK}), "dev", ["bucketName=other-bucket"])
    assert stack.config["demo:bucketName"] == "other-bucket"
    assert stack.outputs["bucketArn"] == "arn:aws:s3:::other-bucket"


def test_secret_config_values_never_reach_the_plan(make_project):
    program = """
import pulumi, pulumi_aws as aws
aws.ssm.Parameter("p", type="SecureString", value=pulumi.Config().require_secret("password"))
"""
    stack = run_program(make_project(program, {"dev": STACK.replace("demo:", "demo:")}), "dev", ["bucketName=x"])
    assert stack.resources[0].inputs["value"] == "[secret]"
    assert "AAABAG9mZmxpbmUtdGVzdC1jaXBoZXJ0ZXh0LWJ5dGVzISE=" not in json.dumps(stack.to_json())


def test_single_file_program(tmp_path):
    program = tmp_path / "tiny_program.py"
    program.write_text("import pulumi_aws as aws\naws.sqs.Queue('q')\n")
    stack = run_program(program, "dev")
    assert stack.project == "tiny-program"
    assert [r.urn for r in stack.resources] == ["urn:pulumi:dev::tiny-program::aws:sqs/queue:Queue::q"]


def test_nested_components_get_qualified_urns(make_project):
    program = """
import pulumi, pulumi_aws as aws
class Inner(pulumi.ComponentResource):
    def __init__(self, name, opts=None):
        super().__init__("mlops-infra:aws:Inner", name, None, opts)
        aws.sqs.Queue("q", opts=pulumi.ResourceOptions(parent=self))
        self.register_outputs({})
class Outer(pulumi.ComponentResource):
    def __init__(self, name, opts=None):
        super().__init__("mlops-infra:aws:Outer", name, None, opts)
        Inner("inner", pulumi.ResourceOptions(parent=self))
        self.register_outputs({})
Outer("outer")
"""
    stack = run_program(make_project(program), "dev")
    queue = stack.by_type("aws:sqs/queue:Queue")[0]
    assert queue.urn == "urn:pulumi:dev::demo::mlops-infra:aws:Outer$mlops-infra:aws:Inner$aws:sqs/queue:Queue::q"
    assert queue.parent == "urn:pulumi:dev::demo::mlops-infra:aws:Outer$mlops-infra:aws:Inner::inner"
    assert [r.custom for r in stack.resources if r.type.startswith("mlops-infra")] == [False, False]


def test_user_transforms_run_like_the_engine_runs_them(make_project):
    program = """
import pulumi, pulumi_aws as aws
def add_team(args):
    if args.type_ == "aws:sqs/queue:Queue":
        return pulumi.ResourceTransformResult({**args.props, "tags": {"team": "ml"}}, args.opts)
pulumi.runtime.register_resource_transform(add_team)
aws.sqs.Queue("q")
def own(args):
    return pulumi.ResourceTransformResult({**args.props, "delaySeconds": 5}, args.opts)
aws.sqs.Queue("delayed", opts=pulumi.ResourceOptions(transforms=[own]))
"""
    stack = run_program(make_project(program), "dev")
    queues = {r.name: r.inputs for r in stack.resources}
    assert queues["q"]["tags"] == {"team": "ml"}
    assert queues["delayed"] == {"delaySeconds": 5, "tags": {"team": "ml"}}


def test_the_program_sees_what_a_transform_replaced_removed_and_left(make_project):
    # Only replaced properties are serialized again: a removed one must vanish, an untouched one stay.
    program = """
import pulumi, pulumi_aws as aws
def edit(args):
    kept = {k: v for k, v in args.props.items() if k != "delaySeconds"}
    return pulumi.ResourceTransformResult({**kept, "messageRetentionSeconds": 60}, args.opts)
q = aws.sqs.Queue("q", delay_seconds=5, message_retention_seconds=30, visibility_timeout_seconds=7,
                  opts=pulumi.ResourceOptions(transforms=[edit]))
pulumi.export("seen", pulumi.Output.all(q.delay_seconds, q.message_retention_seconds, q.visibility_timeout_seconds))
"""
    stack = run_program(make_project(program), "dev")
    assert stack.outputs["seen"][1:] == [60, 7]
    assert stack.resources[0].inputs == {"messageRetentionSeconds": 60, "visibilityTimeoutSeconds": 7}


def test_only_the_properties_a_transform_replaced_make_the_wire_round_trip_and_the_result_is_a_full_ones():
    from pulumi.runtime import rpc
    from pulumi.runtime.sync_await import _sync_await

    from mlops_infra.engine.monitor import _transformed_inputs, serialized

    def round_trip(props: dict) -> dict:
        return rpc.deserialize_properties(_sync_await(rpc.serialize_properties(props, {})))

    # What the monitor receives is already deserialized: numbers are floats, None leaves dicts.
    received = round_trip({"name": "q", "tags": {"a": "1"}, "delaySeconds": 5, "policy": {"rules": [1, {"x": None}]}})
    transformed = {**received, "tags": {"a": "1", "team": "ml"}, "added": (True, 2), "emptied": None}
    del transformed["delaySeconds"]
    full = round_trip(transformed)
    result = _transformed_inputs(received, transformed)
    assert result == full
    assert "emptied" not in result and result["added"] == [True, 2]  # dropped, and the tuple is a list
    assert result["policy"] is received["policy"]  # unchanged values are not copied
    assert serialized(transformed) == _sync_await(rpc.serialize_properties(transformed, {}))


def test_a_components_transforms_run_on_its_descendants_nearest_first_and_may_add_dependencies(make_project):
    program = """
import pulumi, pulumi_aws as aws
first = aws.sqs.Queue("first")
def outer(args):
    return pulumi.ResourceTransformResult({**args.props, "delaySeconds": 1, "name": "outer"}, args.opts)
def inner(args):
    opts = pulumi.ResourceOptions.merge(args.opts, pulumi.ResourceOptions(depends_on=[first]))
    return pulumi.ResourceTransformResult({**args.props, "name": "inner"}, opts)
top = pulumi.ComponentResource("demo:index:Top", "top", opts=pulumi.ResourceOptions(transforms=[outer]))
mid = pulumi.ComponentResource("demo:index:Mid", "mid", opts=pulumi.ResourceOptions(parent=top, transforms=[inner]))
aws.sqs.Queue("leaf", opts=pulumi.ResourceOptions(parent=mid))
"""
    stack = run_program(make_project(program), "dev")
    leaf = next(r for r in stack.resources if r.name == "leaf")
    first = next(r for r in stack.resources if r.name == "first")
    assert leaf.inputs["delaySeconds"] == 1  # the grandparent's transform reached it
    assert leaf.inputs["name"] == "outer"  # the nearest (inner) ran first, the outer one after it
    assert first.urn in leaf.dependencies
    assert "delaySeconds" not in first.inputs


def test_dependencies_a_transform_adds_resolve_while_they_are_still_registering(make_project):
    # The added resources' URNs are futures of the program's loop, still pending when the leaves register.
    program = """
import pulumi, pulumi_aws as aws
firsts = [aws.sqs.Queue(f"first{i}") for i in range(5)]
def after_firsts(args):
    opts = pulumi.ResourceOptions.merge(args.opts, pulumi.ResourceOptions(depends_on=firsts))
    return pulumi.ResourceTransformResult(args.props, opts)
mid = pulumi.ComponentResource("demo:index:Mid", "mid", opts=pulumi.ResourceOptions(transforms=[after_firsts]))
for i in range(30):
    aws.sqs.Queue(f"leaf{i}", opts=pulumi.ResourceOptions(parent=mid))
"""
    project = make_project(program)
    for _ in range(3):
        stack = run_program(project, "dev")
        firsts = {r.urn for r in stack.resources if r.name.startswith("first")}
        leaves = [r for r in stack.resources if r.name.startswith("leaf")]
        assert len(leaves) == 30 and all(firsts <= set(r.dependencies) for r in leaves)


def test_dependencies_a_transform_adds_on_resources_declared_later_do_not_stall_the_plan(make_project):
    # More components than the SDK's executor threads (min(32, cores + 4)), each waiting for resources the
    # program declares after them: recording the URNs must not hold a thread until those register.
    program = """
import pulumi, pulumi_aws as aws
late = []
def after_late(args):
    opts = pulumi.ResourceOptions.merge(args.opts, pulumi.ResourceOptions(depends_on=list(late)))
    return pulumi.ResourceTransformResult(args.props, opts)
for i in range(40):
    opts = pulumi.ResourceOptions(transforms=[after_late])
    holder = pulumi.ComponentResource("demo:index:Holder", f"holder{i}", opts=opts)
    aws.sqs.Queue(f"leaf{i}", opts=pulumi.ResourceOptions(parent=holder))
late.extend(aws.sqs.Queue(f"late{i}") for i in range(3))
"""
    # In a process of its own, so a stall fails the test instead of hanging the suite.
    planner = (
        "import json, sys; from mlops_infra.engine import run_program; "
        "stack = run_program(sys.argv[1], 'dev'); "
        "print(json.dumps({r.name: {'urn': r.urn, 'dependencies': r.dependencies} for r in stack.resources}))"
    )
    try:
        completed = subprocess.run(
            [sys.executable, "-c", planner, str(make_project(program))],
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
    except subprocess.TimeoutExpired:
        pytest.fail("the plan stalled")
    resources = json.loads(completed.stdout)
    late = {resources[f"late{i}"]["urn"] for i in range(3)}
    leaves = [resources[f"leaf{i}"] for i in range(40)]
    assert all(late <= set(leaf["dependencies"]) for leaf in leaves)


def test_aliases_are_recorded(make_project):
    program = """
import pulumi, pulumi_aws as aws
aws.sqs.Queue("renamed", opts=pulumi.ResourceOptions(aliases=[pulumi.Alias(name="old-name")]))
"""
    stack = run_program(make_project(program), "dev")
    assert stack.resources[0].aliases == ["<same type>::old-name"]


@pytest.mark.parametrize(
    ("main", "stacks", "overrides", "expected"),
    [
        ("import pulumi\n", {"dev": "config:\n  demo:a: [unclosed\n"}, [], "Pulumi.dev.yaml is not valid YAML at line"),
        ("def broken(:\n    pass\n", {}, [], "__main__.py:1: syntax error"),
        ("raise RuntimeError('bucket name collides with prod')\n", {}, [], "bucket name collides with prod"),
        (
            "import not_a_module_anywhere\n",
            {},
            [],
            "could not import a module: No module named 'not_a_module_anywhere'",
        ),
        ("import pulumi\n", {}, ["novalue"], "--config 'novalue' must look like KEY=VALUE"),
    ],
)
def test_program_errors_become_one_paragraph_messages(make_project, main, stacks, overrides, expected):
    with pytest.raises(ProgramError) as caught:
        run_program(make_project(main, stacks), "dev", overrides)
    assert expected in str(caught.value)
    assert "Traceback" not in str(caught.value)


def test_exception_message_points_at_the_user_line(make_project):
    with pytest.raises(ProgramError) as caught:
        run_program(make_project("x = 1\nraise ValueError('no region set')\n"), "dev")
    assert "ValueError: no region set" in str(caught.value)
    assert "__main__.py:2" in str(caught.value)


def test_missing_program_and_missing_project_file(tmp_path):
    with pytest.raises(ProgramError, match="program not found"):
        run_program(tmp_path / "nowhere", "dev")
    with pytest.raises(ProgramError, match=r"has no Pulumi\.yaml"):
        run_program(tmp_path, "dev")


def test_non_python_runtime_is_refused(make_project):
    project = make_project("", project_yaml="name: demo\nruntime: nodejs\n")
    with pytest.raises(ProgramError, match="runtime is 'nodejs'"):
        run_program(project, "dev")


def test_program_modules_do_not_leak_between_runs(make_project, tmp_path):
    project = make_project("import helper_mod\nhelper_mod.make()\n")
    (project / "helper_mod.py").write_text("import pulumi_aws as aws\ndef make():\n    aws.sqs.Queue('first')\n")
    assert [r.name for r in run_program(project, "dev").resources] == ["first"]
    (project / "helper_mod.py").write_text("import pulumi_aws as aws\ndef make():\n    aws.sqs.Queue('second')\n")
    assert [r.name for r in run_program(project, "dev").resources] == ["second"]


def test_library_modules_imported_during_a_run_stay_loaded(tmp_path, monkeypatch):
    """A run whose directory contains site-packages (e.g. the repo root with .venv) keeps library modules."""
    import sys

    from mlops_infra.engine import run_function

    def program():
        import pulumi_kubernetes.core.v1 as core  # lazily imported by the provider SDK

        core.ConfigMap("cm", metadata={"name": "cm"}, data={"a": "b"})

    site_root = Path(sys.prefix).resolve().parent
    run_function(program, directory=site_root)
    assert "pulumi_kubernetes.meta.v1" in sys.modules
    second = run_function(program, directory=site_root)
    assert [r.type for r in second.resources] == ["kubernetes:core/v1:ConfigMap"]
