"""The built-in training pipeline: preprocess -> train -> evaluate -> register only if the metric is good enough.

Every step runs one user-supplied trainer image (``python -m <module>.<step>``), so the template
fixes the workflow and its gate while the team owns the code. The register step uploads the
model to the Vertex Model Registry under ``parent_model`` with ``model_alias`` (a candidate
alias such as ``challenger``; promotion to the approved alias stays a separate decision).

Each step runs as a Vertex AI CustomJob (google-cloud-pipeline-components'
``create_custom_training_job_from_component``), so the machine, the hard stop and the capacity are
in the compiled spec rather than chosen by Vertex at run time: ``train`` on ``train_machine_type``
(+ accelerators), ``scheduling.timeout = train_timeout_seconds``, ``strategy = SPOT`` when
``train_spot``, a boot disk of ``train_boot_disk_gb`` (at least Vertex's 100 GB); the other steps on
``processing_machine_type`` with ``processing_timeout_seconds``. Every CustomJob is encrypted with
the pipeline's ``kms_key_name``, runs as its ``service_account`` and peers with its ``network``
(runtime parameters the TrainingPipeline component fills in).
"""

# ruff: noqa: PLC0415, PLR0917 - kfp loads lazily; a kfp pipeline signature lists its parameters.
# No ``from __future__ import annotations`` here: kfp reads the step signatures' real types.
from collections.abc import Callable
from typing import Any, Protocol


class TemplateSettings(Protocol):
    """What the template reads from its settings (``pipeline_spec.SpecTemplate`` has these fields).

    A protocol rather than an import: ``pipeline_spec`` imports this module, never the other way round.
    """

    @property
    def name(self) -> str: ...
    @property
    def image(self) -> str: ...
    @property
    def module(self) -> str: ...
    @property
    def metric_name(self) -> str: ...
    @property
    def metric_threshold(self) -> float: ...
    @property
    def train_accelerator_type(self) -> str | None: ...
    @property
    def train_accelerator_count(self) -> int: ...
    @property
    def metric_direction(self) -> str: ...
    @property
    def train_machine_type(self) -> str: ...
    @property
    def train_timeout_seconds(self) -> int: ...
    @property
    def train_spot(self) -> bool: ...
    @property
    def train_boot_disk_gb(self) -> int: ...
    @property
    def processing_machine_type(self) -> str: ...
    @property
    def processing_timeout_seconds(self) -> int: ...


# Vertex refuses a CustomJob boot disk under 100 GB; a smaller training volume gets the minimum.
MIN_BOOT_DISK_GB = 100
PROCESSING_BOOT_DISK_GB = 100


def training_pipeline(template: TemplateSettings) -> Callable[..., Any]:
    """Build the kfp pipeline function for ``template`` (kfp imported lazily: the ``vertex`` extra)."""
    from google_cloud_pipeline_components.v1.custom_job import create_custom_training_job_from_component
    from kfp import dsl

    def custom_job(component: Any, *, training: bool) -> Any:
        """``component`` as a Vertex CustomJob with the template's machine, hard stop, capacity and disk."""
        if not training:
            return create_custom_training_job_from_component(
                component,
                machine_type=template.processing_machine_type,
                boot_disk_size_gb=PROCESSING_BOOT_DISK_GB,
                timeout=f"{template.processing_timeout_seconds}s",
            )
        accelerator = (
            {"accelerator_type": template.train_accelerator_type, "accelerator_count": template.train_accelerator_count}
            if template.train_accelerator_type
            else {}
        )
        return create_custom_training_job_from_component(
            component,
            machine_type=template.train_machine_type,
            boot_disk_size_gb=max(MIN_BOOT_DISK_GB, template.train_boot_disk_gb),
            timeout=f"{template.train_timeout_seconds}s",
            strategy="SPOT" if template.train_spot else "STANDARD",
            **accelerator,
        )

    image = template.image
    module = template.module

    def step(name: str) -> list[str]:
        return ["python", "-m", f"{module}.{name}"]

    @dsl.container_component  # type: ignore[untyped-decorator]
    def preprocess(source_uri: str, dataset: dsl.Output[dsl.Dataset]) -> dsl.ContainerSpec:
        return dsl.ContainerSpec(
            image=image, command=step("preprocess"), args=["--source-uri", source_uri, "--output", dataset.path]
        )

    @dsl.container_component  # type: ignore[untyped-decorator]
    def train(dataset: dsl.Input[dsl.Dataset], model: dsl.Output[dsl.Model]) -> dsl.ContainerSpec:
        return dsl.ContainerSpec(
            image=image, command=step("train"), args=["--dataset", dataset.path, "--model", model.path]
        )

    @dsl.container_component  # type: ignore[untyped-decorator]
    def evaluate(
        dataset: dsl.Input[dsl.Dataset],
        model: dsl.Input[dsl.Model],
        metric_name: str,
        metric: dsl.OutputPath(float),  # type: ignore[valid-type]
    ) -> dsl.ContainerSpec:
        return dsl.ContainerSpec(
            image=image,
            command=step("evaluate"),
            args=[
                "--dataset",
                dataset.path,
                "--model",
                model.path,
                "--metric-name",
                metric_name,
                "--metric-output",
                metric,
            ],
        )

    @dsl.container_component  # type: ignore[untyped-decorator]
    def register(
        model: dsl.Input[dsl.Model], parent_model: str, model_alias: str, serving_image: str, kms_key_name: str
    ) -> dsl.ContainerSpec:
        return dsl.ContainerSpec(
            image=image,
            command=step("register"),
            args=[
                "--model-uri", model.uri,
                "--parent-model", parent_model,
                "--alias", model_alias,
                "--serving-image", serving_image,
                "--kms-key-name", kms_key_name,
            ],
        )  # fmt: skip

    preprocess_job = custom_job(preprocess, training=False)
    train_job = custom_job(train, training=True)
    evaluate_job = custom_job(evaluate, training=False)
    register_job = custom_job(register, training=False)

    @dsl.pipeline(name=template.name, description="preprocess -> train -> evaluate -> register if metric >= threshold")  # type: ignore[untyped-decorator]
    def pipeline(
        source_uri: str,
        parent_model: str,
        serving_image: str,
        kms_key_name: str,
        model_alias: str = "challenger",
        metric_name: str = template.metric_name,
        metric_threshold: float = template.metric_threshold,
        service_account: str = "",
        network: str = "",
        tensorboard: str = "",
        tensorboard_logs: str = "",
    ) -> None:
        # Every CustomJob: CMEK, the pipeline's identity and VPC (an empty value: none / the service agent).
        job = {"encryption_spec_key_name": kms_key_name, "service_account": service_account, "network": network}
        prepared = preprocess_job(source_uri=source_uri, **job).set_display_name("preprocess")
        # The platform's TensorBoard (Vertex Experiments) receives the training logs; "" logs nowhere.
        trained = train_job(
            dataset=prepared.outputs["dataset"],
            tensorboard=tensorboard,
            base_output_directory=tensorboard_logs,
            **job,
        ).set_display_name("train")
        evaluated = evaluate_job(
            dataset=prepared.outputs["dataset"], model=trained.outputs["model"], metric_name=metric_name, **job
        ).set_display_name("evaluate")
        metric = evaluated.outputs["metric"]
        good_enough = (
            metric <= metric_threshold if template.metric_direction == "minimize" else metric >= metric_threshold
        )
        with dsl.If(good_enough, name="metric-meets-threshold"):
            register_job(
                model=trained.outputs["model"],
                parent_model=parent_model,
                model_alias=model_alias,
                serving_image=serving_image,
                kms_key_name=kms_key_name,
                **job,
            ).set_display_name("register")

    return pipeline  # type: ignore[no-any-return]
