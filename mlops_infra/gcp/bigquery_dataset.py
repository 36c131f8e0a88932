"""A BigQuery dataset whose tables are encrypted with the platform key by default (CMEK)."""

from __future__ import annotations

import pulumi
import pulumi_gcp as gcp

from mlops_infra.gcp.platform_key import KeyRef

MILLISECONDS_PER_DAY = 86_400_000


def cmek_dataset(
    logical_name: str,
    *,
    dataset_id: str,
    region: str,
    key: KeyRef,
    description: str,
    opts: pulumi.ResourceOptions,
    table_expiration_days: int | None = None,
) -> gcp.bigquery.Dataset:
    """A dataset in ``region`` whose default key is ``key``; waits for the BigQuery agent's key grant."""
    return gcp.bigquery.Dataset(
        logical_name,
        dataset_id=dataset_id,
        location=region,
        description=description,
        default_encryption_configuration=gcp.bigquery.DatasetDefaultEncryptionConfigurationArgs(kms_key_name=key.name),
        default_table_expiration_ms=table_expiration_days * MILLISECONDS_PER_DAY if table_expiration_days else None,
        delete_contents_on_destroy=False,
        opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=list(key.depends_on))),
    )
