"""training.orchestrator: airflow on AWS (Amazon MWAA) and GCP (Cloud Composer): the wiring that makes it private,
encrypted, least-privilege and the only scheduler of the training runs, and the DAG text it uploads."""

from __future__ import annotations

import ast
import json
from typing import Any

import pulumi_aws as aws
import pulumi_gcp as gcp
import pytest
import test_aws_realize as aws_platform
import test_gcp_realize as gcp_platform
from pydantic import ValidationError

from mlops_infra.airflow_dag import sagemaker_pipeline_dag, vertex_pipeline_dag
from mlops_infra.aws.airflow_realization import airflow_args
from mlops_infra.cost.catalogue import load_catalogue
from mlops_infra.cost.estimate import estimate_stack
from mlops_infra.engine import ProgramError
from mlops_infra.engine.captured import CapturedStack
from mlops_infra.policy.evaluate import evaluate_stack
from mlops_infra.policy.model import Enforcement
from mlops_infra.spec import PlatformSpec, Schedule
from mlops_infra.spec.cloud import Cloud
from mlops_infra.spec.support import REALIZED_BY, WHY_NOT
from mlops_infra.testing import iam_statements, one, plan

MWAA = "aws:mwaa/environment:Environment"
COMPOSER = "gcp:composer/environment:Environment"
NETWORK = {
    "vpc_id": "vpc-0123456789abcdef0",
    "private_subnet_ids": ["subnet-0aaaaaaaaaaaaaaaa", "subnet-0bbbbbbbbbbbbbbbb"],
}
AIRFLOW = {"training": {"orchestrator": "airflow"}}
TAGS = {"project": "churn", "environment": "prod", "owner": "ml-platform", "cost-center": "cc-1234"}
LABELS = TAGS
KEY = "projects/acme-churn/locations/europe-west4/keyRings/ring/cryptoKeys/key"
KEY_ARN_PLACEHOLDER = "arn:aws:kms:us-east-1:000000000000:key/00000000-0000-0000-0000-000000000000"


def mandatory(stack: CapturedStack) -> list[str]:
    return [f"{v.policy_id}: {v.message}" for v in evaluate_stack(stack) if v.enforcement is Enforcement.MANDATORY]


@pytest.fixture(scope="module")
def aws_prod() -> CapturedStack:
    return aws_platform.protected(
        "prod", **AIRFLOW, aws={"network": NETWORK}, alerts={"emails": ["ml-platform@example.com"]}
    )


@pytest.fixture(scope="module")
def gcp_prod() -> CapturedStack:
    return gcp_platform.realize("prod", **AIRFLOW, alerts={"emails": ["ml-platform@example.com"]})


# --- the DAG text --------------------------------------------------------------------------------------------

WEEKLY = Schedule(cron="0 3 * * 1", time_zone="Europe/Berlin")


def test_the_sagemaker_dag_compiles_and_starts_the_named_pipeline_on_the_schedule():
    text = sagemaker_pipeline_dag(
        dag_id="churn-prod-aws-airflow", pipeline_name="churn-prod-aws-training", schedule=WEEKLY,
        parameters={"MaxDepth": "6"},
    )  # fmt: skip
    compile(text, "dag.py", "exec")
    assert "SCHEDULE = '0 3 * * 1'" in text and "tz='Europe/Berlin'" in text
    assert "PIPELINE_NAME = 'churn-prod-aws-training'" in text and "PIPELINE_PARAMETERS = {'MaxDepth': '6'}" in text
    assert "SageMakerStartPipelineOperator(" in text and "wait_for_completion=False" in text
    assert "catchup=False" in text and "max_active_runs=1" in text


def test_the_vertex_dag_compiles_and_submits_the_cmek_job_as_its_service_account():
    job = {"displayName": "churn", "encryptionSpec": {"kmsKeyName": "k"}, "serviceAccount": "sa@p.iam"}
    text = vertex_pipeline_dag(dag_id="d", pipeline_jobs_url="https://x/pipelineJobs", pipeline_job=job, schedule=None)
    code = compile(text, "dag.py", "exec")
    assert "SCHEDULE = None" in text and "tz='UTC'" in text  # on demand only
    # The constants are plain literals: read them without importing Airflow.
    constants = {
        node.targets[0].id: ast.literal_eval(node.value)
        for node in ast.parse(text).body
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name)
    }
    assert json.loads(constants["PIPELINE_JOB"]) == job and constants["PIPELINE_JOBS_URL"] == "https://x/pipelineJobs"
    (operator,) = [
        node
        for node in ast.walk(ast.parse(text))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "PythonOperator"
    ]
    callable_ = next(k.value for k in operator.keywords if k.arg == "python_callable")
    assert isinstance(callable_, ast.Name) and callable_.id == "submit_pipeline_job"
    assert "post(PIPELINE_JOBS_URL, json=json.loads(PIPELINE_JOB)" in text and code.co_filename == "dag.py"


@pytest.mark.parametrize("name", ["x'''\nimport os", 'x"""; import os #', "x\\"])
def test_a_hostile_name_stays_inside_its_literal(name):
    text = sagemaker_pipeline_dag(dag_id="d", pipeline_name=name, schedule=None, parameters={})
    tree = ast.parse(text)
    imported = {
        alias.name for node in ast.walk(tree) if isinstance(node, ast.Import | ast.ImportFrom) for alias in node.names
    }
    assert "os" not in imported
    assert f"PIPELINE_NAME = {name!r}" in text


def test_a_bad_dag_id_is_refused():
    with pytest.raises(ValueError, match="dag_id"):
        sagemaker_pipeline_dag(dag_id="a b", pipeline_name="p", schedule=None, parameters={})


# --- the realization table -------------------------------------------------------------------------------------


def test_aws_and_gcp_realize_airflow_and_kubernetes_says_why_not():
    assert REALIZED_BY["Airflow orchestrator"] == {Cloud.AWS, Cloud.GCP}
    assert "Argo" in WHY_NOT[("Airflow orchestrator", Cloud.K8S)]


def test_aws_refuses_airflow_without_a_network_by_that_field():
    spec = PlatformSpec.model_validate(aws_platform.churn_spec(**AIRFLOW))
    with pytest.raises(ValidationError, match=r"aws\.network") as info:
        airflow_args(spec, KEY_ARN_PLACEHOLDER, "p", "arn:aws:sagemaker:us-east-1:000000000000:pipeline/p")
    assert "two private subnets" in str(info.value)
    with pytest.raises(ProgramError, match=r"aws\.network"):
        aws_platform.realize("dev", **AIRFLOW)


@pytest.mark.parametrize("subnets", [["subnet-0aaaaaaaaaaaaaaaa"], ["subnet-0aaaaaaaaaaaaaaaa"] * 2, ["sn-1", "sn-2"]])
def test_the_network_needs_two_distinct_private_subnets(subnets):
    with pytest.raises(ValidationError, match="private_subnet_ids"):
        PlatformSpec.model_validate(
            aws_platform.churn_spec(aws={"network": {**NETWORK, "private_subnet_ids": subnets}})
        )


# --- AWS: MWAA ------------------------------------------------------------------------------------------------


def test_mwaa_is_private_encrypted_with_the_platform_key_and_in_the_spec_subnets(aws_prod):
    env = one(aws_prod, MWAA).inputs
    key = aws_platform.outputs(aws_prod)["keyArn"]
    assert env["webserverAccessMode"] == "PRIVATE_ONLY"
    assert env["kmsKey"] == key
    assert env["networkConfiguration"]["subnetIds"] == NETWORK["private_subnet_ids"]
    (group,) = env["networkConfiguration"]["securityGroupIds"]
    sg = one(aws_prod, "aws:ec2/securityGroup:SecurityGroup")
    assert sg.inputs["vpcId"] == NETWORK["vpc_id"]
    assert [rule["self"] for rule in sg.inputs["ingress"]] == [True]  # nothing else may connect
    assert all(v["enabled"] and v["logLevel"] == "INFO" for v in env["loggingConfiguration"].values())
    logs = [g.inputs for g in aws_prod.by_type("aws:cloudwatch/logGroup:LogGroup") if "airflow" in g.name]
    assert sorted(g["name"] for g in logs) == [
        f"airflow-{env['name']}-{kind}" for kind in ("DAGProcessing", "Scheduler", "Task", "WebServer", "Worker")
    ]
    assert all(g["retentionInDays"] == 90 and g["kmsKeyId"] == key for g in logs)
    assert group == sg.name  # the offline engine's id of a resource is its name


def test_the_dag_bucket_is_kms_versioned_and_blocks_public_access(aws_prod):
    env = one(aws_prod, MWAA).inputs
    bucket = next(b for b in aws_prod.by_type("aws:s3/bucket:Bucket") if "airflow-dags" in b.name)
    assert env["sourceBucketArn"] == f"arn:aws:s3:::{bucket.inputs['bucket']}"
    name = bucket.inputs["bucket"]

    def of(type_: str) -> dict[str, Any]:
        return next(r.inputs for r in aws_prod.by_type(type_) if r.inputs.get("bucket") == name)

    assert of("aws:s3/bucketVersioning:BucketVersioning")["versioningConfiguration"]["status"] == "Enabled"
    assert of("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")["restrictPublicBuckets"] is True
    rule = of("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration")["rules"][0]
    assert rule["applyServerSideEncryptionByDefault"]["kmsMasterKeyId"] == aws_platform.outputs(aws_prod)["keyArn"]


def test_the_dag_object_starts_the_platform_pipeline_on_the_spec_schedule(aws_prod):
    dag = one(aws_prod, "aws:s3/bucketObjectv2:BucketObjectv2").inputs
    text = dag["content"]
    compile(text, "dag.py", "exec")
    assert dag["key"].startswith("dags/") and dag["key"].endswith(".py")
    assert dag["serverSideEncryption"] == "aws:kms"
    pipeline = aws_platform.outputs(aws_prod)["pipelineName"]
    assert f"PIPELINE_NAME = {pipeline!r}" in text
    assert "SCHEDULE = '0 3 * * 1'" in text  # platform.yaml's training schedule


def test_one_scheduler_the_dag_and_no_eventbridge_schedule(aws_prod):
    # The native orchestrator's EventBridge schedule (tests/platform/test_aws_realize.py) is not created.
    assert aws_prod.by_type("aws:scheduler/schedule:Schedule") == []


def test_the_execution_role_is_least_privilege(aws_prod):
    policy = next(p for p in aws_prod.by_type("aws:iam/rolePolicy:RolePolicy") if "airflow" in p.name)
    statements = {s["Sid"]: s for s in iam_statements(policy)}
    pipeline = one(aws_prod, "aws:sagemaker/pipeline:Pipeline")
    start = statements["StartTrainingPipeline"]
    assert start["Action"] == ["sagemaker:StartPipelineExecution"]
    (arn,) = start["Resource"]
    assert arn.startswith("arn:aws:sagemaker:us-east-1:") and arn.lower().endswith(
        f":pipeline/{pipeline.inputs['pipelineName'].lower()}"
    )
    assert statements["PublishMetrics"]["Resource"][0].endswith(f":environment/{one(aws_prod, MWAA).inputs['name']}")
    assert statements["DagObjects"]["Action"] == ["s3:GetObject", "s3:GetObjectVersion"]
    key = statements["PlatformKey"]
    assert key["Resource"] == [aws_platform.outputs(aws_prod)["keyArn"]]
    assert set(key["Condition"]["StringLike"]["kms:ViaService"]) == {
        "sqs.us-east-1.amazonaws.com",
        "s3.us-east-1.amazonaws.com",
    }
    assert all("*" not in a for s in statements.values() for a in s["Action"])
    assert statements["EnvironmentLogs"]["Resource"][0].endswith(
        f"log-group:airflow-{one(aws_prod, MWAA).inputs['name']}-*"
    )
    trust = json.loads(
        next(r for r in aws_prod.by_type("aws:iam/role:Role") if "airflow" in r.name).inputs["assumeRolePolicy"]
    )
    assert trust["Statement"][0]["Principal"]["Service"] == ["airflow.amazonaws.com", "airflow-env.amazonaws.com"]


def test_aws_prod_protects_the_environment_and_passes_every_guardrail(aws_prod):
    assert one(aws_prod, MWAA).protect is True
    assert mandatory(aws_prod) == []


# --- GCP: Composer --------------------------------------------------------------------------------------------


def test_composer_is_private_cmek_and_admits_no_web_traffic(gcp_prod):
    config = one(gcp_prod, COMPOSER).inputs["config"]
    key = gcp_platform.KEY.format(env="prod")
    assert config["enablePrivateEnvironment"] is True
    assert config["encryptionConfig"] == {"kmsKeyName": key}
    assert config["webServerNetworkAccessControl"] == {"allowedIpRanges": []}
    agents = {
        g.name.removeprefix("gcp-airflow-key-"): g.inputs
        for g in gcp_prod.by_type("gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember")
        if g.name.startswith("gcp-airflow-key-")
    }
    assert set(agents) == {"composer-agent", "pubsub-agent", "gke-agent", "compute-agent"}
    assert all(
        a["cryptoKeyId"] == key and a["role"] == "roles/cloudkms.cryptoKeyEncrypterDecrypter" for a in agents.values()
    )
    assert "cloudcomposer-accounts" in agents["composer-agent"]["member"]


def test_composer_runs_as_its_own_least_privilege_account(gcp_prod):
    env = one(gcp_prod, COMPOSER).inputs
    account = env["config"]["nodeConfig"]["serviceAccount"]
    member = f"serviceAccount:{account}"
    project_roles = {
        g.inputs["role"] for g in gcp_prod.by_type("gcp:projects/iAMMember:IAMMember") if g.inputs["member"] == member
    }
    assert {r for r in project_roles if r.startswith("roles/")} == {"roles/composer.worker"}
    role = next(r for r in gcp_prod.by_type("gcp:projects/iAMCustomRole:IAMCustomRole") if "airflow" in r.name)
    assert sorted(role.inputs["permissions"]) == ["aiplatform.pipelineJobs.create", "aiplatform.pipelineJobs.get"]
    (custom,) = project_roles - {"roles/composer.worker"}  # no predefined Vertex role: only the custom one
    assert not custom.startswith("roles/") and role.inputs["roleId"].endswith("airflowSubmitter")
    act_as = [
        g.inputs for g in gcp_prod.by_type("gcp:serviceaccount/iAMMember:IAMMember") if g.inputs["member"] == member
    ]
    (grant,) = act_as
    assert grant["role"] == "roles/iam.serviceAccountUser"
    pipeline_sa = next(a for a in gcp_prod.by_type("gcp:serviceaccount/account:Account") if a.name == "gcp-training-sa")
    assert grant["serviceAccountId"].endswith(pipeline_sa.inputs["accountId"] + "@acme-churn.iam.gserviceaccount.com")
    bucket = [
        g.inputs
        for g in gcp_prod.by_type("gcp:storage/bucketIAMMember:BucketIAMMember")
        if g.inputs["member"] == member
    ]
    assert [(b["bucket"], b["role"]) for b in bucket] == [(env["storageConfig"]["bucket"], "roles/storage.objectAdmin")]


def test_the_dag_goes_to_the_environment_bucket_and_cloud_scheduler_does_not_run(gcp_prod):
    env = one(gcp_prod, COMPOSER).inputs
    dag = one(gcp_prod, "gcp:storage/bucketObject:BucketObject").inputs
    assert dag["bucket"] == env["storageConfig"]["bucket"] and dag["name"].startswith("dags/")
    bucket = next(b for b in gcp_prod.by_type("gcp:storage/bucket:Bucket") if b.inputs["name"] == dag["bucket"])
    assert bucket.inputs["encryption"]["defaultKmsKeyName"] == gcp_platform.KEY.format(env="prod")
    assert bucket.inputs["publicAccessPrevention"] == "enforced" and bucket.inputs["versioning"]["enabled"] is True
    assert [j for j in gcp_prod.by_type("gcp:cloudscheduler/job:Job") if "training" in j.name] == []


def test_the_composer_dag_submits_the_platform_job_on_the_schedule():
    """The DAG text (a secret input of the bucket object) read from the component before it is uploaded."""
    from mlops_infra.gcp.composer import ComposerEnvironment

    texts: list[str] = []

    def program() -> None:
        job = {"displayName": "churn-dev-gcp-training", "encryptionSpec": {"kmsKeyName": KEY}, "serviceAccount": "sa"}
        env = ComposerEnvironment(
            "airflow",
            {"region": "europe-west4", "kms_key_name": KEY, "pipeline_job": job, "pipeline_service_account": "sa",
             "schedule": {"cron": "0 3 * * 1", "time_zone": "Europe/Berlin"}},
        )  # fmt: skip
        env.dag_text.apply(texts.append)

    plan(program, config=gcp_platform.CONFIG)
    (text,) = texts
    compile(text, "dag.py", "exec")
    assert "SCHEDULE = '0 3 * * 1'" in text and "tz='Europe/Berlin'" in text
    assert f'"kmsKeyName":"{KEY}"' in text and '"serviceAccount":"sa"' in text
    assert "https://europe-west4-aiplatform.googleapis.com/v1/projects/" in text


def test_gcp_prod_protects_the_environment_and_passes_every_guardrail(gcp_prod):
    assert one(gcp_prod, COMPOSER).protect is True
    assert mandatory(gcp_prod) == []


# --- guardrails on raw programs -------------------------------------------------------------------------------


def _raw_airflow() -> None:
    aws.mwaa.Environment(
        "mwaa", name="churn-prod-airflow", execution_role_arn="arn:aws:iam::123456789012:role/x",
        source_bucket_arn="arn:aws:s3:::b", dag_s3_path="dags/", webserver_access_mode="PUBLIC_ONLY",
        network_configuration={"subnet_ids": ["subnet-1", "subnet-2"], "security_group_ids": ["sg-1"]}, tags=TAGS,
    )  # fmt: skip
    gcp.composer.Environment(
        "composer", name="churn-prod-airflow", region="europe-west4",
        config={"software_config": {"image_version": "composer-3-airflow-2.10.5"}}, labels=LABELS,
    )  # fmt: skip


def test_public_unencrypted_managed_airflow_is_flagged():
    violations = [(v.policy_id, v.message) for v in evaluate_stack(plan(_raw_airflow, environment="prod"))]
    public = [m for p, m in violations if p == "no-public-access"]
    encryption = [m for p, m in violations if p == "encryption-at-rest"]
    assert any("webserverAccessMode is PUBLIC_ONLY" in m for m in public)
    assert any("not private" in m for m in public) and any("any IP address" in m for m in public)
    assert any("mwaa" in m and "kmsKey" in m for m in encryption)
    assert any("composer" in m and "encryptionConfig.kmsKeyName" in m for m in encryption)


def test_an_allow_marker_makes_a_public_web_server_intended():
    def program() -> None:
        aws.mwaa.Environment(
            "mwaa", name="n", execution_role_arn="r", source_bucket_arn="arn:aws:s3:::b", dag_s3_path="dags/",
            webserver_access_mode="PUBLIC_ONLY", kms_key=KEY_ARN_PLACEHOLDER,
            network_configuration={"subnet_ids": ["subnet-1", "subnet-2"], "security_group_ids": ["sg-1"]},
            tags={**TAGS, "mlops-infra/allow-public": "true"},
        )  # fmt: skip

    stack = plan(program, environment="prod")
    assert [v for v in evaluate_stack(stack) if v.policy_id == "no-public-access"] == []


# --- cost -------------------------------------------------------------------------------------------------------


def test_mwaa_is_priced_always_on_and_composer_is_listed_unpriced(aws_prod, gcp_prod):
    catalogue = load_catalogue()
    (item,) = [i for i in estimate_stack(aws_prod, catalogue).items if i.type == MWAA]
    assert item.monthly_max == item.monthly_expected == pytest.approx(0.49 * 730)
    assert "mw1.small" in item.basis and "always on" in item.basis
    (unpriced,) = [u for u in estimate_stack(gcp_prod, catalogue).unpriced if u.type == COMPOSER]
    assert "DCU" in unpriced.reason
