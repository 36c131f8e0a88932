"""Where a Vertex pipeline's PipelineSpec comes from: a compiled file, a kfp function, or the built-in template.

kfp is imported only when a function or the template is compiled (the ``vertex`` extra), so
plans that use a compiled file do not need it.
"""

# ruff: noqa: PLC0415 - kfp (the `vertex` extra, ~2 s to import) loads only when a pipeline is compiled.

from __future__ import annotations

import functools
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import Field, field_validator, model_validator

from mlops_infra.config.base import ComponentArgs
from mlops_infra.engine.yaml_load import safe_load
from mlops_infra.gcp.pipeline_template import training_pipeline
from mlops_infra.spec.compute import check_gcp_machine_type
from mlops_infra.spec.types import PinnedImage

PIPELINE_NAME_PATTERN = r"^[a-z0-9][a-z0-9-]{0,127}$"

# PipelineSpec parameterType -> the JSON types a runtime value of it may have.
_PARAMETER_TYPES: dict[str, tuple[type, ...]] = {
    "STRING": (str,),
    "NUMBER_DOUBLE": (int, float),
    "NUMBER_INTEGER": (int,),
    "BOOLEAN": (bool,),
    "LIST": (list,),
    "STRUCT": (dict,),
}


class SpecFile(ComponentArgs):
    """(a) A PipelineSpec compiled ahead of time (``kfp`` compiler output, JSON or YAML)."""

    kind: Literal["file"] = "file"
    path: str = Field(min_length=1, description="Path to the compiled spec, relative to the program directory.")


class SpecFunction(ComponentArgs):
    """(b) A ``@kfp.dsl.pipeline`` function, compiled when the program runs."""

    kind: Literal["function"] = "function"
    function: Callable[..., Any]


class SpecTemplate(ComponentArgs):
    """(c) The built-in preprocess -> train -> evaluate -> register-if-good-enough pipeline."""

    kind: Literal["template"] = "template"
    name: str = Field("training", pattern=PIPELINE_NAME_PATTERN, description="Pipeline name in the spec.")
    image: PinnedImage = Field(description="Trainer image implementing the steps (pinned by digest or version tag).")
    module: str = Field("trainer", pattern=r"^[A-Za-z_][A-Za-z0-9_.]*$", description="Python package of the steps.")
    metric_name: str = Field("auc", min_length=1, description="Metric the evaluate step writes.")
    metric_threshold: float = Field(0.8, description="Register only when the metric passes the threshold.")
    metric_direction: Literal["maximize", "minimize"] = Field(
        "maximize", description="maximize: register when metric >= threshold; minimize: when metric <= threshold."
    )
    train_machine_type: str = Field(
        "n1-standard-4", description="Machine of the train step's Vertex CustomJob (the `medium` size class's)."
    )
    train_accelerator_type: str | None = Field(
        None, pattern=r"^NVIDIA_[A-Z0-9_]+$|^TPU_V[0-9A-Z_]+$", description="Accelerator of the train step."
    )
    train_accelerator_count: int = Field(0, ge=0, le=16, description="Accelerators of the train step.")
    train_timeout_seconds: int = Field(
        7200, ge=60, le=28 * 24 * 3600, description="Hard stop of the train step (CustomJob scheduling.timeout)."
    )
    train_spot: bool = Field(False, description="Run the train step on Spot VMs (CustomJob strategy SPOT).")
    train_boot_disk_gb: int = Field(
        100, ge=1, le=65536, description="Boot disk of the train step, GB (Vertex's minimum, 100, when smaller)."
    )
    processing_machine_type: str = Field(
        "n1-standard-4", description="Machine of the preprocess, evaluate and register CustomJobs."
    )
    processing_timeout_seconds: int = Field(
        3600, ge=60, le=28 * 24 * 3600, description="Hard stop of each preprocess/evaluate/register step."
    )
    train_cpu_limit: str | None = Field(None, description="Removed: the train step runs on train_machine_type.")
    train_memory_limit: str | None = Field(None, description="Removed: the train step runs on train_machine_type.")

    @field_validator("train_machine_type", "processing_machine_type")
    @classmethod
    def _machine(cls, value: str) -> str:
        return check_gcp_machine_type(value)

    @field_validator("train_cpu_limit", "train_memory_limit")
    @classmethod
    def _no_limits(cls, value: str | None) -> None:
        if value is not None:
            raise ValueError(
                "the train step runs as a Vertex CustomJob on a whole machine: set train_machine_type "
                "(e.g. n1-standard-8) instead of cpu/memory limits"
            )

    @model_validator(mode="after")
    def _accelerator_pair(self) -> SpecTemplate:
        if (self.train_accelerator_type is None) != (self.train_accelerator_count == 0):
            raise ValueError("train_accelerator_type and train_accelerator_count go together (both set or neither)")
        return self


SpecSource = Annotated[SpecFile | SpecFunction | SpecTemplate, Field(discriminator="kind")]


def load_pipeline_spec(source: SpecFile | SpecFunction | SpecTemplate) -> dict[str, Any]:
    """The PipelineSpec of ``source``: a file is read each time; a function or the template compiles once."""
    if isinstance(source, SpecFile):
        return load_spec_file(source.path)
    return _compiled(source)


@functools.lru_cache(maxsize=32)
def _compiled(source: SpecFunction | SpecTemplate) -> dict[str, Any]:
    """Compiled once per distinct (immutable, hashable) source."""
    if isinstance(source, SpecFunction):
        return compile_pipeline(source.function)
    return compile_pipeline(training_pipeline(source))


def _require_kfp() -> Any:
    try:
        from kfp import compiler
    except ImportError as exc:  # pragma: no cover - depends on the installed extras
        raise RuntimeError(
            "compiling a kfp pipeline needs the `vertex` extra (pip install 'mlops-infra[vertex]'); "
            "or pass a compiled spec with spec={'kind': 'file', 'path': ...}"
        ) from exc
    return compiler


def compile_pipeline(function: Callable[..., Any]) -> dict[str, Any]:
    """Compile a kfp pipeline function to a PipelineSpec dict, offline (about 40 ms)."""
    compiler = _require_kfp()
    with tempfile.TemporaryDirectory(prefix="mlops-infra-kfp-") as directory:
        path = os.path.join(directory, "pipeline.yaml")
        compiler.Compiler().compile(pipeline_func=function, package_path=path)
        return check_spec(safe_load(Path(path).read_text(encoding="utf-8")), "the compiled pipeline")


def load_spec_file(path: str) -> dict[str, Any]:
    """Read a compiled PipelineSpec (JSON or YAML); a PipelineJob wrapper's ``pipelineSpec`` is unwrapped."""
    file = Path(path)
    if not file.is_file():
        raise ValueError(f"pipeline spec file {path!r} not found (relative to {Path.cwd()})")
    text = file.read_text(encoding="utf-8")
    try:
        document = json.loads(text) if file.suffix == ".json" else safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise ValueError(f"pipeline spec file {path!r} is not valid JSON/YAML: {exc}") from None
    if isinstance(document, dict) and "pipelineSpec" in document:
        document = document["pipelineSpec"]
    return check_spec(document, path)


def check_spec(document: Any, origin: str) -> dict[str, Any]:
    """Fail early when ``document`` is not a PipelineSpec (no root DAG or pipeline name)."""
    if not isinstance(document, dict):
        raise ValueError(f"{origin} is not a PipelineSpec mapping")
    missing = [key for key in ("pipelineInfo", "root", "schemaVersion") if key not in document]
    if missing:
        raise ValueError(f"{origin} is not a compiled PipelineSpec: missing {missing}")
    return document


def root_parameters(spec: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The pipeline's input parameters: name -> ``{parameterType, isOptional, defaultValue}``."""
    definitions = spec.get("root", {}).get("inputDefinitions", {}).get("parameters", {})
    return dict(definitions) if isinstance(definitions, dict) else {}


def check_parameter_values(spec: dict[str, Any], values: dict[str, Any]) -> None:
    """Unknown names, missing required parameters and wrong JSON types fail before anything is created."""
    declared = root_parameters(spec)
    unknown = sorted(set(values) - set(declared))
    if unknown:
        raise ValueError(f"unknown pipeline parameters {unknown}; the pipeline declares {sorted(declared)}")
    missing = sorted(
        name
        for name, definition in declared.items()
        if name not in values and not definition.get("isOptional") and "defaultValue" not in definition
    )
    if missing:
        raise ValueError(f"missing values for required pipeline parameters {missing}")
    for name, value in values.items():
        expected = _PARAMETER_TYPES.get(str(declared[name].get("parameterType")))
        if expected is None or not isinstance(value, (str, int, float, bool, list, dict)):
            continue  # unknown type, or an Output resolved at deploy time
        if isinstance(value, bool) and bool not in expected:
            raise ValueError(f"pipeline parameter {name!r} must be {declared[name]['parameterType']}, got a boolean")
        if not isinstance(value, expected):
            raise ValueError(
                f"pipeline parameter {name!r} must be {declared[name]['parameterType']}, got {type(value).__name__}"
            )


def pipeline_name(spec: dict[str, Any]) -> str:
    """The pipeline's name, from ``pipelineInfo.name``."""
    return str(spec.get("pipelineInfo", {}).get("name", "pipeline"))
