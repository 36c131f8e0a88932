"""YAML read with libyaml's safe loader when PyYAML was built with it (its wheels are).

The C loader builds the same Python values as ``yaml.safe_load`` at about a tenth of the time (the
packaged price files alone are ~8,000 nodes), and its errors carry the same problem marks.
"""

from __future__ import annotations

from typing import IO, Any

import yaml

SAFE_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def safe_load(source: str | IO[str]) -> Any:
    """``yaml.safe_load`` with :data:`SAFE_LOADER`."""
    return yaml.load(source, Loader=SAFE_LOADER)  # noqa: S506 - a safe loader, C or pure Python
