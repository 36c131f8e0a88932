"""Loads k8s_checks first: it preloads the pulumi-kubernetes type modules (see the note there)."""

import k8s_checks  # noqa: F401
