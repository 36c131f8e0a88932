"""Rewrite tests/k8s/crd_schemas/kserve-v1beta1-inferenceservice.yaml from an upstream KServe CRD.

Usage: python scripts/vendor_kserve_schema.py UPSTREAM_CRD.yaml TAG COMMIT

UPSTREAM_CRD.yaml is kserve/kserve config/crd/full/serving.kserve.io_inferenceservices.yaml at TAG.
The vendored file keeps the property tree it already has (the fields mlops_infra.k8s.endpoint
sets) plus the Standard-mode canary (spec.canary[].trafficPercent, spec.canary[].predictor with
the stable predictor's fields, predictor.name); every kept node is copied from upstream verbatim
(types, formats, enums, patterns, minimum/maximum, required), without descriptions.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import yaml

VENDORED = Path(__file__).resolve().parents[1] / "tests/k8s/crd_schemas/kserve-v1beta1-inferenceservice.yaml"
CANARY_PREDICTOR_DROPS = {"maxReplicas", "scaleMetric", "scaleTarget", "canaryTrafficPercent"}  # fixed replicas


def _copy(upstream: dict[str, Any], kept: dict[str, Any] | None) -> dict[str, Any]:
    """``upstream`` without descriptions, its properties limited to those ``kept`` lists (all when None)."""
    out = {k: v for k, v in upstream.items() if k not in ("description", "properties", "items", "required")}
    if "properties" in upstream:
        names = upstream["properties"] if kept is None or "properties" not in kept else kept["properties"]
        out["properties"] = {
            name: _copy(upstream["properties"][name], (kept or {}).get("properties", {}).get(name))
            for name in names
            if name in upstream["properties"]
        }
        missing = [n for n in names if n not in upstream["properties"]]
        if missing:
            raise SystemExit(f"upstream has no {missing}: the endpoint sets fields this KServe does not know")
        required = [r for r in upstream.get("required", []) if r in out["properties"]]
        if required:
            out["required"] = required
    if "items" in upstream:
        out["items"] = _copy(upstream["items"], (kept or {}).get("items"))
    return out


def main(upstream_file: str, tag: str, commit: str) -> None:
    crd = yaml.safe_load(Path(upstream_file).read_text())
    version = next(v for v in crd["spec"]["versions"] if v["name"] == "v1beta1")
    upstream = version["schema"]["openAPIV3Schema"]
    kept = yaml.safe_load(VENDORED.read_text())
    predictor = kept["properties"]["spec"]["properties"]["predictor"]
    predictor["properties"]["name"] = {}
    canary_predictor = {
        "properties": {k: v for k, v in predictor["properties"].items() if k not in CANARY_PREDICTOR_DROPS}
    }
    kept["properties"]["spec"]["properties"]["canary"] = {
        "items": {"properties": {"predictor": canary_predictor, "trafficPercent": {}}}
    }
    subset = _copy(upstream, kept)
    header = (
        "# KServe InferenceService, serving.kserve.io/v1beta1: a SUBSET of the CRD's openAPIV3Schema.\n"
        "# Upstream: github.com/kserve/kserve, file config/crd/full/serving.kserve.io_inferenceservices.yaml\n"
        f"#   at tag {tag} (commit {commit}, controller-gen "
        f"{crd['metadata']['annotations'].get('controller-gen.kubebuilder.io/version')}).\n"
        "# Regenerate with scripts/vendor_kserve_schema.py UPSTREAM_CRD.yaml TAG COMMIT.\n"
        "# Why vendored: the KServe Python SDK (the registry package with these models) pulls numpy,\n"
        "#   pandas, grpcio-tools, fastapi and a protobuf pin; too heavy for a test extra.\n"
        "# What is copied: exactly the properties mlops_infra.k8s.endpoint sets, verbatim (types, formats,\n"
        "#   enums, patterns, minimum/maximum, required); descriptions dropped. The test adds\n"
        "#   additionalProperties: false to every object that lists properties, so a field we start\n"
        "#   setting must be copied here first.\n"
    )
    VENDORED.write_text(header + yaml.safe_dump(subset, sort_keys=True, width=120))


if __name__ == "__main__":
    main(*sys.argv[1:4])
