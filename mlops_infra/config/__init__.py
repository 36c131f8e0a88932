"""Pydantic models of the platform spec and of shared settings."""

from mlops_infra.config.platform import Environment, PlatformSettings

__all__ = ["Environment", "PlatformSettings"]
