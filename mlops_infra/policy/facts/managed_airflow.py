"""Facts about managed Airflow (Amazon MWAA, Cloud Composer) that the components and the rules share.

This module imports no cloud SDK: the rules ``no-public-access`` and ``encryption-at-rest`` read the
same values the components set.
"""

from __future__ import annotations

MWAA_PRIVATE_ACCESS = "PRIVATE_ONLY"
"""``webserver_access_mode`` that serves the Airflow UI inside the VPC only (``PUBLIC_ONLY`` is the internet)."""

MWAA_LOG_TYPES = ("DAGProcessing", "Scheduler", "Task", "WebServer", "Worker")
"""The suffixes of the log groups MWAA writes (``airflow-<environment>-<type>``)."""

MWAA_ENVIRONMENT = "aws:mwaa/environment:Environment"
COMPOSER_ENVIRONMENT = "gcp:composer/environment:Environment"

COMPOSER_PRIVATE_FLAGS = ("config.enablePrivateEnvironment", "config.privateEnvironmentConfig.enablePrivateEndpoint")
"""Either makes a Composer environment private: Composer 3's flag, or Composer 2's private endpoint."""

COMPOSER_KEY = "config.encryptionConfig.kmsKeyName"
"""Where a Composer environment names its customer-managed key (CMEK)."""
