"""SageMaker Feature Store: KMS-encrypted feature groups over a private offline bucket and a Glue database."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_aws as aws

from mlops_infra.aws.account import account_id, arn
from mlops_infra.aws.feature_store_args import (
    FeatureDefinition,
    FeatureGroupDefinition,
    FeatureStoreArgs,
    OnlineTtl,
)
from mlops_infra.aws.global_names import global_name
from mlops_infra.aws.iam import assume_role_policy, kms_use_actions, policy_document, statement
from mlops_infra.aws.platform_key import key_arn_or_shared
from mlops_infra.aws.secure_bucket import SecureBucket, SecureBucketArgs
from mlops_infra.component import PlatformComponent
from mlops_infra.conventions import naming
from mlops_infra.outputs import concat

__all__ = ["FeatureDefinition", "FeatureGroupDefinition", "FeatureStore", "FeatureStoreArgs", "OnlineTtl"]

# What SageMaker does with the role when it writes the offline store (the scoped-down equivalent of the
# AWS managed policy AmazonSageMakerFeatureStoreAccess, which matches any bucket named *sagemaker*).
OFFLINE_BUCKET_ACTIONS = ["s3:GetBucketAcl", "s3:GetBucketLocation", "s3:ListBucket"]
OFFLINE_OBJECT_ACTIONS = ["s3:GetObject", "s3:PutObject", "s3:PutObjectAcl"]
GLUE_TABLE_ACTIONS = ["glue:GetDatabase", "glue:GetTable", "glue:UpdateTable"]
AWS_DATA_CATALOG = "AwsDataCatalog"


class FeatureStore(PlatformComponent[FeatureStoreArgs]):
    """Feature groups whose online and offline stores are encrypted with one customer-managed key.

    Children: a :class:`SecureBucket` for the offline store, a Glue database for its tables, the
    role SageMaker assumes to write them, and one ``aws.sagemaker.FeatureGroup`` per definition.
    """

    TYPE_TOKEN = "mlops-infra:aws:FeatureStore"
    ARGS = FeatureStoreArgs

    def __init__(
        self,
        name: str,
        args: FeatureStoreArgs | dict[str, Any] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(name, args, opts)
        settings = self.args
        self.kms_key_arn: pulumi.Input[str] = key_arn_or_shared(settings.kms_key_arn, requester=self)
        self._invoke_opts = pulumi.InvokeOutputOptions(parent=self)
        self._account = account_id(self._invoke_opts)

        self.offline_bucket = SecureBucket(
            self.child_name("offline-store"),
            SecureBucketArgs(
                purpose="feature-store-offline",
                kms_key_arn=self.kms_key_arn,
                transition_to_ia_days=settings.offline_transition_to_ia_days,
                transition_to_glacier_ir_days=settings.offline_transition_to_glacier_ir_days,
                noncurrent_version_expiration_days=settings.offline_noncurrent_version_expiration_days,
            ),
            opts=self.child_opts(),
        )
        self.database = aws.glue.CatalogDatabase(
            self.child_name("database"),
            name=self.platform.name(name, naming.GLUE_DATABASE),
            description=settings.database_description,
            opts=self.child_opts(),
        )
        self.role = aws.iam.Role(
            self.child_name("role"),
            name=global_name(self, f"{name}-feature-store", naming.IAM_ROLE),
            description="SageMaker Feature Store writes the offline store of this feature store only.",
            assume_role_policy=assume_role_policy("sagemaker.amazonaws.com", self._account),
            opts=self.child_opts(),
        )
        self.role_policy = aws.iam.RolePolicy(
            self.child_name("role-policy"),
            name="offline-store-access",
            role=self.role.name,
            policy=self._role_policy(),
            opts=self.child_opts(),
        )
        # SageMaker checks the role, the bucket and the database when it creates a group.
        ready = [self.offline_bucket, self.database, self.role_policy]
        self.feature_groups: dict[str, aws.sagemaker.FeatureGroup] = {
            group.name: self._feature_group(name, group, ready) for group in settings.feature_groups
        }

        self.bucket_name: pulumi.Output[str] = self.offline_bucket.bucket_name
        self.bucket_arn: pulumi.Output[str] = self.offline_bucket.arn
        self.role_arn: pulumi.Output[str] = self.role.arn
        self.database_name: pulumi.Output[str] = self.database.name
        self.feature_group_names: dict[str, pulumi.Output[str]] = {
            logical: group.feature_group_name for logical, group in self.feature_groups.items()
        }
        self.register_outputs(
            {
                "bucketName": self.bucket_name,
                "bucketArn": self.bucket_arn,
                "roleArn": self.role_arn,
                "databaseName": self.database_name,
                "featureGroupNames": self.feature_group_names,
            }
        )

    def _glue_arn(self, resource: pulumi.Input[str]) -> pulumi.Output[str]:
        return arn("glue", resource, self._invoke_opts)

    def _role_policy(self) -> pulumi.Output[str]:
        """The bucket, the key and this store's Glue database: explicit actions, no wildcard resource."""
        bucket_arn = self.offline_bucket.arn
        objects = bucket_arn.apply(lambda arn: f"{arn}/*")
        database = self.database.name
        return policy_document(
            [
                statement(OFFLINE_BUCKET_ACTIONS, [bucket_arn], sid="OfflineBucket"),
                statement(OFFLINE_OBJECT_ACTIONS, [objects], sid="OfflineObjects"),
                statement(kms_use_actions(), [self.kms_key_arn], sid="EncryptionKey"),
                statement(
                    GLUE_TABLE_ACTIONS,
                    [
                        self._glue_arn("catalog"),
                        self._glue_arn(concat("database/", database)),
                        # The database is this store's own, so its tables are exactly the groups' tables.
                        self._glue_arn(concat("table/", database, "/*")),
                    ],
                    sid="OfflineTables",
                ),
            ]
        )

    def _feature_group(
        self, store: str, group: FeatureGroupDefinition, ready: list[pulumi.Resource]
    ) -> aws.sagemaker.FeatureGroup:
        physical = self.platform.name(f"{store}-{group.name}", naming.FEATURE_GROUP)
        return aws.sagemaker.FeatureGroup(
            self.child_name(f"group-{group.name}"),
            feature_group_name=physical,
            description=group.description,
            record_identifier_feature_name=group.entity_key,
            event_time_feature_name=group.event_time,
            role_arn=self.role.arn,
            feature_definitions=[
                aws.sagemaker.FeatureGroupFeatureDefinitionArgs(feature_name=f.name, feature_type=f.type)
                for f in group.features
            ],
            online_store_config=self._online_store(group) if group.online else None,
            offline_store_config=self._offline_store(group, physical) if group.offline_store else None,
            opts=self.child_opts(depends_on=ready),
        )

    def _online_store(self, group: FeatureGroupDefinition) -> aws.sagemaker.FeatureGroupOnlineStoreConfigArgs:
        ttl = group.online_ttl
        return aws.sagemaker.FeatureGroupOnlineStoreConfigArgs(
            enable_online_store=True,
            # The InMemory tier does not replicate to the offline store; Standard does.
            storage_type="Standard",
            security_config=aws.sagemaker.FeatureGroupOnlineStoreConfigSecurityConfigArgs(kms_key_id=self.kms_key_arn),
            ttl_duration=(
                aws.sagemaker.FeatureGroupOnlineStoreConfigTtlDurationArgs(unit=ttl.unit, value=ttl.value)
                if ttl is not None
                else None
            ),
        )

    def _offline_store(
        self, group: FeatureGroupDefinition, physical: str
    ) -> aws.sagemaker.FeatureGroupOfflineStoreConfigArgs:
        return aws.sagemaker.FeatureGroupOfflineStoreConfigArgs(
            s3_storage_config=aws.sagemaker.FeatureGroupOfflineStoreConfigS3StorageConfigArgs(
                s3_uri=concat("s3://", self.offline_bucket.bucket_name, "/", group.name),
                kms_key_id=self.kms_key_arn,
            ),
            # An explicit, stable table in our database instead of SageMaker's timestamped default.
            data_catalog_config=aws.sagemaker.FeatureGroupOfflineStoreConfigDataCatalogConfigArgs(
                catalog=AWS_DATA_CATALOG,
                database=self.database.name,
                table_name=naming.fit_name(physical, naming.GLUE_DATABASE),
            ),
            disable_glue_table_creation=False,
            table_format=group.table_format,
        )
