"""Generate mlops_infra/conventions/tag_properties.json: the tag/label property of every provider resource type.

    uv run --all-extras python scripts/generate_tag_properties.py            # rewrite the file
    uv run --all-extras python scripts/generate_tag_properties.py --check    # exit 1 when it is stale

The answer is the one ``mlops_infra.conventions.taggable`` computes by inspecting each resource
class's constructor in the installed pulumi-aws, pulumi-gcp and pulumi-kubernetes SDKs. The file
lets a process that never imported those SDKs (the policy pack, ``mlops-infra check`` on a saved
plan) answer without importing them: importing a provider SDK's subpackages costs seconds to tens
of seconds per package. It records each SDK's version; ``taggable`` uses the table only while the
installed versions match, and inspects the SDK otherwise. Regenerate after a provider bump.
No network.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import json
import sys
from importlib import metadata
from pathlib import Path

from pulumi.runtime import rpc

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mlops_infra.conventions import taggable  # noqa: E402

TARGET = ROOT / "mlops_infra" / "conventions" / "tag_properties.json"


def _type_tokens(package: str) -> list[str]:
    """Every resource type token the SDK registers for ``package`` (imports the SDK)."""
    importlib.import_module(taggable.SDK_MODULES[package])
    tokens: set[str] = set()
    for module_key, modules in rpc._RESOURCE_MODULES.items():
        if not module_key.startswith(f"{package}:"):
            continue
        for resource_module in modules:
            info = getattr(resource_module, "mod_info", None) or {}
            tokens.update(t for t in info.get("classes", {}) if t.count(":") == 2)
    return sorted(tokens)


def build() -> dict[str, object]:
    sdks: dict[str, str] = {}
    types: dict[str, str | None] = {}
    for package, module in sorted(taggable.SDK_MODULES.items()):
        sdks[module] = metadata.version(module.replace("_", "-"))
        for token in _type_tokens(package):
            prop = taggable.introspected_tag_property(token)
            if prop != taggable.fallback_tag_property(token):
                types[token] = prop  # listed: taggable, or an SDK class the fallback would misjudge (null)
    return {
        "generated": dt.date.today().isoformat(),
        "generator": "scripts/generate_tag_properties.py",
        "sdks": sdks,
        "types": dict(sorted(types.items())),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when the committed file is stale")
    args = parser.parse_args()
    data = build()
    if args.check:
        current = json.loads(TARGET.read_text(encoding="utf-8"))
        stale = current["sdks"] != data["sdks"] or current["types"] != data["types"]
        print("stale" if stale else "up to date")
        return 1 if stale else 0
    TARGET.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {TARGET.relative_to(ROOT)}: {len(data['types'])} taggable types")  # type: ignore[arg-type]
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
