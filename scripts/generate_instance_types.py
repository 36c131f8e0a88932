"""Generate mlops_infra/policy/facts/instance_types.json: the instance and machine types each job kind accepts.

    uv run --all-extras python scripts/generate_instance_types.py            # rewrite the file
    uv run --all-extras python scripts/generate_instance_types.py --check    # exit 1 when it is stale

SageMaker: the enumerations of botocore's SageMaker service model (``data/sagemaker/*/service-2.json``),
one per job kind, as the API validates them:

    endpoint    ProductionVariantInstanceType  (ProductionVariant.InstanceType)
    training    TrainingInstanceType           (ResourceConfig.InstanceType)
    processing  ProcessingInstanceType         (ProcessingClusterConfig.InstanceType)
    monitoring  ProcessingInstanceType         (MonitoringClusterConfig.InstanceType)
    transform   TransformInstanceType          (TransformResources.InstanceType)
    notebook    InstanceType                   (CreateNotebookInstance.InstanceType)

Instance types with local (NVMe) instance storage: botocore documents "You can't request a
VolumeKmsKeyId when using an instance type with local storage" (ResourceConfig, ProcessingClusterConfig,
TransformResources). The list is every enumerated type for which the sagemaker SDK's
``sagemaker.utils.instance_supports_kms`` (= ``volume_size_supported``: a family containing "d", or
starting with g5, g6, p5 or trn1) is False, the rule the SDK's estimators and session use to drop
``VolumeKmsKeyId``. It is the SDK's heuristic, not an AWS list: it is regenerated, never edited.

Vertex AI: machine types per use (prediction, training), transcribed into ``VERTEX_FAMILIES`` below
from the Vertex AI documentation pages named in ``VERTEX_SOURCES`` (no Vertex API enumerates them; the
REST MachineSpec only links those pages). The transcription date is ``VERTEX_TRANSCRIBED``.

Needs botocore and the sagemaker SDK (the ``sagemaker`` extra). No network.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
TARGET = ROOT / "mlops_infra" / "policy" / "facts" / "instance_types.json"

SAGEMAKER_SHAPES: dict[str, str] = {
    "endpoint": "ProductionVariantInstanceType",
    "training": "TrainingInstanceType",
    "processing": "ProcessingInstanceType",
    "monitoring": "ProcessingInstanceType",
    "transform": "TransformInstanceType",
    "notebook": "InstanceType",
}

VERTEX_SOURCES: dict[str, str] = {
    "prediction": "https://cloud.google.com/vertex-ai/docs/predictions/configure-compute#machine-types",
    "training": "https://cloud.google.com/vertex-ai/docs/training/configure-compute#machine-types",
}
VERTEX_TRANSCRIBED = "2026-12-01"
# What was checked against the documentation after transcription, and when (rows not listed are unverified).
VERTEX_VERIFIED: dict[str, str] = {
    "date": "2026-12-02",
    "prediction": "e2-standard 2-32, e2-highmem 2-16, e2-highcpu 2-32, n1-standard 2-32, n1-highmem 2-32 and "
    "n1-highcpu 4-32 match the E2 and N1 tables of the prediction page (a stored copy of "
    "cloud.google.com/vertex-ai/docs/predictions/configure-compute, read through a documentation search); the "
    "N2, N2D, C2, C2D, C3, A2, A3 and G2 rows could not be read that way and are not verified",
    "training": "not verified: the training page's tables could not be read through the documentation search",
}
# (family-kind, sizes) per use, as the pages above list them; a size "8g" keeps its suffix.
VERTEX_FAMILIES: dict[str, dict[str, tuple[str, ...]]] = {
    "prediction": {
        "n1-standard": ("2", "4", "8", "16", "32"),
        "n1-highmem": ("2", "4", "8", "16", "32"),
        "n1-highcpu": ("4", "8", "16", "32"),
        "e2-standard": ("2", "4", "8", "16", "32"),
        "e2-highmem": ("2", "4", "8", "16"),
        "e2-highcpu": ("2", "4", "8", "16", "32"),
        "n2-standard": ("2", "4", "8", "16", "32", "48", "64", "80"),
        "n2-highmem": ("2", "4", "8", "16", "32", "48", "64", "80"),
        "n2-highcpu": ("2", "4", "8", "16", "32", "48", "64", "80", "96"),
        "n2d-standard": ("2", "4", "8", "16", "32", "48", "64", "80", "96", "128", "224"),
        "n2d-highmem": ("2", "4", "8", "16", "32", "48", "64", "80", "96"),
        "n2d-highcpu": ("2", "4", "8", "16", "32", "48", "64", "80", "96", "128", "224"),
        "c2-standard": ("4", "8", "16", "30", "60"),
        "c2d-standard": ("2", "4", "8", "16", "32", "56", "112"),
        "c2d-highmem": ("2", "4", "8", "16", "32", "56", "112"),
        "c2d-highcpu": ("2", "4", "8", "16", "32", "56", "112"),
        "c3-standard": ("4", "8", "22", "44", "88", "176"),
        "c3-highmem": ("4", "8", "22", "44", "88", "176"),
        "c3-highcpu": ("4", "8", "22", "44", "88", "176"),
        "a2-highgpu": ("1g", "2g", "4g", "8g"),
        "a2-megagpu": ("16g",),
        "a2-ultragpu": ("1g", "2g", "4g", "8g"),
        "a3-highgpu": ("1g", "2g", "4g", "8g"),
        "a3-megagpu": ("8g",),
        "a3-ultragpu": ("8g",),
        "g2-standard": ("4", "8", "12", "16", "24", "32", "48", "96"),
    },
    "training": {
        "n1-standard": ("4", "8", "16", "32", "64", "96"),
        "n1-highmem": ("2", "4", "8", "16", "32", "64", "96"),
        "n1-highcpu": ("16", "32", "64", "96"),
        "e2-standard": ("4", "8", "16", "32"),
        "e2-highmem": ("2", "4", "8", "16"),
        "e2-highcpu": ("16", "32"),
        "n2-standard": ("4", "8", "16", "32", "48", "64", "80"),
        "n2-highmem": ("2", "4", "8", "16", "32", "48", "64", "80"),
        "n2-highcpu": ("16", "32", "48", "64", "80", "96"),
        "n2d-standard": ("4", "8", "16", "32", "48", "64", "80", "96", "128", "224"),
        "n2d-highmem": ("2", "4", "8", "16", "32", "48", "64", "80", "96"),
        "n2d-highcpu": ("16", "32", "48", "64", "80", "96", "128", "224"),
        "c2-standard": ("4", "8", "16", "30", "60"),
        "c2d-standard": ("2", "4", "8", "16", "32", "56", "112"),
        "c2d-highmem": ("2", "4", "8", "16", "32", "56", "112"),
        "c2d-highcpu": ("2", "4", "8", "16", "32", "56", "112"),
        "c3-standard": ("4", "8", "22", "44", "88", "176"),
        "c3-highmem": ("4", "8", "22", "44", "88", "176"),
        "c3-highcpu": ("4", "8", "22", "44", "88", "176"),
        "m1-ultramem": ("40", "80", "160"),
        "m1-megamem": ("96",),
        "a2-highgpu": ("1g", "2g", "4g", "8g"),
        "a2-megagpu": ("16g",),
        "a2-ultragpu": ("1g", "2g", "4g", "8g"),
        "a3-highgpu": ("1g", "2g", "4g", "8g"),
        "a3-megagpu": ("8g",),
        "a3-ultragpu": ("8g",),
        "g2-standard": ("4", "8", "12", "16", "24", "32", "48", "96"),
    },
}


def sagemaker_part() -> dict[str, Any]:
    """The SageMaker section: botocore's enumerations per job kind and the SDK's local-storage types."""
    import botocore  # noqa: PLC0415 - the sagemaker extra, imported when the script runs
    import botocore.session  # noqa: PLC0415
    from sagemaker.utils import instance_supports_kms  # noqa: PLC0415

    model = botocore.session.get_session().get_service_model("sagemaker")
    kinds = {kind: sorted(model.shape_for(shape).enum) for kind, shape in SAGEMAKER_SHAPES.items()}
    every = sorted({t for types in kinds.values() for t in types})
    return {
        "source": f"botocore {botocore.__version__} sagemaker service-2.json (API version {model.api_version})",
        "botocore_version": botocore.__version__,
        "shapes": dict(SAGEMAKER_SHAPES),
        "kinds": kinds,
        "local_storage": {
            "source": "sagemaker SDK (2.x) sagemaker.utils.instance_supports_kms is False",
            "types": [t for t in every if not instance_supports_kms(t)],
        },
    }


def vertex_part() -> dict[str, Any]:
    """The Vertex section: machine types per use, from the transcribed documentation tables."""
    return {
        "sources": dict(VERTEX_SOURCES),
        "transcribed": VERTEX_TRANSCRIBED,
        "verified": dict(VERTEX_VERIFIED),
        "uses": {
            use: sorted(f"{family}-{size}" for family, sizes in families.items() for size in sizes)
            for use, families in VERTEX_FAMILIES.items()
        },
    }


def document(today: dt.date) -> dict[str, Any]:
    """The whole data file (the SDK version is recorded, not compared: the rule has not changed across 2.x)."""
    import sagemaker  # noqa: PLC0415

    return {
        "generated": today.isoformat(),
        "generator": "scripts/generate_instance_types.py",
        "sagemaker_sdk_version": sagemaker.__version__,
        "sagemaker": sagemaker_part(),
        "vertex": vertex_part(),
    }


def render(data: dict[str, Any]) -> str:
    """The file's text: sorted keys in sections as built, two-space indent, trailing newline."""
    return json.dumps(data, indent=2) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when the committed file is not current")
    parser.add_argument("--out", type=Path, default=TARGET)
    args = parser.parse_args(argv)
    if args.check:
        committed = json.loads(args.out.read_text(encoding="utf-8"))
        current = {"sagemaker": sagemaker_part(), "vertex": vertex_part()}
        stale = [key for key, part in current.items() if committed.get(key) != part]
        if stale:
            print(f"{args.out} is stale ({', '.join(stale)}): rerun scripts/generate_instance_types.py")
            return 1
        return 0
    args.out.write_text(render(document(dt.datetime.now(dt.UTC).date())), encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
