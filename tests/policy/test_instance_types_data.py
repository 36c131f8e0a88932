"""The instance-type data file is generated, current, and the one source of the type validators."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest

from mlops_infra.gcp import machines
from mlops_infra.policy.facts import instance_types as facts
from mlops_infra.spec.compute import SIZE_CLASSES, Compute, check_aws_instance_type, check_gcp_machine_type

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "generate_instance_types", ROOT / "scripts" / "generate_instance_types.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["generate_instance_types"] = module
    spec.loader.exec_module(module)
    return module


def test_the_committed_sagemaker_part_is_what_the_installed_botocore_and_sdk_give(generator: ModuleType) -> None:
    pytest.importorskip("botocore")
    pytest.importorskip("sagemaker")
    committed = json.loads(facts.DATA_FILE.read_text(encoding="utf-8"))
    assert committed["sagemaker"] == generator.sagemaker_part(), "rerun scripts/generate_instance_types.py"
    assert committed["vertex"] == generator.vertex_part()
    assert committed["generator"] == "scripts/generate_instance_types.py" and committed["generated"]
    assert committed["sagemaker"]["botocore_version"] in committed["sagemaker"]["source"]


def test_check_mode_reports_a_stale_file(generator: ModuleType, tmp_path: Path) -> None:
    pytest.importorskip("sagemaker")
    stale = json.loads(facts.DATA_FILE.read_text(encoding="utf-8"))
    stale["sagemaker"]["kinds"]["training"].append("ml.c5.3xlarge")
    target = tmp_path / "instance_types.json"
    target.write_text(json.dumps(stale))
    assert generator.main(["--check", "--out", str(target)]) == 1
    target.write_text(facts.DATA_FILE.read_text(encoding="utf-8"))
    assert generator.main(["--check", "--out", str(target)]) == 0


def test_local_storage_is_the_sdk_rule_over_every_enumerated_type() -> None:
    utils = pytest.importorskip("sagemaker.utils")
    every = facts.sagemaker_types()
    assert facts.local_storage_types() == {t for t in every if not utils.instance_supports_kms(t)}
    for local in ("ml.g4dn.xlarge", "ml.g5.xlarge", "ml.p3dn.24xlarge", "ml.m5d.large", "ml.c5d.xlarge"):
        assert facts.has_local_storage(local), local
    for ebs in ("ml.m5.large", "ml.c5.xlarge", "ml.p3.2xlarge", "ml.t3.medium", "ml.inf2.xlarge"):
        assert not facts.has_local_storage(ebs), ebs


def test_the_enumerations_per_kind_are_the_service_model_shapes() -> None:
    botocore_session = pytest.importorskip("botocore.session")
    model = botocore_session.get_session().get_service_model("sagemaker")
    shapes = facts.data()["sagemaker"]["shapes"]
    assert set(shapes) == set(facts.SAGEMAKER_KINDS)
    for kind, shape in shapes.items():
        assert facts.sagemaker_types(kind) == set(model.shape_for(shape).enum), kind
    # Model Monitor clusters take the processing enumeration (MonitoringClusterConfig.InstanceType).
    member = model.shape_for("MonitoringClusterConfig").members["InstanceType"]
    assert member.name == shapes["monitoring"] == "ProcessingInstanceType"
    assert "ml.c5.3xlarge" not in facts.sagemaker_types()


def test_one_validator_per_value_type() -> None:
    with pytest.raises(ValueError, match=r"'ml\.c5\.3xlarge' is not a SageMaker instance type"):
        check_aws_instance_type("ml.c5.3xlarge")
    with pytest.raises(ValueError, match=r"SageMaker does not offer ml\.t3\.medium for endpoint jobs"):
        check_aws_instance_type("ml.t3.medium", "endpoint")
    assert check_aws_instance_type("ml.p6-b200.48xlarge", "training") == "ml.p6-b200.48xlarge"  # no regex guess
    with pytest.raises(ValueError, match=r"Vertex AI does not offer m1-ultramem-40 for prediction"):
        check_gcp_machine_type("m1-ultramem-40", "prediction")
    with pytest.raises(ValueError, match="'n1-standard-3' is not a Vertex AI machine type"):
        check_gcp_machine_type("n1-standard-3")


def test_every_size_class_is_offered_where_the_platform_uses_it() -> None:
    for size, row in SIZE_CLASSES.items():
        for kind in ("endpoint", "training", "processing", "monitoring"):
            assert row.aws_instance_type in facts.sagemaker_types(kind), (size, kind)
        assert row.gcp_machine_type in facts.vertex_machine_types("prediction"), size
        compute = Compute(size=size)
        assert compute.gcp_machine("prediction")[0] in facts.vertex_machine_types("prediction"), size
        assert compute.gcp_machine("training")[0] in facts.vertex_machine_types("training"), size
    # The measured gap: Vertex training offers no n1-standard-2, so the small class trains on n1-highmem-2.
    assert "n1-standard-2" not in facts.vertex_machine_types("training")
    assert Compute(size="small").gcp_machine("training")[0] == "n1-highmem-2"


def test_vertex_lists_name_their_sources_and_the_memory_table_covers_only_listed_families() -> None:
    vertex = facts.data()["vertex"]
    assert set(vertex["sources"]) == set(facts.VERTEX_USES) and vertex["transcribed"]
    assert all(url.startswith("https://cloud.google.com/vertex-ai/docs/") for url in vertex["sources"].values())
    assert machines.vertex_machine_types is facts.vertex_machine_types  # one source
    for family, kind in machines.MEMORY_PER_VCPU_GB:  # every family with a ratio is one Vertex offers
        assert any(m.startswith(f"{family}-{kind}-") for m in facts.vertex_machine_types()), (family, kind)
    # The documented prediction table: n1-standard-4 has 15 GB.
    assert machines.step_limits("n1-standard-4") == ("4", "15G")


def test_vertex_endpoints_refuse_a_training_only_machine() -> None:
    from pydantic import ValidationError

    from mlops_infra.gcp.endpoint import DeploymentArgs

    with pytest.raises(ValidationError, match=r"machine_type\n.*does not offer m1-ultramem-40 for prediction"):
        DeploymentArgs.model_validate({"key": "blue", "model": "m", "machine_type": "m1-ultramem-40"})
