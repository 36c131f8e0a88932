"""The native template against the same pipeline built with the sagemaker SDK 2.x, offline.

The SDK is the reference for the definition JSON. It runs with fake credentials and region,
its config files and telemetry are replaced by a temporary config that opts out, and every
socket connect fails the test: nothing here reaches the network.
"""

import importlib.util
import json
import socket
import time
import types

import pytest

from mlops_infra.aws import pipeline_template as template
from mlops_infra.aws.batch_pipeline import BatchInputs, render_batch_definition
from mlops_infra.aws.pipeline_definition import iter_steps, security_findings, step_dependencies, topological_order
from mlops_infra.aws.training_pipeline import TrainingPipeline
from mlops_infra.testing import one, plan

KEY = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555"
ROLE = "arn:aws:iam::123456789012:role/sdk-authoring-role"
ARTIFACTS = "s3://churn-dev-artifacts/pipelines/churn"
TRAIN_IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/churn-train:1.4.2"
PROCESS_IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/churn-process:1.4.2"
PREPROCESS_CODE = "s3://churn-ml-code/v1/preprocess.py"
EVALUATE_CODE = "s3://churn-ml-code/v1/evaluate.py"
HYPERPARAMETERS = {"max_depth": "6", "num_round": "200"}
INPUTS = template.TemplateInputs(
    role_arn=ROLE,
    kms_key_arn=KEY,
    artifact_s3_uri=ARTIFACTS,
    input_data_s3_uri="s3://churn-raw-data/daily/",
    model_package_group_name="churn-models",
    training_image_uri=TRAIN_IMAGE,
    processing_image_uri=PROCESS_IMAGE,
    inference_image_uri=TRAIN_IMAGE,
    training_instance_type="ml.m5.xlarge",
    processing_instance_type="ml.m5.large",
    volume_size_gb=50,
    max_runtime_seconds=7200,
    metric_json_path="metrics.auc.value",
    metric_threshold=0.8,
    metric_direction="maximize",
    approval_status="PendingManualApproval",
    spot_max_wait_seconds=10800,
    hyperparameters=HYPERPARAMETERS,
    preprocess_code_s3_uri=PREPROCESS_CODE,
    evaluate_code_s3_uri=EVALUATE_CODE,
)
# ModelStep("RegisterModel") names its register step "<name>-RegisterModel".
SDK_NAMES = {"RegisterModel-RegisterModel": template.REGISTER}
TIMINGS: dict[str, float] = {}
SDK_CLASSES = {
    "sagemaker.estimator": ["Estimator"],
    "sagemaker.inputs": ["TrainingInput"],
    "sagemaker.model": ["Model"],
    "sagemaker.model_metrics": ["MetricsSource", "ModelMetrics"],
    "sagemaker.network": ["NetworkConfig"],
    "sagemaker.processing": ["ProcessingInput", "ProcessingOutput", "ScriptProcessor"],
    "sagemaker.workflow.condition_step": ["ConditionStep"],
    "sagemaker.workflow.conditions": ["ConditionGreaterThanOrEqualTo"],
    "sagemaker.workflow.execution_variables": ["ExecutionVariables"],
    "sagemaker.workflow.fail_step": ["FailStep"],
    "sagemaker.workflow.functions": ["Join", "JsonGet"],
    "sagemaker.workflow.model_step": ["ModelStep"],
    "sagemaker.workflow.parameters": ["ParameterFloat", "ParameterString"],
    "sagemaker.workflow.pipeline": ["Pipeline"],
    "sagemaker.workflow.pipeline_context": ["PipelineSession"],
    "sagemaker.workflow.properties": ["PropertyFile"],
    "sagemaker.workflow.steps": ["ProcessingStep", "TrainingStep", "TransformStep"],
    "sagemaker.transformer": ["Transformer"],
}


@pytest.fixture(scope="module")
def offline_sdk(tmp_path_factory):
    """The sagemaker modules, imported and used with no credentials, config files, telemetry or network."""
    config = tmp_path_factory.mktemp("sagemaker") / "config.yaml"
    config.write_text("SchemaVersion: '1.0'\nSageMaker:\n  PythonSDK:\n    Modules:\n      TelemetryOptOut: true\n")
    attempts = []

    def refuse(sock, address, *rest):
        attempts.append(address)
        raise OSError(f"test forbids network access (to {address})")

    with pytest.MonkeyPatch.context() as patch:
        for variable in ("SAGEMAKER_ADMIN_CONFIG_OVERRIDE", "SAGEMAKER_USER_CONFIG_OVERRIDE"):
            patch.setenv(variable, str(config))
        patch.setenv("AWS_DEFAULT_REGION", "us-east-1")
        patch.setenv("AWS_ACCESS_KEY_ID", "AKIAOFFLINEOFFLINE00")
        patch.setenv("AWS_SECRET_ACCESS_KEY", "offline")
        patch.setenv("AWS_EC2_METADATA_DISABLED", "true")
        patch.setenv("AWS_CONFIG_FILE", str(config.parent / "no-aws-config"))
        patch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(config.parent / "no-aws-credentials"))
        patch.delenv("AWS_PROFILE", raising=False)
        patch.setattr(socket.socket, "connect", refuse)
        patch.setattr(socket.socket, "connect_ex", refuse)
        started = time.perf_counter()
        pytest.importorskip("sagemaker")
        sdk = types.SimpleNamespace(boto3=importlib.import_module("boto3"))
        for module, names in SDK_CLASSES.items():
            imported = importlib.import_module(module)
            for name in names:
                setattr(sdk, name, getattr(imported, name))
        TIMINGS["import_seconds"] = time.perf_counter() - started
        yield sdk
    assert attempts == [], f"the SDK tried to reach the network: {attempts}"


def build_with_sdk(sdk, approval_status="PendingManualApproval"):
    """The built-in template, step for step, with the SDK's own classes."""
    boto_session = sdk.boto3.Session(
        aws_access_key_id="AKIAOFFLINEOFFLINE00", aws_secret_access_key="offline", region_name="us-east-1"
    )
    session = sdk.PipelineSession(boto_session=boto_session, default_bucket="churn-dev-artifacts")

    def run_path(*parts):
        return sdk.Join(on="/", values=[ARTIFACTS, sdk.ExecutionVariables.PIPELINE_EXECUTION_ID, *parts])

    input_data = sdk.ParameterString("InputDataUrl", default_value=INPUTS.input_data_s3_uri)
    processing_type = sdk.ParameterString("ProcessingInstanceType", default_value=INPUTS.processing_instance_type)
    training_type = sdk.ParameterString("TrainingInstanceType", default_value=INPUTS.training_instance_type)
    approval = sdk.ParameterString("ModelApprovalStatus", default_value=approval_status)
    threshold = sdk.ParameterFloat("MetricThreshold", default_value=INPUTS.metric_threshold)
    processor = sdk.ScriptProcessor(
        image_uri=PROCESS_IMAGE,
        command=["python3"],
        role=ROLE,
        instance_count=1,
        instance_type=processing_type,
        volume_size_in_gb=INPUTS.volume_size_gb,
        volume_kms_key=KEY,
        output_kms_key=KEY,
        max_runtime_in_seconds=INPUTS.processing_max_runtime_seconds,
        network_config=sdk.NetworkConfig(enable_network_isolation=True, encrypt_inter_container_traffic=True),
        sagemaker_session=session,
    )
    splits = ("train", "validation", "test")
    preprocess = sdk.ProcessingStep(
        template.PREPROCESS,
        step_args=processor.run(
            code=PREPROCESS_CODE,
            inputs=[sdk.ProcessingInput(source=input_data, destination="/opt/ml/processing/input", input_name="raw")],
            outputs=[
                sdk.ProcessingOutput(
                    output_name=split, source=f"/opt/ml/processing/{split}", destination=run_path("preprocess", split)
                )
                for split in splits
            ],
        ),
    )

    def split_uri(split):
        return preprocess.properties.ProcessingOutputConfig.Outputs[split].S3Output.S3Uri

    estimator = sdk.Estimator(
        image_uri=TRAIN_IMAGE,
        role=ROLE,
        instance_count=1,
        instance_type=training_type,
        volume_size=INPUTS.volume_size_gb,
        volume_kms_key=KEY,
        output_kms_key=KEY,
        output_path=run_path("model"),
        max_run=INPUTS.max_runtime_seconds,
        use_spot_instances=True,
        max_wait=INPUTS.spot_max_wait_seconds,
        checkpoint_s3_uri=run_path("checkpoints"),
        enable_network_isolation=True,
        encrypt_inter_container_traffic=True,
        disable_profiler=True,
        hyperparameters=HYPERPARAMETERS,
        sagemaker_session=session,
    )
    train = sdk.TrainingStep(
        template.TRAIN,
        step_args=estimator.fit(
            inputs={split: sdk.TrainingInput(s3_data=split_uri(split)) for split in ("train", "validation")}
        ),
    )
    report = sdk.PropertyFile(name="EvaluationReport", output_name="evaluation", path="evaluation.json")
    evaluate = sdk.ProcessingStep(
        template.EVALUATE,
        step_args=processor.run(
            code=EVALUATE_CODE,
            inputs=[
                sdk.ProcessingInput(
                    source=train.properties.ModelArtifacts.S3ModelArtifacts,
                    destination="/opt/ml/processing/model",
                    input_name="model",
                ),
                sdk.ProcessingInput(source=split_uri("test"), destination="/opt/ml/processing/test", input_name="test"),
            ],
            outputs=[
                sdk.ProcessingOutput(
                    output_name="evaluation", source="/opt/ml/processing/evaluation", destination=run_path("evaluation")
                )
            ],
        ),
        property_files=[report],
    )
    evaluation_uri = evaluate.properties.ProcessingOutputConfig.Outputs["evaluation"].S3Output.S3Uri
    model = sdk.Model(
        image_uri=TRAIN_IMAGE,
        model_data=train.properties.ModelArtifacts.S3ModelArtifacts,
        role=ROLE,
        sagemaker_session=session,
    )
    register = sdk.ModelStep(
        template.REGISTER,
        step_args=model.register(
            content_types=list(INPUTS.content_types),
            response_types=list(INPUTS.response_types),
            inference_instances=list(INPUTS.inference_instance_types),
            transform_instances=list(INPUTS.transform_instance_types),
            model_package_group_name=INPUTS.model_package_group_name,
            approval_status=approval,
            model_metrics=sdk.ModelMetrics(
                model_statistics=sdk.MetricsSource(
                    s3_uri=sdk.Join(on="/", values=[evaluation_uri, "evaluation.json"]), content_type="application/json"
                )
            ),
        ),
    )
    fail = sdk.FailStep(
        template.METRIC_BELOW_THRESHOLD,
        error_message="metrics.auc.value did not meet the threshold (GreaterThanOrEqualTo); model not registered",
    )
    check = sdk.ConditionStep(
        template.CHECK_METRIC,
        conditions=[
            sdk.ConditionGreaterThanOrEqualTo(
                left=sdk.JsonGet(step_name=template.EVALUATE, property_file=report, json_path="metrics.auc.value"),
                right=threshold,
            )
        ],
        if_steps=[register],
        else_steps=[fail],
    )
    pipeline = sdk.Pipeline(
        "churn-dev-churn",
        parameters=[input_data, processing_type, training_type, approval, threshold],
        steps=[preprocess, train, evaluate, check],
        sagemaker_session=session,
        pipeline_experiment_config=None,
    )
    return pipeline


def _renamed(value):
    """SDK step names mapped onto the template's (inside references too)."""
    text = json.dumps(value)
    for sdk_name, name in SDK_NAMES.items():
        text = text.replace(f'"{sdk_name}"', f'"{name}"').replace(f"Steps.{sdk_name}.", f"Steps.{name}.")
    return json.loads(text)


@pytest.fixture(scope="module")
def sdk_pipeline(offline_sdk):
    started = time.perf_counter()
    pipeline = build_with_sdk(offline_sdk)
    TIMINGS["sdk_objects_seconds"] = time.perf_counter() - started
    return pipeline


@pytest.fixture(scope="module")
def definitions(sdk_pipeline):
    started = time.perf_counter()
    sdk = _renamed(json.loads(sdk_pipeline.definition()))
    TIMINGS["sdk_definition_seconds"] = time.perf_counter() - started
    started = time.perf_counter()
    native = template.render_pipeline_definition(INPUTS)
    TIMINGS["native_render_seconds"] = time.perf_counter() - started
    print(f"\nsagemaker SDK timings: {TIMINGS}")
    return sdk, native


def _steps(definition):
    return {step["Name"]: step for step, _ in iter_steps(definition)}


def test_same_steps_types_and_dependency_graph(definitions):
    sdk, native = definitions
    assert sdk["Version"] == native["Version"] == "2020-12-01"
    assert {n: s["Type"] for n, s in _steps(sdk).items()} == {n: s["Type"] for n, s in _steps(native).items()}
    assert step_dependencies(sdk) == step_dependencies(native)
    assert topological_order(step_dependencies(native))[:3] == ["Preprocess", "Train", "Evaluate"]


def test_same_parameters(definitions):
    sdk, native = definitions
    assert sdk["Parameters"] == native["Parameters"]


def test_processing_steps_match_the_sdk_including_kms_and_isolation(definitions):
    sdk, native = definitions
    for name in (template.PREPROCESS, template.EVALUATE):
        sdk_arguments, native_arguments = _steps(sdk)[name]["Arguments"], _steps(native)[name]["Arguments"]
        assert sdk_arguments == native_arguments, name
        assert native_arguments["ProcessingResources"]["ClusterConfig"]["VolumeKmsKeyId"] == KEY
        assert native_arguments["ProcessingOutputConfig"]["KmsKeyId"] == KEY
        assert native_arguments["NetworkConfig"]["EnableInterContainerTrafficEncryption"] is True
    assert _steps(sdk)[template.EVALUATE]["PropertyFiles"] == _steps(native)[template.EVALUATE]["PropertyFiles"]


def test_training_step_matches_the_sdk_including_spot_and_encryption(definitions):
    sdk, native = definitions
    sdk_arguments = dict(_steps(sdk)[template.TRAIN]["Arguments"])
    # The SDK always adds an empty debugger hook; the service treats it as absent (no rules, no collections).
    assert sdk_arguments.pop("DebugHookConfig")["CollectionConfigurations"] == []
    native_arguments = _steps(native)[template.TRAIN]["Arguments"]
    assert sdk_arguments == native_arguments
    for key in ("EnableNetworkIsolation", "EnableInterContainerTrafficEncryption", "EnableManagedSpotTraining"):
        assert native_arguments[key] is True
    assert (
        native_arguments["ResourceConfig"]["VolumeKmsKeyId"] == native_arguments["OutputDataConfig"]["KmsKeyId"] == KEY
    )
    stopping = native_arguments["StoppingCondition"]
    assert stopping["MaxWaitTimeInSeconds"] >= stopping["MaxRuntimeInSeconds"]


def test_condition_and_registration_match_the_sdk(definitions):
    sdk, native = definitions
    sdk_condition = _steps(sdk)[template.CHECK_METRIC]["Arguments"]["Conditions"]
    assert sdk_condition == _steps(native)[template.CHECK_METRIC]["Arguments"]["Conditions"]
    assert sdk_condition[0]["Type"] == "GreaterThanOrEqualTo"
    assert sdk_condition[0]["LeftValue"]["Std:JsonGet"]["Path"] == "metrics.auc.value"
    sdk_register = dict(_steps(sdk)[template.REGISTER]["Arguments"])
    native_register = _steps(native)[template.REGISTER]["Arguments"]
    # Empty metric sections and the default "validate the model" are what the service assumes anyway.
    metrics = sdk_register["ModelMetrics"]
    assert (metrics.pop("Bias"), metrics.pop("Explainability")) == ({}, {})
    assert sdk_register.pop("SkipModelValidation") == "None"
    for container in sdk_register["InferenceSpecification"]["Containers"]:
        assert container.pop("Environment") == {}
    assert sdk_register == native_register
    assert native_register["ModelApprovalStatus"] == {"Get": "Parameters.ModelApprovalStatus"}
    parameters = {p["Name"]: p["DefaultValue"] for p in native["Parameters"]}
    assert parameters["ModelApprovalStatus"] == "PendingManualApproval"
    assert _steps(sdk)[template.METRIC_BELOW_THRESHOLD] == _steps(native)[template.METRIC_BELOW_THRESHOLD]


def test_an_sdk_pipeline_object_deploys_as_the_definition(sdk_pipeline):
    pipeline = sdk_pipeline
    stack = plan(
        lambda: TrainingPipeline(
            "churn",
            {
                "model_package_group_name": "churn-models",
                "training_image_uri": TRAIN_IMAGE,
                "processing_image_uri": PROCESS_IMAGE,
                "training_instance_type": "ml.m5.xlarge",
                "processing_instance_type": "ml.m5.large",
                "volume_size_gb": 50,
                "max_runtime_seconds": 7200,
                "gate": {"name": "auc", "threshold": 0.8, "direction": "maximize"},
                "kms_key_arn": KEY,
                "pipeline_definition": pipeline,
            },
        ),
        environment="dev",
    )
    deployed = json.loads(one(stack, "aws:sagemaker/pipeline:Pipeline").inputs["pipelineDefinition"])
    assert deployed == _deployed_form(json.loads(pipeline.definition()))
    assert security_findings(deployed) == []


def _deployed_form(definition):
    """What the component sends: the SDK definition with every job's role set to the execution role."""
    role = "arn:aws:iam::123456789012:role/churn-dev-us-east-1-churn-exec"
    text = json.dumps(definition).replace(f'"RoleArn": "{ROLE}"', f'"RoleArn": "{role}"')
    return json.loads(text)


def test_the_batch_pipeline_matches_the_sdks_model_and_transform_steps(offline_sdk):
    """``batch_pipeline`` against ModelStep + TransformStep built with the SDK's Model and Transformer."""
    sdk = offline_sdk
    boto_session = sdk.boto3.Session(
        aws_access_key_id="AKIAOFFLINEOFFLINE00", aws_secret_access_key="offline", region_name="us-east-1"
    )
    session = sdk.PipelineSession(boto_session=boto_session, default_bucket="churn-dev-batch")
    inputs = BatchInputs(
        role_arn=ROLE,
        kms_key_arn=KEY,
        image_uri=TRAIN_IMAGE,
        input_s3_uri="s3://churn-dev-batch/scoring/",
        output_s3_uri="s3://churn-dev-batch/predictions/nightly",
        instance_type="ml.m5.xlarge",
        instance_count=3,
        record_format="csv",
        model_data_url=f"{ARTIFACTS}/model.tar.gz",
        max_concurrent_transforms=4,
        max_payload_mb=6,
    )
    data = sdk.ParameterString("InputDataUrl", default_value=inputs.input_s3_uri)
    model = sdk.Model(
        image_uri=TRAIN_IMAGE,
        model_data=inputs.model_data_url,
        role=ROLE,
        enable_network_isolation=True,
        sagemaker_session=session,
    )
    create = sdk.ModelStep("CreateModel", step_args=model.create(instance_type=inputs.instance_type))
    transformer = sdk.Transformer(
        model_name=create.properties.ModelName,
        instance_count=3,
        instance_type=inputs.instance_type,
        strategy="MultiRecord",
        assemble_with="Line",
        output_path=sdk.Join(on="/", values=[inputs.output_s3_uri, sdk.ExecutionVariables.PIPELINE_EXECUTION_ID]),
        output_kms_key=KEY,
        accept="text/csv",
        max_concurrent_transforms=4,
        max_payload=6,
        volume_kms_key=KEY,
        sagemaker_session=session,
    )
    transform = sdk.TransformStep(
        "Transform",
        step_args=transformer.transform(data=data, content_type="text/csv", split_type="Line", compression_type="None"),
    )
    pipeline = sdk.Pipeline(
        "churn-dev-nightly", parameters=[data], steps=[create, transform], sagemaker_session=session
    )
    text = pipeline.definition().replace("CreateModel-CreateModel", "CreateModel")  # ModelStep's create step name
    reference, native = json.loads(text), render_batch_definition(inputs)
    assert reference["Parameters"] == native["Parameters"]
    assert reference["Steps"] == native["Steps"]
