"""Stable physical names: ``{project}-{environment}-{name}``, cut to each service's limit.

Names are never random, so URNs and physical names stay the same across runs. When a name
is too long it is cut and a short hash of the full name is appended, so two long names that
share a prefix stay distinct.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

HASH_LENGTH = 8


@dataclass(frozen=True)
class NameRule:
    """A cloud service's naming constraints."""

    max_length: int
    allowed: str = r"A-Za-z0-9-"  # regex character-class body
    separator: str = "-"
    lowercase: bool = False
    prefix: str = ""  # for example "alias/" for KMS aliases (counts toward max_length)


# AWS limits (characters), from each service's API reference.
S3_BUCKET = NameRule(63, r"a-z0-9-", lowercase=True)
IAM_ROLE = NameRule(64, r"A-Za-z0-9+=,.@_-")
IAM_POLICY = NameRule(128, r"A-Za-z0-9+=,.@_-")
SAGEMAKER = NameRule(63)
SAGEMAKER_PIPELINE = NameRule(256)
FEATURE_GROUP = NameRule(64)
GLUE_DATABASE = NameRule(255, r"a-z0-9_", separator="_", lowercase=True)
SQS_QUEUE = NameRule(80, r"A-Za-z0-9_-")
SNS_TOPIC = NameRule(256, r"A-Za-z0-9_-")
CLOUDTRAIL = NameRule(128, r"A-Za-z0-9._-")
EVENTBRIDGE_RULE = NameRule(64, r"A-Za-z0-9._-")
SCHEDULER_SCHEDULE = NameRule(64, r"A-Za-z0-9._-")
STEP_FUNCTIONS_STATE_MACHINE = NameRule(80, r"A-Za-z0-9_-")
CLOUDWATCH_ALARM = NameRule(255, r"A-Za-z0-9._/-")
LOG_GROUP = NameRule(512, r"A-Za-z0-9._/#-")
KMS_ALIAS = NameRule(256, r"A-Za-z0-9/_-", prefix="alias/")
BUDGET = NameRule(100, r"A-Za-z0-9_.-")
MWAA_ENVIRONMENT = NameRule(80, r"A-Za-z0-9_-")

# GCP limits.
GCS_BUCKET = NameRule(63, r"a-z0-9-", lowercase=True)
GCP_SERVICE_ACCOUNT_ID = NameRule(30, r"a-z0-9-", lowercase=True)
GCP_CUSTOM_ROLE_ID = NameRule(64, r"A-Za-z0-9_.", separator="_")
GCP_RESOURCE = NameRule(63, r"a-z0-9-", lowercase=True)  # RFC 1035 style ids (KMS, scheduler, AR repos)
BIGQUERY_ID = NameRule(1024, r"A-Za-z0-9_", separator="_")
VERTEX_FEATURE_ID = NameRule(60, r"a-z0-9_", separator="_", lowercase=True)

# Kubernetes DNS-1123 label (namespaces, services) and subdomain (most objects).
K8S_LABEL_NAME = NameRule(63, r"a-z0-9-", lowercase=True)
K8S_SUBDOMAIN_NAME = NameRule(253, r"a-z0-9.-", lowercase=True)


def _short_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:HASH_LENGTH]


def fit_name(raw: str, rule: NameRule) -> str:
    """Sanitize ``raw`` for ``rule``; cut it with a stable hash suffix when too long."""
    text = raw.lower() if rule.lowercase else raw
    text = re.sub(rf"[^{rule.allowed}]+", rule.separator, text)
    text = re.sub(rf"{re.escape(rule.separator)}{{2,}}", rule.separator, text).strip(rule.separator)
    if not text:
        raise ValueError(f"name {raw!r} has no characters allowed by this service ({rule.allowed})")
    budget = rule.max_length - len(rule.prefix)
    if len(text) > budget:
        head = text[: budget - HASH_LENGTH - len(rule.separator)].rstrip(rule.separator)
        text = f"{head}{rule.separator}{_short_hash(raw)}"
    return f"{rule.prefix}{text}"


def physical_name(project: str, environment: str, name: str, rule: NameRule = SAGEMAKER) -> str:
    """``{project}-{environment}-{name}`` fitted to ``rule``."""
    return fit_name(rule.separator.join((project, environment, name)), rule)


def content_suffixed(base: str, content: str, rule: NameRule) -> str:
    """``base`` plus a hash of ``content``: a new name (so a new resource) whenever content changes.

    Used for SageMaker models and endpoint configs, which cannot be edited in place.
    """
    suffix = _short_hash(content)
    budget = rule.max_length - len(rule.prefix) - HASH_LENGTH - len(rule.separator)
    head = fit_name(base, NameRule(budget, rule.allowed, rule.separator, rule.lowercase))
    return f"{rule.prefix}{head}{rule.separator}{suffix}"
