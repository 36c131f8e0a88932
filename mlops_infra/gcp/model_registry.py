"""Vertex AI Model Registry: CMEK model artifacts, a serving-image repository, and registered model versions.

Version aliases are the approval mechanism: a pipeline registers a version as ``challenger``;
a reviewer promotes it by giving it the approved alias (``champion`` by default), and in
protected environments endpoints deploy only versions that carry the approved alias.
"""

from __future__ import annotations

import re
from typing import Any

import pulumi
import pulumi_gcp as gcp
from pydantic import Field, field_validator, model_validator

from mlops_infra.component import PlatformComponent
from mlops_infra.config.base import ComponentArgs, validate_args
from mlops_infra.conventions import naming
from mlops_infra.conventions.context import current_platform
from mlops_infra.gcp.dynamic.clients import check_api_endpoint
from mlops_infra.gcp.dynamic.vertex_model import VertexModel
from mlops_infra.gcp.iam import ServiceAgent, service_agent_member
from mlops_infra.gcp.platform_key import key_for
from mlops_infra.gcp.project import project_id, project_number, vertex_api_endpoint
from mlops_infra.gcp.secure_bucket import SecureBucket
from mlops_infra.gcp.settings import KmsKeyName, Region
from mlops_infra.gcp.validation import VERSION_ALIAS_PATTERN
from mlops_infra.outputs import concat
from mlops_infra.spec.base import field_error
from mlops_infra.spec.types import GcsUri, PinnedImage, has_digest


class ModelVersionArgs(ComponentArgs):
    """A model registered in the registry (one managed version)."""

    name: str = Field(pattern=r"^[a-z][a-z0-9-]{0,40}$", description="Short model name; the id is prefixed.")
    artifact_uri: GcsUri = Field(description="gs:// directory holding the model artifacts.")
    serving_image: PinnedImage = Field(description="Serving container, pinned (digest required in protected envs).")
    aliases: list[str] = Field(default_factory=lambda: ["challenger"], description="Version aliases to set.")
    display_name: str | None = Field(None, max_length=128)
    description: str = ""
    version_description: str = ""
    predict_route: str | None = Field(None, pattern=r"^/.*")
    health_route: str | None = Field(None, pattern=r"^/.*")
    port: int | None = Field(None, ge=1, le=65535)
    labels: dict[str, str] = Field(default_factory=dict, description="Extra labels on the model.")

    @field_validator("aliases")
    @classmethod
    def _aliases(cls, aliases: list[str]) -> list[str]:
        for alias in aliases:
            if alias == "default" or not re.match(VERSION_ALIAS_PATTERN, alias):
                raise ValueError(f"{alias!r} is not a settable alias ([a-z][a-zA-Z0-9-]*, not 'default')")
        if len(set(aliases)) != len(aliases):
            raise ValueError(f"duplicate aliases in {aliases}")
        return aliases


class ModelRegistryArgs(ComponentArgs):
    """Settings of the model registry."""

    region: Region
    kms_key_name: KmsKeyName = None
    approved_alias: str = Field("champion", pattern=VERSION_ALIAS_PATTERN, description="Alias that means approved.")
    models: list[ModelVersionArgs] = Field(default_factory=list)
    models_bucket_name: str | None = Field(None, description="Explicit global name of the models bucket.")
    archive_after_days: int | None = Field(
        None, ge=1, le=36500, description="Days before model artifacts move to the ARCHIVE class (never deleted)."
    )
    keep_image_versions: int | None = Field(
        None, ge=1, le=1000, description="Artifact Registry cleanup: keep this many recent image versions."
    )
    api_endpoint: str | None = Field(None, description="Vertex API host; default {region}-aiplatform.googleapis.com.")

    @field_validator("api_endpoint")
    @classmethod
    def _endpoint(cls, value: str | None) -> str | None:
        return check_api_endpoint(value) if value is not None else None

    @model_validator(mode="after")
    def _unique(self) -> ModelRegistryArgs:
        names = [m.name for m in self.models]
        if len(set(names)) != len(names):
            raise ValueError(f"models: names must be unique, got {names}")
        return self


def _check_protected(args: ModelRegistryArgs) -> None:
    """Protected environments serve only digest-pinned images (a tag can be re-pointed)."""
    if not current_platform().protected:
        return
    for index, model in enumerate(args.models):
        if not has_digest(model.serving_image):
            raise field_error(
                "ModelRegistryArgs",
                ("models", index, "serving_image"),
                f"{model.serving_image!r} must be pinned by digest (image@sha256:<64 hex>) in protected environments",
                model.serving_image,
            )


class ModelRegistry(PlatformComponent[ModelRegistryArgs]):
    """Models bucket (CMEK), serving-image repository (CMEK, immutable tags), and ``VertexModel`` versions."""

    TYPE_TOKEN = "mlops-infra:gcp:ModelRegistry"
    ARGS = ModelRegistryArgs

    def __init__(
        self,
        name: str,
        args: ModelRegistryArgs | dict[str, Any] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        checked = validate_args(ModelRegistryArgs, args)
        _check_protected(checked)
        super().__init__(name, checked, opts)
        a = self.args
        invoke = pulumi.InvokeOutputOptions(parent=self)
        project = project_id(invoke)
        vertex_agent = service_agent_member(ServiceAgent.AIPLATFORM, project_number(invoke))
        self.api_endpoint = a.api_endpoint or vertex_api_endpoint(a.region)
        self.models_bucket = SecureBucket(
            self.child_name("models"),
            {
                "region": a.region,
                "kms_key_name": a.kms_key_name,
                "bucket_name": a.models_bucket_name,
                "archive_after_days": a.archive_after_days,
            },
            opts=self.child_opts(),
        )
        ar_key = key_for(a.kms_key_name, a.region, ServiceAgent.ARTIFACT_REGISTRY, requester=self)
        cleanup = (
            [
                gcp.artifactregistry.RepositoryCleanupPolicyArgs(
                    id="keep-recent",
                    action="KEEP",
                    most_recent_versions=gcp.artifactregistry.RepositoryCleanupPolicyMostRecentVersionsArgs(
                        keep_count=a.keep_image_versions
                    ),
                )
            ]
            if a.keep_image_versions
            else None
        )
        self.image_repository = gcp.artifactregistry.Repository(
            self.child_name("images"),
            repository_id=self.platform.name(f"{name}-images", naming.GCP_RESOURCE),
            location=a.region,
            format="DOCKER",
            description="Model serving images",
            kms_key_name=ar_key.name,
            docker_config=gcp.artifactregistry.RepositoryDockerConfigArgs(immutable_tags=True),
            cleanup_policies=cleanup,
            opts=self.child_opts(depends_on=list(ar_key.depends_on)),
        )
        # Vertex AI reads artifacts and pulls serving images as its service agent.
        bucket_reader = gcp.storage.BucketIAMMember(
            self.child_name("models-vertex-reader"),
            bucket=self.models_bucket.bucket_name,
            role="roles/storage.objectViewer",
            member=vertex_agent,
            opts=self.child_opts(),
        )
        image_reader = gcp.artifactregistry.RepositoryIamMember(
            self.child_name("images-vertex-reader"),
            repository=self.image_repository.repository_id,
            location=a.region,
            role="roles/artifactregistry.reader",
            member=vertex_agent,
            opts=self.child_opts(),
        )
        vertex_key = key_for(a.kms_key_name, a.region, ServiceAgent.AIPLATFORM, requester=self)
        self.repository_url: pulumi.Output[str] = concat(
            f"{a.region}-docker.pkg.dev/", project, "/", self.image_repository.repository_id
        )
        self.models: dict[str, VertexModel] = {}
        for spec in a.models:
            self.models[spec.name] = VertexModel(
                self.child_name(f"model-{spec.name}"),
                project=project,
                region=a.region,
                api_endpoint=self.api_endpoint,
                model_id=self.platform.name(spec.name, naming.GCP_RESOURCE),
                display_name=spec.display_name or self.platform.name(spec.name, naming.GCP_RESOURCE),
                description=spec.description,
                version_description=spec.version_description,
                artifact_uri=spec.artifact_uri,
                serving_image_uri=spec.serving_image,
                predict_route=spec.predict_route,
                health_route=spec.health_route,
                ports=[spec.port] if spec.port else None,
                kms_key_name=vertex_key.name,
                labels={**self.platform.gcp_labels, **spec.labels},
                version_aliases=spec.aliases,
                opts=self.child_opts(depends_on=[*vertex_key.depends_on, bucket_reader, image_reader]),
            )
        self.approved_alias = a.approved_alias
        self.models_bucket_name: pulumi.Output[str] = self.models_bucket.bucket_name
        self.register_outputs(
            {
                "modelsBucket": self.models_bucket_name,
                "imageRepository": self.repository_url,
                "models": {k: m.name for k, m in self.models.items()},
            }
        )

    def model_name(self, name: str) -> pulumi.Output[str]:
        """``projects/P/locations/R/models/ID`` of a registered model (no version)."""
        return self.models[name].name
