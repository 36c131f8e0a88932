"""The deploy webhook's token must be set, and set as a secret, before anything registers (every cloud)."""

from __future__ import annotations

import pulumi

from mlops_infra.spec.approval import DeployWebhook
from mlops_infra.spec.base import field_error

TOKEN_FIELD = ("registry", "approval", "deploy_webhook", "token_secret")
"""Where the spec names the token's config key."""


def check_deploy_token(webhook: DeployWebhook | None) -> None:
    """Raise a ValidationError naming ``<project>:<token_secret>`` when it is unset or not a secret.

    A plain-text token would sit in the stack file and in every preview; ``pulumi config set
    --secret`` encrypts it. Read with ``pulumi.runtime`` so the check itself logs no warning.
    """
    if webhook is None:
        return
    key = f"{pulumi.get_project()}:{webhook.token_secret}"
    where = ".".join(TOKEN_FIELD)
    if pulumi.runtime.get_config(key) is None:
        raise field_error(
            "StackConfig",
            (key,),
            f"secret is not set: the deploy webhook ({where}) calls with it; "
            f"pulumi config set --secret {webhook.token_secret} <token>",
        )
    if not pulumi.runtime.is_config_secret(key):
        raise field_error(
            "StackConfig",
            (key,),
            f"is plain text but holds the deploy webhook's token ({where}): "
            f"set it with pulumi config set --secret {webhook.token_secret} <token>",
        )
