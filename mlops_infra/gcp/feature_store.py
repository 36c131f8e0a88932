"""Vertex AI Feature Store (feature registry + online store) over a CMEK BigQuery offline store."""

from __future__ import annotations

import json
from typing import Any, Literal

import pulumi
import pulumi_gcp as gcp
from pydantic import Field, model_validator

from mlops_infra.component import PlatformComponent
from mlops_infra.config.base import ComponentArgs
from mlops_infra.conventions import naming
from mlops_infra.conventions.markers import public_exposure_labels
from mlops_infra.gcp.bigquery_dataset import cmek_dataset
from mlops_infra.gcp.iam import ServiceAgent, service_agent_member
from mlops_infra.gcp.platform_key import KeyRef, key_for
from mlops_infra.gcp.project import project_id, project_number
from mlops_infra.gcp.secure_bucket import SecureBucket
from mlops_infra.gcp.settings import KmsKeyName, Region
from mlops_infra.gcp.validation import BIGQUERY_ID_PATTERN, VERTEX_FEATURE_PATTERN
from mlops_infra.outputs import concat
from mlops_infra.spec.base import Switch
from mlops_infra.spec.schedule import Schedule


class ColumnArgs(ComponentArgs):
    """One column of a source table the component creates."""

    name: str = Field(pattern=BIGQUERY_ID_PATTERN)
    type: Literal["STRING", "INT64", "FLOAT64", "NUMERIC", "BOOL", "TIMESTAMP", "DATE"]
    mode: Literal["NULLABLE", "REQUIRED"] = "NULLABLE"
    description: str = ""


class FeatureArgs(ComponentArgs):
    """A feature of a group: a column of the group's BigQuery source."""

    name: str = Field(pattern=VERTEX_FEATURE_PATTERN)
    column: str | None = Field(None, pattern=BIGQUERY_ID_PATTERN, description="Source column; default the name.")
    description: str = ""

    @property
    def source_column(self) -> str:
        return self.column or self.name


class FeatureGroupArgs(ComponentArgs):
    """A feature group over one BigQuery table of the offline store."""

    name: str = Field(pattern=VERTEX_FEATURE_PATTERN)
    table: str = Field(pattern=BIGQUERY_ID_PATTERN, description="Table id in the offline-store dataset.")
    entity_id_columns: list[str] = Field(min_length=1, description="Columns that identify an entity.")
    features: list[FeatureArgs] = Field(min_length=1)
    columns: list[ColumnArgs] | None = Field(
        None, description="Schema of a table to create; None when data pipelines own the table."
    )
    partition_column: str | None = Field(None, description="TIMESTAMP/DATE column to partition the table by day.")
    description: str = ""

    @model_validator(mode="after")
    def _columns_exist(self) -> FeatureGroupArgs:
        names = [f.name for f in self.features]
        if len(set(names)) != len(names):
            raise ValueError(f"features: duplicate feature names in {names}")
        if self.columns is None:
            return self
        known = {c.name for c in self.columns}
        wanted = [*self.entity_id_columns, *(f.source_column for f in self.features)]
        if self.partition_column:
            wanted.append(self.partition_column)
        missing = sorted(set(wanted) - known)
        if missing:
            raise ValueError(f"columns: {missing} are used by entity_id_columns/features but not declared")
        return self


class OnlineStoreArgs(ComponentArgs):
    """The online serving store: Optimized (private via PSC) or Bigtable (autoscaled)."""

    name: str = Field("online", pattern=VERTEX_FEATURE_PATTERN)
    storage: Literal["optimized", "bigtable"] = "optimized"
    min_nodes: int = Field(1, ge=1, le=1000, description="Bigtable autoscaling floor (nodes).")
    max_nodes: int = Field(3, ge=1, le=1000, description="Bigtable autoscaling ceiling (nodes, <= 10 x min).")
    cpu_utilization_target: int = Field(50, ge=10, le=80, description="Bigtable CPU target (percent).")
    allow_public_endpoint: Switch = Field(
        False, description="Explicit opt-in to a public serving endpoint instead of Private Service Connect."
    )
    psc_project_allowlist: list[str] = Field(
        default_factory=list, description="Projects allowed to connect over PSC; default this project."
    )

    @model_validator(mode="after")
    def _bounds(self) -> OnlineStoreArgs:
        if self.max_nodes < self.min_nodes:
            raise ValueError("max_nodes must be >= min_nodes")
        if self.max_nodes > 10 * self.min_nodes:
            raise ValueError("max_nodes must be <= 10 x min_nodes (Bigtable autoscaling limit)")
        return self


class FeatureViewArgs(ComponentArgs):
    """Features served online, synced from the registry on a cron schedule."""

    name: str = Field(pattern=VERTEX_FEATURE_PATTERN)
    features: dict[str, list[str]] = Field(min_length=1, description="Feature group name -> feature names.")
    schedule: Schedule = Field(
        default_factory=lambda: Schedule(cron="0 */6 * * *"), description="When to sync from BigQuery (every 6 h)."
    )


def vertex_cron(schedule: Schedule) -> str:
    """The cron Vertex reads: plain in UTC, else prefixed with ``TZ=<zone>``."""
    if schedule.time_zone in {"UTC", "Etc/UTC"}:
        return schedule.cron
    return f"TZ={schedule.time_zone} {schedule.cron}"


class FeatureStoreArgs(ComponentArgs):
    """Settings of a feature store."""

    region: Region
    kms_key_name: KmsKeyName = None
    dataset_id: str | None = Field(None, pattern=BIGQUERY_ID_PATTERN, description="Offline-store dataset id.")
    feature_groups: list[FeatureGroupArgs] = Field(min_length=1)
    online_store: OnlineStoreArgs | None = Field(default_factory=OnlineStoreArgs)
    feature_views: list[FeatureViewArgs] = Field(default_factory=list)
    staging_bucket_name: str | None = Field(None, description="Explicit global name of the staging bucket.")
    archive_after_days: int | None = Field(
        None, ge=1, le=36500, description="Days before staging objects move to the ARCHIVE class."
    )

    @model_validator(mode="after")
    def _views_reference_known_features(self) -> FeatureStoreArgs:
        groups = {g.name: {f.name for f in g.features} for g in self.feature_groups}
        if len(groups) != len(self.feature_groups):
            raise ValueError("feature_groups: group names must be unique")
        if self.feature_views and self.online_store is None:
            raise ValueError("feature_views need an online_store")
        for view in self.feature_views:
            for group, features in view.features.items():
                if group not in groups:
                    raise ValueError(f"feature_views.{view.name}: unknown feature group {group!r}")
                unknown = sorted(set(features) - groups[group])
                if unknown:
                    raise ValueError(f"feature_views.{view.name}: {group} has no features {unknown}")
        return self


class FeatureStore(PlatformComponent[FeatureStoreArgs]):
    """Offline store (BigQuery, CMEK), feature groups and features, online store (PSC) and feature views."""

    TYPE_TOKEN = "mlops-infra:gcp:FeatureStore"
    ARGS = FeatureStoreArgs

    def __init__(
        self,
        name: str,
        args: FeatureStoreArgs | dict[str, Any] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(name, args, opts)
        a = self.args
        invoke = pulumi.InvokeOutputOptions(parent=self)
        project = project_id(invoke)
        vertex_agent = service_agent_member(ServiceAgent.AIPLATFORM, project_number(invoke))
        bq_key = key_for(a.kms_key_name, a.region, ServiceAgent.BIGQUERY, requester=self)
        vertex_key = key_for(a.kms_key_name, a.region, ServiceAgent.AIPLATFORM, requester=self)

        dataset_id = a.dataset_id or self.platform.name(name, naming.BIGQUERY_ID)
        self.dataset = cmek_dataset(
            self.child_name("offline"),
            dataset_id=dataset_id,
            region=a.region,
            key=bq_key,
            description="Offline feature store (feature registry source)",
            opts=self.child_opts(),
        )
        # Feature view syncs read BigQuery as the Vertex AI service agent.
        gcp.bigquery.DatasetIamMember(
            self.child_name("offline-vertex-reader"),
            dataset_id=self.dataset.dataset_id,
            role="roles/bigquery.dataViewer",
            member=vertex_agent,
            opts=self.child_opts(),
        )
        self.staging_bucket = SecureBucket(
            self.child_name("staging"),
            {
                "region": a.region,
                "kms_key_name": a.kms_key_name,
                "bucket_name": a.staging_bucket_name,
                "archive_after_days": a.archive_after_days,
            },
            opts=self.child_opts(),
        )
        self.feature_groups: dict[str, gcp.vertex.AiFeatureGroup] = {}
        self.features: dict[tuple[str, str], gcp.vertex.AiFeatureGroupFeature] = {}
        for group in a.feature_groups:
            self.feature_groups[group.name] = self._feature_group(group, project, bq_key)
        self.online_store: gcp.vertex.AiFeatureOnlineStore | None = None
        if a.online_store is not None:
            self.online_store = self._online_store(a.online_store, project, vertex_key.name, vertex_key.depends_on)
            for view in a.feature_views:
                self._feature_view(view, self.online_store)
        self.dataset_id: pulumi.Output[str] = self.dataset.dataset_id
        self.register_outputs(
            {
                "datasetId": self.dataset_id,
                "stagingBucket": self.staging_bucket.bucket_name,
                "featureGroups": {k: g.name for k, g in self.feature_groups.items()},
                "onlineStore": self.online_store.name if self.online_store else None,
            }
        )

    def _feature_group(
        self, spec: FeatureGroupArgs, project: pulumi.Output[str], key: KeyRef
    ) -> gcp.vertex.AiFeatureGroup:
        depends: list[pulumi.Resource] = [self.dataset]
        if spec.columns is not None:
            schema = [
                {"name": c.name, "type": c.type, "mode": c.mode, "description": c.description} for c in spec.columns
            ]
            table = gcp.bigquery.Table(
                self.child_name(f"{spec.name}-table"),
                dataset_id=self.dataset.dataset_id,
                table_id=spec.table,
                schema=json.dumps(schema),
                encryption_configuration=gcp.bigquery.TableEncryptionConfigurationArgs(kms_key_name=key.name),
                time_partitioning=gcp.bigquery.TableTimePartitioningArgs(type="DAY", field=spec.partition_column)
                if spec.partition_column
                else None,
                deletion_protection=True,
                opts=self.child_opts(depends_on=list(key.depends_on)),
            )
            depends.append(table)
        source_uri = concat("bq://", project, ".", self.dataset.dataset_id, ".", spec.table)
        group = gcp.vertex.AiFeatureGroup(
            self.child_name(spec.name),
            name=self.platform.name(spec.name, naming.VERTEX_FEATURE_ID),
            region=self.args.region,
            description=spec.description or f"{spec.name} features",
            big_query=gcp.vertex.AiFeatureGroupBigQueryArgs(
                big_query_source=gcp.vertex.AiFeatureGroupBigQueryBigQuerySourceArgs(input_uri=source_uri),
                entity_id_columns=spec.entity_id_columns,
            ),
            opts=self.child_opts(depends_on=depends),
        )
        for feature in spec.features:
            self.features[(spec.name, feature.name)] = gcp.vertex.AiFeatureGroupFeature(
                self.child_name(f"{spec.name}-{feature.name}"),
                name=feature.name,
                region=self.args.region,
                feature_group=group.name,
                version_column_name=feature.source_column,
                description=feature.description or None,
                opts=self.child_opts(),
            )
        return group

    def _online_store(
        self,
        spec: OnlineStoreArgs,
        project: pulumi.Output[str],
        key_name: pulumi.Input[str],
        key_deps: tuple[pulumi.Resource, ...],
    ) -> gcp.vertex.AiFeatureOnlineStore:
        bigtable = None
        optimized = None
        endpoint = None
        if spec.storage == "bigtable":
            # Bigtable stores serve through the regional Vertex API under IAM; there is no dedicated public host.
            bigtable = gcp.vertex.AiFeatureOnlineStoreBigtableArgs(
                auto_scaling=gcp.vertex.AiFeatureOnlineStoreBigtableAutoScalingArgs(
                    min_node_count=spec.min_nodes,
                    max_node_count=spec.max_nodes,
                    cpu_utilization_target=spec.cpu_utilization_target,
                )
            )
        else:
            optimized = gcp.vertex.AiFeatureOnlineStoreOptimizedArgs()  # type: ignore[no-untyped-call]
            allowlist: pulumi.Input[list[str]] = spec.psc_project_allowlist or project.apply(lambda p: [p])
            endpoint = gcp.vertex.AiFeatureOnlineStoreDedicatedServingEndpointArgs(
                private_service_connect_config=gcp.vertex.AiFeatureOnlineStoreDedicatedServingEndpointPrivateServiceConnectConfigArgs(
                    enable_private_service_connect=not spec.allow_public_endpoint,
                    project_allowlists=None if spec.allow_public_endpoint else allowlist,
                )
            )
        return gcp.vertex.AiFeatureOnlineStore(
            self.child_name(spec.name),
            name=self.platform.name(spec.name, naming.VERTEX_FEATURE_ID),
            region=self.args.region,
            bigtable=bigtable,
            optimized=optimized,
            dedicated_serving_endpoint=endpoint,
            encryption_spec=gcp.vertex.AiFeatureOnlineStoreEncryptionSpecArgs(kms_key_name=key_name),
            labels=public_exposure_labels(spec.allow_public_endpoint) or None,
            opts=self.child_opts(depends_on=list(key_deps)),
        )

    def _feature_view(self, spec: FeatureViewArgs, store: gcp.vertex.AiFeatureOnlineStore) -> None:
        groups = [
            gcp.vertex.AiFeatureOnlineStoreFeatureviewFeatureRegistrySourceFeatureGroupArgs(
                feature_group_id=self.feature_groups[group].name, feature_ids=features
            )
            for group, features in spec.features.items()
        ]
        # A view can only sync features that already exist in the registry.
        depends = [self.features[(g, f)] for g, names in spec.features.items() for f in names]
        gcp.vertex.AiFeatureOnlineStoreFeatureview(
            self.child_name(f"view-{spec.name}"),
            name=spec.name,
            region=self.args.region,
            feature_online_store=store.name,
            sync_config=gcp.vertex.AiFeatureOnlineStoreFeatureviewSyncConfigArgs(cron=vertex_cron(spec.schedule)),
            feature_registry_source=gcp.vertex.AiFeatureOnlineStoreFeatureviewFeatureRegistrySourceArgs(
                feature_groups=groups
            ),
            opts=self.child_opts(depends_on=depends),
        )
