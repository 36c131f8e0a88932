"""Vendor one custom resource's full openAPIV3Schema (descriptions dropped) into tests/k8s/crd_schemas/.

Usage: python scripts/vendor_crd_schema.py UPSTREAM.yaml KIND VERSION OUT_NAME "SOURCE (repo, file, tag, commit)"

UPSTREAM.yaml is a CRD file (one or many documents, e.g. Istio's customresourcedefinitions.gen.yaml).
Unlike scripts/vendor_kserve_schema.py (a subset), the whole schema of KIND at VERSION is kept:
types, formats, enums, patterns, bounds and required, verbatim. CEL rules (x-kubernetes-validations)
are kept as data; jsonschema does not evaluate them.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import yaml

SCHEMA_DIR = Path(__file__).resolve().parents[1] / "tests/k8s/crd_schemas"


def without_descriptions(node: Any) -> Any:
    """The schema without ``description`` keys (property names called description are kept)."""
    if isinstance(node, dict):
        return {
            k: (without_descriptions(v) if k != "properties" else {n: without_descriptions(p) for n, p in v.items()})
            for k, v in node.items()
            if k != "description"
        }
    if isinstance(node, list):
        return [without_descriptions(item) for item in node]
    return node


def main(upstream_file: str, kind: str, version: str, out_name: str, source: str) -> None:
    documents = [d for d in yaml.safe_load_all(Path(upstream_file).read_text()) if isinstance(d, dict)]
    crds = [d for d in documents if d.get("kind") == "CustomResourceDefinition"]
    (crd,) = [d for d in crds if d["spec"]["names"]["kind"] == kind]
    (served,) = [v for v in crd["spec"]["versions"] if v["name"] == version]
    schema = without_descriptions(served["schema"]["openAPIV3Schema"])
    # The API server adds these to every custom resource; some CRDs (Istio's) leave them implicit.
    implicit = {"apiVersion": {"type": "string"}, "kind": {"type": "string"}, "metadata": {"type": "object"}}
    schema["properties"] = {**implicit, **schema["properties"]}
    header = (
        f"# {kind}, {crd['spec']['group']}/{version}: the CRD's full openAPIV3Schema, descriptions dropped.\n"
        f"# Upstream: {source}.\n"
        f"# Regenerate with scripts/vendor_crd_schema.py UPSTREAM.yaml {kind} {version} {out_name} SOURCE.\n"
        "# The test adds additionalProperties: false to every object that lists properties (strict, like\n"
        "#   kubectl's field validation); CEL rules (x-kubernetes-validations) are not evaluated.\n"
    )
    (SCHEMA_DIR / out_name).write_text(header + yaml.safe_dump(schema, sort_keys=True, width=120))


if __name__ == "__main__":
    main(*sys.argv[1:6])
