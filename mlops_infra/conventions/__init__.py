"""Cross-cutting conventions: names, tags/labels, protection. Components never re-implement these."""

from mlops_infra.conventions.context import PlatformContext, current_platform, init_platform
from mlops_infra.conventions.naming import NameRule, content_suffixed, fit_name, physical_name
from mlops_infra.conventions.protection import STATEFUL_TYPES, is_stateful
from mlops_infra.conventions.taggable import tag_property
from mlops_infra.conventions.transform import make_stack_transform, tagged_props

__all__ = [
    "STATEFUL_TYPES",
    "NameRule",
    "PlatformContext",
    "content_suffixed",
    "current_platform",
    "fit_name",
    "init_platform",
    "is_stateful",
    "make_stack_transform",
    "physical_name",
    "tag_property",
    "tagged_props",
]
