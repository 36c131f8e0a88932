"""Policy configuration: defaults, a strict schema, and loading from a file or a policy pack's config.

Two shapes are accepted, so one file serves both ``mlops-infra check --policy-config FILE`` and
``pulumi preview --policy-pack-config FILE``:

* native::

    requiredTagKeys: [project, environment, owner, cost-center]
    allowedInstanceTypes: ["ml.m5.*", "n1-standard-*"]
    protectedEnvironments: [staging, prod]
    allowPublicMarker: mlops-infra/allow-public
    maxKeyRotationDays: 365
    enforcement: {least-privilege-iam: advisory, budget-required: disabled}

* Pulumi policy-pack config: top-level keys are policy names (or ``all``), values an enforcement
  level or ``{"enforcementLevel": ..., <property>: ...}``.

``protectedEnvironments`` here is a fallback for raw programs that do not use the platform
settings. Which environments are protected is the platform's decision (``PlatformSettings``, the
stack config key ``protectedEnvironments``, and the ``environment``/``protected`` inputs of
mlops-infra components); when the stack gives it, it wins over this key, also when they disagree
(``enforcement.with_platform_protection``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

import pydantic
import yaml
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from mlops_infra.config.platform import REQUIRED_TAG_KEYS
from mlops_infra.conventions.markers import ALLOW_PUBLIC_MARKER
from mlops_infra.engine.errors import ProgramError, validation_message
from mlops_infra.engine.yaml_load import safe_load
from mlops_infra.policy.model import POLICY_IDS, Enforcement

# Broad general-purpose, memory, compute and mainstream GPU/inference families. The largest GPU
# training families (p4d, p5, trn1, a3, a2-ultragpu) are left out: allow them per stack.
DEFAULT_ALLOWED_INSTANCE_TYPES: tuple[str, ...] = (
    # SageMaker
    "ml.t3.*",
    "ml.m5.*",
    "ml.m5d.*",
    "ml.m6i.*",
    "ml.m7i.*",
    "ml.c5.*",
    "ml.c6i.*",
    "ml.c7i.*",
    "ml.r5.*",
    "ml.r6i.*",
    "ml.g4dn.*",
    "ml.g5.*",
    "ml.g6.*",
    "ml.inf1.*",
    "ml.inf2.*",
    "ml.p3.2xlarge",
    # EC2 / EKS nodes
    "t3.*",
    "t3a.*",
    "m5.*",
    "m6i.*",
    "m7i.*",
    "c5.*",
    "c6i.*",
    "c7i.*",
    "r5.*",
    "r6i.*",
    "g4dn.*",
    "g5.*",
    "g6.*",
    "inf2.*",
    # GCP machine types
    "e2-*",
    "n1-standard-*",
    "n1-highmem-*",
    "n2-standard-*",
    "n2-highmem-*",
    "n2d-standard-*",
    "c2-standard-*",
    "c3-standard-*",
    "g2-standard-*",
    "a2-highgpu-1g",
    # Vertex accelerators (machine_spec.accelerator_type) and Kubernetes GPU requests
    "NVIDIA_TESLA_T4",
    "NVIDIA_L4",
    "NVIDIA_TESLA_P4",
    "NVIDIA_TESLA_V100",
    "NVIDIA_TESLA_A100",
    "nvidia.com/gpu",
)

_SMALL_SIZES = ("nano", "micro", "small", "medium", "large", "xlarge")
# dev: no GPU families (and no accelerators or Kubernetes GPUs), nothing above *.xlarge / *-standard-4.
DEFAULT_DEV_INSTANCE_TYPES: tuple[str, ...] = (
    *(
        f"ml.{family}.{size}"
        for family in ("t3", "m5", "m5d", "m6i", "m7i", "c5", "c6i", "c7i", "r5", "r6i")
        for size in _SMALL_SIZES
    ),
    *(
        f"{family}.{size}"
        for family in ("t3", "t3a", "m5", "m6i", "m7i", "c5", "c6i", "c7i", "r5", "r6i")
        for size in _SMALL_SIZES
    ),
    "e2-micro",
    "e2-small",
    "e2-medium",
    *(
        f"{family}-{kind}-{cpus}"
        for family in ("e2", "n1", "n2", "n2d", "c2", "c3")
        for kind in ("standard", "highmem")
        for cpus in (1, 2, 4)
    ),
)
DEFAULT_INSTANCE_TYPES_BY_ENVIRONMENT: dict[str, tuple[str, ...]] = {"dev": DEFAULT_DEV_INSTANCE_TYPES}

DEFAULT_ALLOW_PUBLIC_MARKER = ALLOW_PUBLIC_MARKER
PACK_ONLY_KEYS = ("enforcementLevel",)
_LEVELS = {
    "mandatory": Enforcement.MANDATORY,
    "remediate": Enforcement.MANDATORY,
    "advisory": Enforcement.ADVISORY,
    "disabled": Enforcement.DISABLED,
}


# A string with at least one non-blank character. As a type (not only a validator) so the JSON
# schema the policy pack publishes carries the same rule (``pattern``) and cannot admit what this refuses.
NonBlank = Annotated[str, StringConstraints(pattern=r"\S")]


class PolicyConfigError(ProgramError, ValueError):
    """An invalid policy configuration; the message names the field (CLI exit code 2)."""


class PolicyConfig(BaseModel):
    """Settings every rule reads. Unknown keys and unknown policy ids are errors, never ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, title="policy")

    required_tag_keys: tuple[NonBlank, ...] = Field(
        REQUIRED_TAG_KEYS, alias="requiredTagKeys", min_length=1, description="Tag/label keys every resource carries."
    )
    allowed_instance_types: tuple[NonBlank, ...] = Field(
        DEFAULT_ALLOWED_INSTANCE_TYPES,
        alias="allowedInstanceTypes",
        description="Instance/machine types allowed, as shell patterns (ml.m5.*, n1-standard-*), in every "
        "environment that allowedInstanceTypesByEnvironment does not name.",
    )
    allowed_instance_types_by_environment: dict[NonBlank, tuple[NonBlank, ...]] = Field(
        default_factory=lambda: dict(DEFAULT_INSTANCE_TYPES_BY_ENVIRONMENT),
        alias="allowedInstanceTypesByEnvironment",
        json_schema_extra={"additionalProperties": False},  # keys outside the NonBlank pattern are refused
        description="Per-environment allow-lists (shell patterns) that replace allowedInstanceTypes in the named "
        "environment. Default: dev admits no GPUs and nothing above *.xlarge / *-standard-4.",
    )
    protected_environments: frozenset[str] = Field(
        frozenset({"staging", "prod"}),
        alias="protectedEnvironments",
        description="Environments where every policy is mandatory and production-only rules apply. Fallback only: "
        "the stack's platform settings (stack config protectedEnvironments) win when the program uses them.",
    )
    protection_exemptions: frozenset[str] = Field(
        frozenset(),
        alias="protectionExemptions",
        description="Logical names of stateful resources deliberately left unprotected (an explicit opt-out). "
        "Fallback only: the stack's platform settings (stack config protectionExemptions) win when set.",
    )
    allow_public_marker: str = Field(
        DEFAULT_ALLOW_PUBLIC_MARKER,
        alias="allowPublicMarker",
        min_length=1,
        max_length=63,
        pattern=r"^[a-z0-9]([a-z0-9./_-]*[a-z0-9])?$",
        description='Tag/label/annotation key that, set to "true", allows a resource to be public.',
    )
    encrypted_storage_classes: tuple[NonBlank, ...] = Field(
        (),
        alias="encryptedStorageClasses",
        description="Names of StorageClasses outside the stack that encrypt with a customer-managed key (the "
        "cluster admin's); PersistentVolumeClaims may name them in protected environments.",
    )
    max_key_rotation_days: int = Field(
        365, alias="maxKeyRotationDays", ge=1, le=365, description="Longest allowed key rotation period (days)."
    )
    enforcement: dict[str, Enforcement] = Field(
        default_factory=dict, description="Per-policy override: mandatory, advisory or disabled."
    )
    prices: Path | None = Field(
        None,
        json_schema_extra={"pattern": r"\S"},  # a file name, never blank (see _names_a_file)
        description="A price override file (YAML/JSON rows, docs/cost-model.md) merged over the packaged catalogue "
        "for cost-budget, e.g. negotiated rates. Relative to the policy config file (the working directory in a "
        "pack).",
    )

    @field_validator("required_tag_keys", "allowed_instance_types", mode="before")
    @classmethod
    def _no_blank_entries(cls, values: Any) -> Any:
        # Before the NonBlank pattern, for a message a user reads; the type still enforces it.
        if isinstance(values, (list, tuple)) and any(isinstance(v, str) and not v.strip() for v in values):
            raise ValueError("entries must be non-empty strings")
        return values

    @field_validator("allowed_instance_types_by_environment", mode="before")
    @classmethod
    def _environment_lists(cls, value: Any) -> Any:
        if not isinstance(value, Mapping):
            return value
        for environment, patterns in value.items():
            if isinstance(environment, str) and not environment.strip():
                raise ValueError("environment names must be non-empty strings")
            if isinstance(patterns, (list, tuple)) and any(isinstance(p, str) and not p.strip() for p in patterns):
                raise ValueError(f"{environment}: entries must be non-empty strings")
        return value

    @field_validator("prices", mode="before")
    @classmethod
    def _names_a_file(cls, value: Any) -> Any:
        if isinstance(value, str) and not value.strip():
            raise ValueError("must name a price override file, not an empty string")
        return value

    def instance_types_for(self, environment: str | None) -> tuple[str, ...]:
        """The allow-list of ``environment``: its own list when named, else allowedInstanceTypes."""
        if environment is not None and environment in self.allowed_instance_types_by_environment:
            return self.allowed_instance_types_by_environment[environment]
        return self.allowed_instance_types

    @field_validator("max_key_rotation_days", mode="before")
    @classmethod
    def _whole_days(cls, value: Any) -> Any:
        # Policy-pack config arrives through protobuf, where every number is a float.
        if isinstance(value, bool):
            raise ValueError("expected a whole number of days, not a boolean")
        return int(value) if isinstance(value, float) and value.is_integer() else value

    @field_validator("enforcement", mode="before")
    @classmethod
    def _known_policy_ids(cls, value: Any) -> Any:
        if isinstance(value, Mapping):
            unknown = sorted(str(k) for k in value if k not in POLICY_IDS)
            if unknown:
                raise ValueError(f"unknown policy id {unknown[0]!r}; known ids: {', '.join(POLICY_IDS)}")
        return value

    def with_pack_properties(self, properties: Mapping[str, Any] | None) -> PolicyConfig:
        """This config with one policy's pack-config properties applied (as a policy pack receives them)."""
        extra = {k: v for k, v in (properties or {}).items() if k not in PACK_ONLY_KEYS}
        if not extra:
            return self
        return _validated({**self.model_dump(by_alias=True), **extra}, "policy pack config")


def property_schema(alias: str) -> dict[str, Any]:
    """The JSON schema of one PolicyConfig field (by its alias), as pydantic validates it.

    The policy pack publishes these as its config schema, so ``--policy-pack-config`` is checked
    by the Pulumi CLI against exactly what the model accepts (titles dropped: the CLI shows names).
    """
    schema = PolicyConfig.model_json_schema(by_alias=True)["properties"][alias]
    if "$ref" in json.dumps(schema):
        raise TypeError(f"{alias}: a pack property's schema must stand alone (no $ref into $defs)")
    return {k: v for k, v in schema.items() if k != "title"}


def _validated(data: Mapping[str, Any], source: str) -> PolicyConfig:
    try:
        return PolicyConfig.model_validate(dict(data))
    except pydantic.ValidationError as exc:
        raise PolicyConfigError(f"invalid policy config in {source}: {_problems(exc)}") from None


def _problems(exc: pydantic.ValidationError) -> str:
    parts = []
    for error in exc.errors():
        location = ".".join(str(p) for p in error["loc"]) or "(config)"
        parts.append(f"{location}: {validation_message(error['msg'])}")
    return "; ".join(parts)


def pack_policy_name_to_id(name: str) -> str | None:
    """``encryption-at-rest`` and its stack policy ``encryption-at-rest-stack`` -> the policy id."""
    base = name.removesuffix("-stack")
    return base if base in POLICY_IDS else None


def _is_pack_shape(data: Mapping[str, Any]) -> bool:
    return any(key == "all" or pack_policy_name_to_id(str(key)) for key in data)


def from_pack_config(data: Mapping[str, Any], source: str = "policy pack config") -> PolicyConfig:
    """Read Pulumi's policy-pack config shape (``{"<policy>": level | {enforcementLevel, props}}``)."""
    enforcement: dict[str, Any] = {}
    properties: dict[str, Any] = {}
    for key, value in data.items():
        name = str(key)
        policy_id = None if name == "all" else pack_policy_name_to_id(name)
        if name != "all" and policy_id is None:
            raise PolicyConfigError(
                f"invalid policy config in {source}: {name}: unknown policy id; known ids: {', '.join(POLICY_IDS)}"
            )
        level, props = (value, {}) if not isinstance(value, Mapping) else (value.get("enforcementLevel"), value)
        if level is not None:
            if not isinstance(level, str) or level not in _LEVELS:
                raise PolicyConfigError(
                    f"invalid policy config in {source}: {name}.enforcementLevel: "
                    f"expected one of {', '.join(_LEVELS)}, got {level!r}"
                )
            targets = list(POLICY_IDS) if name == "all" else [policy_id]
            for target in targets:
                if name == "all" and target in enforcement:
                    continue
                enforcement[str(target)] = _LEVELS[level].value
        for prop, prop_value in props.items():
            if prop in PACK_ONLY_KEYS:
                continue
            if prop in properties and properties[prop] != prop_value:
                raise PolicyConfigError(
                    f"invalid policy config in {source}: {name}.{prop}: set to different values for different policies"
                )
            properties[prop] = prop_value
    return _validated({**properties, "enforcement": enforcement}, source)


def policy_config_from_data(data: Any, source: str) -> PolicyConfig:
    """A PolicyConfig from parsed JSON/YAML in either accepted shape."""
    if data is None:
        return PolicyConfig()
    if not isinstance(data, Mapping):
        raise PolicyConfigError(
            f"invalid policy config in {source}: expected a mapping of settings, got {type(data).__name__}"
        )
    if _is_pack_shape(data):
        return from_pack_config(data, source)
    return _validated(data, source)


def load_policy_config(path: str | Path | None) -> PolicyConfig:
    """Defaults when ``path`` is None; else the JSON or YAML file, validated (PolicyConfigError names the field)."""
    if path is None:
        return PolicyConfig()
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise PolicyConfigError(f"cannot read policy config {file}: {exc.strerror or exc}") from None
    try:
        data = json.loads(text) if file.suffix == ".json" else safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise PolicyConfigError(
            f"policy config {file} is not valid {'JSON' if file.suffix == '.json' else 'YAML'}: "
            f"{str(exc).splitlines()[0]}"
        ) from None
    config = policy_config_from_data(data, str(file))
    if config.prices is not None and not config.prices.is_absolute():
        config = config.model_copy(update={"prices": file.parent / config.prices})
    return config
