"""Machine types become kfp step limits: vCPU and whole GB of memory."""

import pytest

from mlops_infra.gcp.machines import step_limits


@pytest.mark.parametrize(
    ("machine", "limits"),
    [
        ("n1-standard-4", ("4", "15G")),
        ("n1-standard-16", ("16", "60G")),
        ("n1-highmem-8", ("8", "52G")),
        ("e2-standard-2", ("2", "8G")),
        # A family without a known memory ratio keeps the vCPU limit only; GPU shapes set no limits.
        ("c3-standard-4", ("4", None)),
        ("a2-highgpu-1g", (None, None)),
    ],
)
def test_step_limits(machine, limits):
    assert step_limits(machine) == limits
