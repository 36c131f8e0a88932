"""docs/platform.md shows the size-class table exactly as the code defines it."""

import re
from pathlib import Path

from mlops_infra.spec.compute import SIZE_CLASSES

DOC = Path(__file__).resolve().parents[2] / "docs" / "platform.md"


def rendered_rows() -> list[str]:
    rows = []
    for size, row in SIZE_CLASSES.items():
        gcp = row.gcp_machine_type
        if row.gcp_training_machine_type:
            gcp += f" (training: {row.gcp_training_machine_type})"
        if row.gcp_accelerator_type:
            gcp += f" + {row.gcp_accelerator_count} x {row.gcp_accelerator_type}"
        k8s = f"{row.kubernetes.cpu} CPU, {row.kubernetes.memory}"
        if row.kubernetes.gpu:
            k8s += f", {row.kubernetes.gpu} GPU"
        rows.append(f"| {size.value} | {row.aws_instance_type} | {gcp} | {k8s} |")
    return rows


def test_size_class_table_in_the_docs_matches_the_code():
    text = DOC.read_text()
    block = re.search(r"<!-- size-classes:start -->\n(.*?)<!-- size-classes:end -->", text, re.S)
    assert block, "docs/platform.md lost its size-classes block"
    documented = [line for line in block.group(1).splitlines() if line.startswith("| ") and "---" not in line][1:]
    assert documented == rendered_rows()
