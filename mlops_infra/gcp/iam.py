"""GCP IAM helpers: service-agent identities and the roles the platform may never grant."""

from __future__ import annotations

import enum
import re
from typing import Annotated

import pulumi
from pydantic import AfterValidator

from mlops_infra.outputs import concat

# Basic ("primitive") roles grant thousands of permissions across every service in a project.
PRIMITIVE_ROLES: frozenset[str] = frozenset({"roles/owner", "roles/editor", "roles/viewer"})

KMS_ENCRYPTER_DECRYPTER = "roles/cloudkms.cryptoKeyEncrypterDecrypter"

_PRINCIPAL = re.compile(r"^(?:group|user|serviceAccount):[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$")


def check_principal(value: str) -> str:
    """An IAM principal: ``group:``, ``user:`` or ``serviceAccount:`` and an e-mail (never allUsers)."""
    if not _PRINCIPAL.fullmatch(value):
        raise ValueError(f"{value!r} is not an IAM principal like group:ml-team@example.com")
    return value


Principal = Annotated[str, AfterValidator(check_principal)]
"""One identity (user, group or service account); public principals are not principals here."""


class ServiceAgent(enum.StrEnum):
    """Google-managed identities that encrypt data with a customer-managed key on our behalf."""

    AIPLATFORM = "aiplatform"
    BIGQUERY = "bigquery"
    STORAGE = "storage"
    ARTIFACT_REGISTRY = "artifactregistry"


_AGENT_EMAILS: dict[ServiceAgent, str] = {
    ServiceAgent.AIPLATFORM: "service-{n}@gcp-sa-aiplatform.iam.gserviceaccount.com",
    ServiceAgent.BIGQUERY: "bq-{n}@bigquery-encryption.iam.gserviceaccount.com",
    ServiceAgent.STORAGE: "service-{n}@gs-project-accounts.iam.gserviceaccount.com",
    ServiceAgent.ARTIFACT_REGISTRY: "service-{n}@gcp-sa-artifactregistry.iam.gserviceaccount.com",
}


# Not in ServiceAgent: only a drift workflow needs it, so the platform key grants it on demand.
WORKFLOWS_AGENT_EMAIL = "service-{n}@gcp-sa-workflows.iam.gserviceaccount.com"


def workflows_agent_member(project_number: pulumi.Input[str]) -> pulumi.Output[str]:
    """``serviceAccount:`` of the Cloud Workflows service agent, which encrypts workflow data with CMEK."""
    return pulumi.Output.from_input(project_number).apply(
        lambda n: "serviceAccount:" + WORKFLOWS_AGENT_EMAIL.format(n=n)
    )


PUBSUB_AGENT_EMAIL = "service-{n}@gcp-sa-pubsub.iam.gserviceaccount.com"
"""The Pub/Sub service agent: encrypts CMEK topics' messages and signs Eventarc's push requests."""


def pubsub_agent_member(project_number: pulumi.Input[str]) -> pulumi.Output[str]:
    """``serviceAccount:`` of the Pub/Sub service agent of the project with ``project_number``."""
    return pulumi.Output.from_input(project_number).apply(lambda n: "serviceAccount:" + PUBSUB_AGENT_EMAIL.format(n=n))


def service_agent_member(agent: ServiceAgent, project_number: pulumi.Input[str]) -> pulumi.Output[str]:
    """``serviceAccount:<agent email>`` for the project with ``project_number``."""
    template = _AGENT_EMAILS[agent]
    return pulumi.Output.from_input(project_number).apply(lambda n: "serviceAccount:" + template.format(n=n))


def service_account_member(email: pulumi.Input[str]) -> pulumi.Output[str]:
    """``serviceAccount:<email>``."""
    return concat("serviceAccount:", email)
