"""The platform spec refuses an AWS instance type SageMaker does not offer for the job kind, naming the field."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from mlops_infra.spec.compute import Compute, SizeClass
from mlops_infra.spec.endpoint import EndpointSpec
from mlops_infra.spec.training import TrainingSpec

IMAGE = {"image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/churn:1.0"}
MODEL = {"artifact": "churn/model.tar.gz"}


def _error(model: type, data: dict[str, object]) -> str:
    with pytest.raises(ValidationError) as raised:
        model.model_validate(data)
    [error] = raised.value.errors()
    return ".".join(str(p) for p in error["loc"]) + ": " + error["msg"]


def test_a_type_that_does_not_exist_is_refused_on_compute() -> None:
    message = _error(Compute, {"instance_type": "ml.c5.3xlarge"})
    assert message.startswith("instance_type: ") and "'ml.c5.3xlarge' is not a SageMaker instance type" in message


def test_training_compute_takes_training_types() -> None:
    message = _error(TrainingSpec, {"image": IMAGE, "compute": {"instance_type": "ml.m5d.large"}})
    assert message.startswith("compute: ")
    assert "instance_type: SageMaker does not offer ml.m5d.large for training jobs" in message
    spec = TrainingSpec.model_validate({"image": IMAGE, "compute": {"instance_type": "ml.g5.2xlarge"}})
    assert spec.compute.aws_instance_type() == "ml.g5.2xlarge"


def test_endpoint_compute_takes_endpoint_types() -> None:
    data = {"name": "churn", "model": MODEL, "compute": {"instance_type": "ml.t3.medium"}}
    message = _error(EndpointSpec, data)
    assert message.startswith("compute: ")
    assert "instance_type: SageMaker does not offer ml.t3.medium for endpoint jobs" in message
    assert EndpointSpec.model_validate({**data, "compute": {"instance_type": "ml.t2.medium"}})


@pytest.mark.parametrize("size", list(SizeClass))
def test_every_size_class_passes_both_kinds(size: SizeClass) -> None:
    compute = Compute(size=size)
    assert compute.offered_for("training") is compute and compute.offered_for("endpoint") is compute
