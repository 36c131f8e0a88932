"""The package schema, derived offline by Pulumi's component analyzer (what ``GetSchema`` serves)."""

from importlib.metadata import PackageNotFoundError, version
from typing import Any

from pulumi.provider.experimental.analyzer import Analyzer
from pulumi.provider.experimental.schema import generate_schema

from mlops_infra_components import COMPONENTS
from mlops_infra_components.convert import PACKAGE


def package_version() -> str:
    """mlops-infra's version: the package and the library ship together."""
    try:
        return version("mlops-infra")
    except PackageNotFoundError:  # pragma: no cover - a source checkout without the package installed
        return "0.0.0"


def package_schema() -> dict[str, Any]:
    """The schema JSON object, as the component provider host builds it. Raises when a type is unsupported."""
    result = Analyzer(PACKAGE).analyze(list(COMPONENTS))
    dependencies = sorted(result["dependencies"], key=lambda d: f"{d.name}{d.version}")
    schema = generate_schema(
        PACKAGE,
        package_version(),
        None,
        result["component_definitions"],
        result["type_definitions"],
        dependencies,
    )
    document: dict[str, Any] = schema.to_json()
    return document
