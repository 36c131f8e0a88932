"""Which resources hold state that must survive a mistaken ``pulumi destroy`` or replacement."""

from __future__ import annotations

# Type tokens of resources that hold data, models or the keys protecting them.
STATEFUL_TYPES: frozenset[str] = frozenset(
    {
        # AWS
        "aws:kms/key:Key",
        "aws:s3/bucket:Bucket",
        "aws:s3/bucketV2:BucketV2",
        "aws:sagemaker/featureGroup:FeatureGroup",
        "aws:sagemaker/modelPackageGroup:ModelPackageGroup",
        "aws:glue/catalogDatabase:CatalogDatabase",
        "aws:dynamodb/table:Table",
        "aws:ecr/repository:Repository",
        "aws:efs/fileSystem:FileSystem",
        "aws:rds/instance:Instance",
        # Airflow's metadata database (DAG runs, history) lives in the environment.
        "aws:mwaa/environment:Environment",
        # GCP
        "gcp:kms/keyRing:KeyRing",
        "gcp:kms/cryptoKey:CryptoKey",
        "gcp:storage/bucket:Bucket",
        "gcp:bigquery/dataset:Dataset",
        "gcp:bigquery/table:Table",
        "gcp:vertex/aiFeatureOnlineStore:AiFeatureOnlineStore",
        "gcp:vertex/aiFeatureGroup:AiFeatureGroup",
        "gcp:vertex/aiMetadataStore:AiMetadataStore",
        "gcp:artifactregistry/repository:Repository",
        "gcp:composer/environment:Environment",
        # Vertex model registry entries (dynamic resources): deleting one deletes the model's versions.
        "pulumi-python:dynamic/vertex:VertexModel",
        # Kubernetes
        "kubernetes:core/v1:PersistentVolumeClaim",
        "kubernetes:core/v1:PersistentVolume",
    }
)


def is_stateful(type_token: str) -> bool:
    """True for resources whose deletion loses data, models or keys."""
    return type_token in STATEFUL_TYPES
