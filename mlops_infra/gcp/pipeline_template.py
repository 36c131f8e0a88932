"""The built-in training pipeline: preprocess -> train -> evaluate -> register only if the metric is good enough.

Every step runs one user-supplied trainer image (``python -m <module>.<step>``), so the template
fixes the workflow and its gate while the team owns the code. The register step uploads the
model to the Vertex Model Registry under ``parent_model`` with ``model_alias`` (a candidate
alias such as ``challenger``; promotion to the approved alias stays a separate decision).
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
    def train_cpu_limit(self) -> str | None: ...
    @property
    def train_memory_limit(self) -> str | None: ...
    @property
    def train_accelerator_type(self) -> str | None: ...
    @property
    def train_accelerator_count(self) -> int: ...
    @property
    def metric_direction(self) -> str: ...


def training_pipeline(template: TemplateSettings) -> Callable[..., Any]:
    """Build the kfp pipeline function for ``template`` (kfp imported lazily: the ``vertex`` extra)."""
    from kfp import dsl

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

    @dsl.pipeline(name=template.name, description="preprocess -> train -> evaluate -> register if metric >= threshold")  # type: ignore[untyped-decorator]
    def pipeline(
        source_uri: str,
        parent_model: str,
        serving_image: str,
        kms_key_name: str,
        model_alias: str = "challenger",
        metric_name: str = template.metric_name,
        metric_threshold: float = template.metric_threshold,
    ) -> None:
        prepared = preprocess(source_uri=source_uri)
        trained = train(dataset=prepared.outputs["dataset"])
        if template.train_cpu_limit:
            trained.set_cpu_limit(template.train_cpu_limit)
        if template.train_memory_limit:
            trained.set_memory_limit(template.train_memory_limit)
        if template.train_accelerator_type:
            trained.set_accelerator_type(template.train_accelerator_type)
            trained.set_accelerator_limit(template.train_accelerator_count)
        evaluated = evaluate(
            dataset=prepared.outputs["dataset"], model=trained.outputs["model"], metric_name=metric_name
        )
        metric = evaluated.outputs["metric"]
        good_enough = (
            metric <= metric_threshold if template.metric_direction == "minimize" else metric >= metric_threshold
        )
        with dsl.If(good_enough, name="metric-meets-threshold"):
            register(
                model=trained.outputs["model"],
                parent_model=parent_model,
                model_alias=model_alias,
                serving_image=serving_image,
                kms_key_name=kms_key_name,
            )

    return pipeline  # type: ignore[no-any-return]
