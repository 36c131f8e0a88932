"""Physical names of account-global AWS resources (IAM roles, budgets): the region is part of the name.

IAM role and AWS Budgets names are unique per *account*, not per region, so the same project and
environment deployed to two regions of one account would collide on ``{project}-{env}-{name}``.
These names are ``{project}-{env}-{region}-{name}``, fitted to the service's limit (a long name
is cut and keeps a hash of the full name). Only physical names change; URNs do not.
"""

from __future__ import annotations

from typing import Any

import pulumi

from mlops_infra.aws.account import region_name
from mlops_infra.component import PlatformComponent
from mlops_infra.conventions.naming import NameRule, physical_name


def regional_name(project: str, environment: str, region: str, name: str, rule: NameRule) -> str:
    """``{project}-{environment}-{region}-{name}`` fitted to ``rule``."""
    return physical_name(project, environment, f"{region}-{name}", rule)


def global_name(component: PlatformComponent[Any], name: str, rule: NameRule) -> pulumi.Output[str]:
    """The regional physical name of an account-global child of ``component``, in its provider's region."""
    settings = component.platform.settings
    environment = component.platform.environment
    region = region_name(pulumi.InvokeOutputOptions(parent=component))
    return region.apply(lambda known: regional_name(settings.project, environment, known, name, rule))
