"""encryption-at-rest: every store of data or models uses a customer-managed key (CMK/CMEK).

AWS-managed keys (``alias/aws/...``) and service-owned keys do not count: only a key the
platform controls can be rotated, audited and revoked. S3 buckets are checked at stack level
(``stack_rules.s3_bucket_encryption``), because encryption is usually a separate resource.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from mlops_infra.policy.context import RuleContext, StackContext
from mlops_infra.policy.facts.instance_types import has_local_storage
from mlops_infra.policy.facts.k8s_storage import storage_class_gap
from mlops_infra.policy.facts.managed_airflow import COMPOSER_ENVIRONMENT, COMPOSER_KEY, MWAA_ENVIRONMENT
from mlops_infra.policy.facts.sagemaker_pipeline import INSTANCE_TYPE, OUTPUT_KMS, VOLUME_KMS, job_steps, present
from mlops_infra.policy.model import Finding, ResourceView, StackView
from mlops_infra.policy.rules.common import (
    SAGEMAKER_JOB_DEFINITION,
    Handler,
    covered_types,
    dispatch,
    key_problem,
    subject,
)
from mlops_infra.policy.spec import PolicySpec
from mlops_infra.policy.stack_rules import claim_encryption, s3_bucket_encryption
from mlops_infra.policy.values import get, is_set, is_true, items, known

ID = "encryption-at-rest"
KMS_ALGORITHMS = ("aws:kms", "aws:kms:dsse")


def _need_key(view: ResourceView, value: Any, prop: str, what: str) -> Iterator[Finding]:
    problem = key_problem(value)
    if problem == "missing":
        yield Finding(
            f"{subject(view)}: no customer-managed key for {what}. "
            f"Set {prop} to the ARN or id of a customer-managed KMS key (for example PlatformKey.arn)."
        )
    elif problem == "aws-managed":
        yield Finding(
            f"{subject(view)}: {prop} is an AWS-managed key ({value}), which the platform cannot rotate, "
            f"audit or revoke. Set {prop} to a customer-managed KMS key."
        )


def _need_cmek(view: ResourceView, value: Any, prop: str, what: str) -> Iterator[Finding]:
    if not is_set(value):
        yield Finding(
            f"{subject(view)}: no customer-managed key (CMEK) for {what}. Set {prop} to a Cloud KMS crypto key "
            "(projects/<p>/locations/<l>/keyRings/<r>/cryptoKeys/<k>) in the same region."
        )


# --- AWS SageMaker --------------------------------------------------------------------------------


def _endpoint_configuration(view: ResourceView, ctx: RuleContext) -> Iterator[Finding]:
    props = view.props
    variants = items(props.get("productionVariants"), "productionVariants") + items(
        props.get("shadowProductionVariants"), "shadowProductionVariants"
    )
    # Serverless variants have no ML storage volume, and SageMaker rejects a KmsKeyArn for them.
    serverless_only = bool(variants) and all(
        isinstance(v, Mapping) and is_set(v.get("serverlessConfig")) for v in variants
    )
    if not serverless_only:
        yield from _need_key(
            view, props.get("kmsKeyArn"), "kmsKeyArn", "the ML storage volume of every endpoint instance"
        )
    if is_set(props.get("asyncInferenceConfig")):
        yield from _need_key(
            view,
            get(props, "asyncInferenceConfig.outputConfig.kmsKeyId"),
            "asyncInferenceConfig.outputConfig.kmsKeyId",
            "asynchronous inference output in S3",
        )
    capture = props.get("dataCaptureConfig")
    if is_set(capture) and is_true(get(props, "dataCaptureConfig.enableCapture"), "dataCaptureConfig.enableCapture"):
        yield from _need_key(
            view,
            get(props, "dataCaptureConfig.kmsKeyId"),
            "dataCaptureConfig.kmsKeyId",
            "captured requests and responses",
        )


def _key_field(prop: str, what: str) -> Handler:
    def check(view: ResourceView, ctx: RuleContext) -> Iterator[Finding]:
        yield from _need_key(view, get(view.props, prop), prop, what)

    return check


def _user_settings(view: ResourceView, base: str) -> Iterator[Finding]:
    sharing = f"{base}.sharingSettings"
    if is_set(get(view.props, f"{sharing}.s3OutputPath")):
        yield from _need_key(
            view, get(view.props, f"{sharing}.s3KmsKeyId"), f"{sharing}.s3KmsKeyId", "shared notebook output in S3"
        )
    canvas = f"{base}.canvasAppSettings.workspaceSettings"
    if is_set(get(view.props, f"{canvas}.s3ArtifactPath")):
        yield from _need_key(
            view, get(view.props, f"{canvas}.s3KmsKeyId"), f"{canvas}.s3KmsKeyId", "Canvas workspace artifacts"
        )


def _domain(view: ResourceView, ctx: RuleContext) -> Iterator[Finding]:
    yield from _need_key(view, view.props.get("kmsKeyId"), "kmsKeyId", "the Studio home EFS volume")
    yield from _user_settings(view, "defaultUserSettings")


def _user_profile(view: ResourceView, ctx: RuleContext) -> Iterator[Finding]:
    yield from _user_settings(view, "userSettings")


def _feature_group(view: ResourceView, ctx: RuleContext) -> Iterator[Finding]:
    props = view.props
    if is_set(props.get("offlineStoreConfig")):
        yield from _need_key(
            view,
            get(props, "offlineStoreConfig.s3StorageConfig.kmsKeyId"),
            "offlineStoreConfig.s3StorageConfig.kmsKeyId",
            "the offline store in S3",
        )
    if is_true(get(props, "onlineStoreConfig.enableOnlineStore"), "onlineStoreConfig.enableOnlineStore"):
        yield from _need_key(
            view,
            get(props, "onlineStoreConfig.securityConfig.kmsKeyId"),
            "onlineStoreConfig.securityConfig.kmsKeyId",
            "the online store",
        )


def _local_storage(value: Any) -> bool:
    """A known instance type with local NVMe storage: hardware-encrypted, and SageMaker refuses a volume key."""
    return isinstance(value, str) and has_local_storage(value)


def _job_definition(view: ResourceView, ctx: RuleContext) -> Iterator[Finding]:
    """Data quality / model quality / bias / explainability job definitions (same shape)."""
    for key in view.props:
        if key.endswith("JobOutputConfig"):
            yield from _need_key(
                view, get(view.props, f"{key}.kmsKeyId"), f"{key}.kmsKeyId", "monitoring job output in S3"
            )
    if _local_storage(get(view.props, "jobResources.clusterConfig.instanceType")):
        return
    yield from _need_key(
        view,
        get(view.props, "jobResources.clusterConfig.volumeKmsKeyId"),
        "jobResources.clusterConfig.volumeKmsKeyId",
        "the monitoring job's ML storage volume",
    )


def _monitoring_schedule(view: ResourceView, ctx: RuleContext) -> Iterator[Finding]:
    base = "monitoringScheduleConfig.monitoringJobDefinition"
    if not is_set(get(view.props, base)):
        return  # a schedule that references a job definition: the definition is checked itself
    yield from _need_key(
        view,
        get(view.props, f"{base}.monitoringOutputConfig.kmsKeyId"),
        f"{base}.monitoringOutputConfig.kmsKeyId",
        "monitoring job output in S3",
    )
    if _local_storage(get(view.props, f"{base}.monitoringResources.clusterConfig.instanceType")):
        return
    yield from _need_key(
        view,
        get(view.props, f"{base}.monitoringResources.clusterConfig.volumeKmsKeyId"),
        f"{base}.monitoringResources.clusterConfig.volumeKmsKeyId",
        "the monitoring job's ML storage volume",
    )


def _training_like(view: ResourceView, base: str) -> Iterator[Finding]:
    prefix = f"{base}." if base else ""
    yield from _need_key(
        view,
        get(view.props, f"{prefix}outputDataConfig.kmsKeyId"),
        f"{prefix}outputDataConfig.kmsKeyId",
        "the trained model artifacts in S3",
    )
    volume = get(view.props, f"{prefix}resourceConfig.volumeKmsKeyId")
    instance_type = get(view.props, f"{prefix}resourceConfig.instanceType")
    if not is_set(volume):
        volume = get(view.props, f"{prefix}hyperParameterTuningResourceConfig.volumeKmsKeyId")
        instance_type = instance_type or get(view.props, f"{prefix}hyperParameterTuningResourceConfig.instanceType")
    if _local_storage(instance_type):
        return
    yield from _need_key(
        view, volume, f"{prefix}resourceConfig.volumeKmsKeyId", "the training instances' storage volume"
    )


def _training_job(view: ResourceView, ctx: RuleContext) -> Iterator[Finding]:
    yield from _training_like(view, "")


def _tuning_job(view: ResourceView, ctx: RuleContext) -> Iterator[Finding]:
    if is_set(view.props.get("trainingJobDefinition")):
        yield from _training_like(view, "trainingJobDefinition")
    for index, _ in enumerate(items(view.props.get("trainingJobDefinitions"), "trainingJobDefinitions")):
        yield from _training_like(view, f"trainingJobDefinitions[{index}]")


def _labeling_job(view: ResourceView, ctx: RuleContext) -> Iterator[Finding]:
    yield from _need_key(
        view, get(view.props, "outputConfig.kmsKeyId"), "outputConfig.kmsKeyId", "labels written to S3"
    )
    if is_set(view.props.get("labelingJobAlgorithmsConfig")):
        prop = "labelingJobAlgorithmsConfig.labelingJobResourceConfig.volumeKmsKeyId"
        yield from _need_key(view, get(view.props, prop), prop, "the auto-labeling instances' storage volume")


def pipeline_findings(props: Mapping[str, Any]) -> Iterator[str]:
    """The steps of ``props["pipelineDefinition"]`` that store data without a customer-managed key.

    One message per gap, naming the step and the argument. The SageMaker pipeline rule and
    ``mlops_infra.aws.TrainingPipeline`` (for a supplied definition) both call this.
    """
    for step in job_steps(props):
        for table, what in ((OUTPUT_KMS, "output in S3"), (VOLUME_KMS, "ML storage volume")):
            path = table.get(step.type)
            if path is None:
                continue
            if path.startswith("ProcessingOutputConfig") and step.value("ProcessingOutputConfig") is None:
                continue  # a processing step without outputs writes nothing to S3
            if table is VOLUME_KMS and _local_storage(step.value(INSTANCE_TYPE.get(step.type, ""))):
                continue  # local NVMe storage: hardware-encrypted, SageMaker refuses a VolumeKmsKeyId
            if not present(step.value(path)):
                yield (
                    f"step {step.name!r} ({step.type}) leaves its {what} without a "
                    f"customer-managed key. Set Arguments.{path} in pipelineDefinition "
                    "(KmsKeyId / VolumeKmsKeyId in the SageMaker SDK step)."
                )


def _pipeline(view: ResourceView, ctx: RuleContext) -> Iterator[Finding]:
    for message in pipeline_findings(view.props):
        yield Finding(f"{subject(view)}: {message}")


# --- AWS data stores ----------------------------------------------------------------------------


def _flag_and_key(flag: str, key: str, what: str) -> Handler:
    def check(view: ResourceView, ctx: RuleContext) -> Iterator[Finding]:
        if not is_true(get(view.props, flag), flag):
            yield Finding(
                f"{subject(view)}: {what}: not encrypted. Set {flag}: true and {key} to a customer-managed KMS key."
            )
        else:
            yield from _need_key(view, get(view.props, key), key, what)

    return check


def _dynamodb_table(view: ResourceView, ctx: RuleContext) -> Iterator[Finding]:
    if not is_true(get(view.props, "serverSideEncryption.enabled"), "serverSideEncryption.enabled"):
        yield Finding(
            f"{subject(view)}: the table uses an AWS-owned key. Set serverSideEncryption.enabled: true "
            "and serverSideEncryption.kmsKeyArn to a customer-managed KMS key."
        )
    else:
        yield from _need_key(
            view, get(view.props, "serverSideEncryption.kmsKeyArn"), "serverSideEncryption.kmsKeyArn", "the table"
        )


def _ecr_repository(view: ResourceView, ctx: RuleContext) -> Iterator[Finding]:
    configs = items(view.props.get("encryptionConfigurations"), "encryptionConfigurations")
    config = configs[0] if configs and isinstance(configs[0], Mapping) else {}
    if str(known(config.get("encryptionType"), "encryptionConfigurations[0].encryptionType")).upper() not in (
        "KMS",
        "KMS_DSSE",
    ):
        yield Finding(
            f"{subject(view)}: model container images are encrypted with AES256 (S3-managed). Set "
            "encryptionConfigurations[0].encryptionType: KMS and .kmsKey to a customer-managed KMS key."
        )
    else:
        yield from _need_key(view, config.get("kmsKey"), "encryptionConfigurations[0].kmsKey", "model container images")


def _kinesis_stream(view: ResourceView, ctx: RuleContext) -> Iterator[Finding]:
    if str(known(view.props.get("encryptionType"), "encryptionType")).upper() != "KMS":
        yield Finding(f"{subject(view)}: stream records are not encrypted. Set encryptionType: KMS and kmsKeyId.")
    else:
        yield from _need_key(view, view.props.get("kmsKeyId"), "kmsKeyId", "stream records")


def _sse_configuration(view: ResourceView, ctx: RuleContext) -> Iterator[Finding]:
    for index, rule in enumerate(items(view.props.get("rules"), "rules")):
        prop = f"rules[{index}].applyServerSideEncryptionByDefault"
        known(rule, f"rules[{index}]")
        default = known(rule.get("applyServerSideEncryptionByDefault"), prop) if isinstance(rule, Mapping) else None
        algorithm = known(default.get("sseAlgorithm"), f"{prop}.sseAlgorithm") if isinstance(default, Mapping) else None
        if algorithm not in KMS_ALGORITHMS:
            yield Finding(
                f"{subject(view)}: {prop}.sseAlgorithm is {algorithm!r} (S3-managed keys). "
                f"Set it to aws:kms and {prop}.kmsMasterKeyId to a customer-managed KMS key."
            )
        elif isinstance(default, Mapping):
            yield from _need_key(view, default.get("kmsMasterKeyId"), f"{prop}.kmsMasterKeyId", "objects in the bucket")


def _eks_cluster(view: ResourceView, ctx: RuleContext) -> Iterator[Finding]:
    """Kubernetes Secrets are envelope-encrypted with a customer-managed key (EKS otherwise relies on its default)."""
    configs = items(view.props.get("encryptionConfig"), "encryptionConfig")
    config = configs[0] if configs and isinstance(configs[0], Mapping) else {}
    resources = [str(r) for r in items(config.get("resources"), "encryptionConfig.resources")]
    if "secrets" not in resources:
        yield Finding(
            f"{subject(view)}: Kubernetes Secrets are not envelope-encrypted with your key. Set encryptionConfig "
            'resources: ["secrets"] and provider.keyArn to a customer-managed KMS key.'
        )
    else:
        yield from _need_key(
            view, get(config, "provider.keyArn"), "encryptionConfig.provider.keyArn", "Kubernetes Secrets"
        )


def _gke_cluster(view: ResourceView, ctx: RuleContext) -> Iterator[Finding]:
    """Application-layer Secrets encryption: databaseEncryption ENCRYPTED with a Cloud KMS key."""
    state = known(get(view.props, "databaseEncryption.state"), "databaseEncryption.state")
    key = get(view.props, "databaseEncryption.keyName")
    if str(state).upper() != "ENCRYPTED" or not is_set(key):
        yield Finding(
            f"{subject(view)}: Kubernetes Secrets are stored without application-layer encryption "
            f"(databaseEncryption.state is {state or 'not set'}). Set databaseEncryption.state: ENCRYPTED and "
            "databaseEncryption.keyName to a Cloud KMS crypto key in the cluster's region."
        )


# --- GCP ------------------------------------------------------------------------------------------


def _encryption_spec(what: str) -> Handler:
    def check(view: ResourceView, ctx: RuleContext) -> Iterator[Finding]:
        yield from _need_cmek(view, get(view.props, "encryptionSpec.kmsKeyName"), "encryptionSpec.kmsKeyName", what)

    return check


def _cmek_field(prop: str, what: str) -> Handler:
    def check(view: ResourceView, ctx: RuleContext) -> Iterator[Finding]:
        yield from _need_cmek(view, get(view.props, prop), prop, what)

    return check


def _gcp_disk(view: ResourceView, disk: Any, path: str) -> Iterator[Finding]:
    prefix = f"{path}." if path else ""
    mode = known(disk.get("diskEncryption"), f"{prefix}diskEncryption") if isinstance(disk, Mapping) else None
    key = disk.get("kmsKey") if isinstance(disk, Mapping) else None
    if str(mode).upper() != "CMEK" or not is_set(key):
        where = path or "the notebook's disks"
        yield Finding(
            f"{subject(view)}: {where} use a Google-managed key. Set {prefix}diskEncryption: CMEK and "
            f"{prefix}kmsKey to a Cloud KMS crypto key."
        )


def _workbench_instance(view: ResourceView, ctx: RuleContext) -> Iterator[Finding]:
    yield from _gcp_disk(view, get(view.props, "gceSetup.bootDisk"), "gceSetup.bootDisk")
    for index, disk in enumerate(items(get(view.props, "gceSetup.dataDisks"), "gceSetup.dataDisks")):
        yield from _gcp_disk(view, disk, f"gceSetup.dataDisks[{index}]")


def _legacy_notebook(view: ResourceView, ctx: RuleContext) -> Iterator[Finding]:
    yield from _gcp_disk(view, view.props, "")


def _compute_instance(view: ResourceView, ctx: RuleContext) -> Iterator[Finding]:
    yield from _need_cmek(view, get(view.props, "bootDisk.kmsKeySelfLink"), "bootDisk.kmsKeySelfLink", "the boot disk")
    for index, disk in enumerate(items(view.props.get("attachedDisks"), "attachedDisks")):
        value = disk.get("kmsKeySelfLink") if isinstance(disk, Mapping) else None
        yield from _need_cmek(view, value, f"attachedDisks[{index}].kmsKeySelfLink", "an attached disk")


# --- Kubernetes -----------------------------------------------------------------------------------


def _storage_class(view: ResourceView, ctx: RuleContext) -> Iterator[Finding]:
    gap = storage_class_gap(view.props)
    if gap is not None:
        yield Finding(f"{subject(view)}: {gap}")


def _stack_check(stack: StackView, ctx: StackContext) -> Iterator[Finding]:
    yield from s3_bucket_encryption(stack, ctx)
    yield from claim_encryption(stack, ctx)


HANDLERS: dict[str, Handler] = {
    # AWS SageMaker
    "aws:sagemaker/endpointConfiguration:EndpointConfiguration": _endpoint_configuration,
    "aws:sagemaker/notebookInstance:NotebookInstance": _key_field("kmsKeyId", "the notebook's storage volume"),
    "aws:sagemaker/domain:Domain": _domain,
    "aws:sagemaker/userProfile:UserProfile": _user_profile,
    "aws:sagemaker/featureGroup:FeatureGroup": _feature_group,
    "aws:sagemaker/dataQualityJobDefinition:DataQualityJobDefinition": _job_definition,
    "aws:sagemaker/monitoringSchedule:MonitoringSchedule": _monitoring_schedule,
    "aws:sagemaker/flowDefinition:FlowDefinition": _key_field("outputConfig.kmsKeyId", "human review output in S3"),
    "aws:sagemaker/trainingJob:TrainingJob": _training_job,
    "aws:sagemaker/hyperParameterTuningJob:HyperParameterTuningJob": _tuning_job,
    "aws:sagemaker/labelingJob:LabelingJob": _labeling_job,
    "aws:sagemaker/modelCard:ModelCard": _key_field("securityConfig.kmsKeyId", "the model card content"),
    "aws:sagemaker/deviceFleet:DeviceFleet": _key_field("outputConfig.kmsKeyId", "edge device data in S3"),
    "aws:sagemaker/pipeline:Pipeline": _pipeline,
    # AWS stores
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": _sse_configuration,
    "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2": _sse_configuration,
    "aws:sqs/queue:Queue": _key_field("kmsMasterKeyId", "queued messages"),
    "aws:sns/topic:Topic": _key_field("kmsMasterKeyId", "published messages"),
    "aws:cloudwatch/logGroup:LogGroup": _key_field("kmsKeyId", "log events (inference and training logs)"),
    "aws:secretsmanager/secret:Secret": _key_field("kmsKeyId", "the secret value"),
    # Managed Airflow: the metadata database, queue and logs of the environment.
    MWAA_ENVIRONMENT: _key_field("kmsKey", "the Airflow environment (metadata database, task queue, logs)"),
    "aws:dynamodb/table:Table": _dynamodb_table,
    "aws:ebs/volume:Volume": _flag_and_key("encrypted", "kmsKeyId", "the volume"),
    "aws:efs/fileSystem:FileSystem": _flag_and_key("encrypted", "kmsKeyId", "the file system"),
    "aws:rds/instance:Instance": _flag_and_key("storageEncrypted", "kmsKeyId", "the database storage"),
    "aws:rds/cluster:Cluster": _flag_and_key("storageEncrypted", "kmsKeyId", "the database storage"),
    "aws:ecr/repository:Repository": _ecr_repository,
    "aws:kinesis/stream:Stream": _kinesis_stream,
    "aws:eks/cluster:Cluster": _eks_cluster,
    # GCP Vertex AI (CKV2_GCP_24/25/26, CKV_GCP_92/96) and neighbours
    "gcp:vertex/aiEndpoint:AiEndpoint": _encryption_spec("the endpoint and its deployed models"),
    "gcp:vertex/aiFeatureStore:AiFeatureStore": _encryption_spec("the featurestore"),
    "gcp:vertex/aiFeatureOnlineStore:AiFeatureOnlineStore": _encryption_spec("the online feature store"),
    "gcp:vertex/aiTensorboard:AiTensorboard": _encryption_spec("the tensorboard"),
    "gcp:vertex/aiDataset:AiDataset": _encryption_spec("the dataset"),
    "gcp:vertex/aiMetadataStore:AiMetadataStore": _encryption_spec("the metadata store"),
    "gcp:vertex/aiIndex:AiIndex": _encryption_spec("the vector index"),
    "gcp:vertex/aiIndexEndpoint:AiIndexEndpoint": _encryption_spec("the index endpoint"),
    "gcp:vertex/aiPersistentResource:AiPersistentResource": _encryption_spec("the persistent training cluster"),
    "gcp:vertex/aiReasoningEngine:AiReasoningEngine": _encryption_spec("the reasoning engine"),
    "gcp:workbench/instance:Instance": _workbench_instance,
    "gcp:notebooks/instance:Instance": _legacy_notebook,
    "gcp:notebooks/runtime:Runtime": _cmek_field(
        "virtualMachine.virtualMachineConfig.encryptionConfig.kmsKey", "the runtime's disks"
    ),
    "gcp:storage/bucket:Bucket": _cmek_field("encryption.defaultKmsKeyName", "objects in the bucket"),
    COMPOSER_ENVIRONMENT: _cmek_field(COMPOSER_KEY, "the Airflow environment (database, bucket, logs)"),
    "gcp:bigquery/dataset:Dataset": _cmek_field("defaultEncryptionConfiguration.kmsKeyName", "tables in the dataset"),
    "gcp:pubsub/topic:Topic": _cmek_field("kmsKeyName", "published messages"),
    "gcp:artifactregistry/repository:Repository": _cmek_field("kmsKeyName", "model container images"),
    "gcp:compute/disk:Disk": _cmek_field("diskEncryptionKey.kmsKeySelfLink", "the disk"),
    "gcp:compute/instance:Instance": _compute_instance,
    "gcp:container/cluster:Cluster": _gke_cluster,
    # Kubernetes
    "kubernetes:storage.k8s.io/v1:StorageClass": _storage_class,
}

SPEC = PolicySpec(
    id=ID,
    title="Customer-managed keys on every store of data or models",
    description=(
        "Every resource that stores data, features, models, logs or messages is encrypted with a "
        "customer-managed key: a KMS key on AWS, a Cloud KMS key (CMEK) on GCP, and an encrypted, "
        "key-bound StorageClass on Kubernetes; in protected environments every PersistentVolumeClaim (and "
        "StatefulSet claim template) names a StorageClass of the stack that encrypts with a customer-managed key, "
        "or one listed in encryptedStorageClasses (a claim on the cluster's default class or an unknown class is a "
        "violation). S3 buckets count as encrypted when a "
        "BucketServerSideEncryptionConfiguration with aws:kms and a key targets them. Note: SageMaker training, "
        "processing and monitoring jobs on instance types with local NVMe storage (ml.g4dn, ml.g5, ml.p3dn, ml.m5d, "
        "...; the sagemaker SDK's instance_supports_kms list in policy/facts/instance_types.json) need no volume key: "
        "SageMaker refuses one there and that storage is hardware-encrypted. Their S3 outputs still need the key."
    ),
    remediation=(
        "Pass the platform key (mlops_infra.aws.platform_key / gcp platform key) to the component, or set "
        "the property named in the message (kmsKeyArn, kmsKeyId, encryptionSpec.kmsKeyName, ...) on raw resources. "
        "Kubernetes claims: set k8s.storage in the platform spec (or use EncryptedStorageClass) and name that class "
        "in spec.storageClassName; an existing encrypted class goes into the policy config's encryptedStorageClasses."
    ),
    resource_types={
        **covered_types(HANDLERS),
        "aws": (
            *covered_types(HANDLERS)["aws"],
            "aws:s3/bucket:Bucket",
            "aws:s3/bucketV2:BucketV2",
            "aws:sagemaker/*JobDefinition (model quality, bias, explainability)",
        ),
        "kubernetes": (
            *covered_types(HANDLERS)["kubernetes"],
            "kubernetes:core/v1:PersistentVolumeClaim",
            "kubernetes:apps/v1:StatefulSet (volumeClaimTemplates)",
        ),
    },
    checkov_ids=(
        "CKV_AWS_22",
        "CKV_AWS_187",
        "CKV_AWS_98",
        "CKV_AWS_367",
        "CKV_AWS_368",
        "CKV_AWS_372",
        "CKV2_GCP_24",
        "CKV2_GCP_25",
        "CKV2_GCP_26",
        "CKV_GCP_92",
        "CKV_GCP_96",
        "CKV2_GCP_21",
        "CKV2_GCP_27",
        "CKV2_GCP_35",
        "CKV_AWS_58",
    ),
    resource_check=dispatch(HANDLERS, [(SAGEMAKER_JOB_DEFINITION, _job_definition)]),
    stack_check=_stack_check,
    config_properties=("encryptedStorageClasses",),
)
