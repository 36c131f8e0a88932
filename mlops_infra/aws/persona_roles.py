"""The platform's people on AWS: one IAM role per persona, assumed through the identity provider.

Each role trusts only the account's SAML or OIDC provider (``sts:AssumeRoleWithSAML`` with the AWS
sign-in audience, or ``sts:AssumeRoleWithWebIdentity`` with the client id as ``aud``), for at most an
hour per session, and holds the statements of :mod:`mlops_infra.aws.persona_policies`. Which group
may assume which role is the identity provider's mapping (SAML ``Role`` attribute, IAM Identity
Center assignment): the role carries its persona and groups as tags so that mapping can be reviewed,
and ``role_arns`` is what the provider is configured with. A persona without groups gets no role.
"""

from __future__ import annotations

from typing import Any, Final

import pulumi
import pulumi_aws as aws
from pydantic import Field, model_validator

from mlops_infra.aws import persona_policies as policies
from mlops_infra.aws.account import arn
from mlops_infra.aws.global_names import global_name
from mlops_infra.aws.iam import policy_document
from mlops_infra.component import PlatformComponent
from mlops_infra.conventions import naming
from mlops_infra.outputs import concat
from mlops_infra.spec.access import Group
from mlops_infra.spec.aws import IdentityProviderArn
from mlops_infra.spec.base import Spec, StrInput

SAML_AUDIENCE: Final = "https://signin.aws.amazon.com/saml"
MAX_SESSION_SECONDS: Final = 3600
PERSONAS: Final = ("data_scientists", "ml_engineers", "devops", "analysts", "model_approvers")


class PersonaRolesArgs(Spec):
    """The identity provider, the groups per persona, and the platform resources the roles act on."""

    identity_provider_arn: IdentityProviderArn = Field(description="IAM SAML or OIDC provider the roles trust.")
    identity_provider_audience: str | None = Field(
        None, min_length=1, max_length=255, description="OIDC client id (aud); required with an oidc-provider."
    )
    data_scientists: list[Group] = Field(default_factory=list, description="Groups of data scientists.")
    ml_engineers: list[Group] = Field(default_factory=list, description="Groups of ML engineers.")
    devops: list[Group] = Field(default_factory=list, description="Groups of DevOps engineers.")
    analysts: list[Group] = Field(default_factory=list, description="Groups of business analysts.")
    model_approvers: list[Group] = Field(default_factory=list, description="Groups who may approve models in prod.")
    kms_key_arn: StrInput = Field(description="The platform key (decrypting features and models).")
    model_package_group_name: StrInput = Field(description="Physical name of the registry's model package group.")
    feature_group_names: list[StrInput] = Field(default_factory=list, description="Feature groups to read.")
    feature_bucket_arn: StrInput | None = Field(None, description="The offline feature store's bucket.")
    model_store_bucket_arn: StrInput | None = Field(None, description="The model store's bucket.")
    pipeline_arn: StrInput | None = Field(None, description="The training pipeline.")
    batch_pipeline_arns: list[StrInput] = Field(
        default_factory=list, description="Scheduled batch transform pipelines (their runs are operated)."
    )
    endpoint_names: list[StrInput] = Field(default_factory=list, description="Endpoints DevOps operate.")
    alarm_arns: list[StrInput] = Field(default_factory=list, description="Alarms DevOps operate.")
    dashboard_name: StrInput | None = Field(None, description="The operations dashboard.")
    budget_name: StrInput | None = Field(None, description="The platform's AWS budget.")

    @model_validator(mode="after")
    def _oidc_audience(self) -> PersonaRolesArgs:
        if ":oidc-provider/" in self.identity_provider_arn and self.identity_provider_audience is None:
            raise ValueError("identity_provider_audience is required with an OIDC provider (the client id, aud)")
        return self


def trust_statement(provider_arn: str, audience: str | None) -> dict[str, Any]:
    """The trust policy's one statement: the identity provider only, with its audience pinned."""
    if ":saml-provider/" in provider_arn:
        actions = ["sts:AssumeRoleWithSAML", "sts:TagSession"]
        condition = {"StringEquals": {"SAML:aud": SAML_AUDIENCE}}
    else:
        host = provider_arn.split(":oidc-provider/", 1)[1]
        actions = ["sts:AssumeRoleWithWebIdentity", "sts:TagSession"]
        condition = {"StringEquals": {f"{host}:aud": audience or ""}}
    return {"Effect": "Allow", "Principal": {"Federated": provider_arn}, "Action": actions, "Condition": condition}


class PersonaRoles(PlatformComponent[PersonaRolesArgs]):
    """One federated IAM role and inline policy per persona that has groups."""

    TYPE_TOKEN = "mlops-infra:aws:PersonaRoles"
    ARGS = PersonaRolesArgs

    def __init__(
        self, name: str, args: PersonaRolesArgs | dict[str, Any], opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(name, args, opts)
        a = self.args
        invoke = pulumi.InvokeOutputOptions(parent=self)
        arns = self._arns(invoke)
        statements = {
            "data_scientists": policies.data_scientist(arns, self.platform.protected),
            "ml_engineers": policies.ml_engineer(arns, self.platform.environment),
            "devops": policies.devops(arns),
            "analysts": policies.analyst(arns),
            "model_approvers": policies.model_approver(arns),
        }
        trust = policy_document([trust_statement(a.identity_provider_arn, a.identity_provider_audience)])
        self.roles: dict[str, aws.iam.Role] = {}
        self.policies: dict[str, aws.iam.RolePolicy] = {}
        for persona in PERSONAS:
            groups: list[str] = getattr(a, persona)
            if not groups:
                continue
            short = persona.replace("_", "-")
            self.roles[persona] = aws.iam.Role(
                self.child_name(short),
                name=global_name(self, short, naming.IAM_ROLE),
                description=f"{short} of the platform, assumed through the identity provider",
                assume_role_policy=trust,
                max_session_duration=MAX_SESSION_SECONDS,
                tags={"persona": short, "groups": " ".join(groups)[:256]},
                opts=self.child_opts(),
            )
            self.policies[persona] = aws.iam.RolePolicy(
                self.child_name(f"{short}-policy"),
                role=self.roles[persona].id,
                policy=policy_document(statements[persona]),
                opts=self.child_opts(),
            )
        self.role_arns: dict[str, pulumi.Output[str]] = {p: role.arn for p, role in self.roles.items()}
        self.register_outputs({"roleArns": self.role_arns})

    def _arns(self, invoke: pulumi.InvokeOutputOptions) -> policies.PlatformArns:
        a = self.args

        def sagemaker(resource: str, name: pulumi.Input[str], suffix: str = "") -> pulumi.Output[str]:
            # SageMaker ARNs carry the resource's name in lower case.
            lower = pulumi.Output.from_input(name).apply(str.lower)
            return arn("sagemaker", concat(f"{resource}/", lower, suffix), invoke)

        prefix = naming.physical_name(self.platform.settings.project, self.platform.environment, "", naming.SAGEMAKER)
        return policies.PlatformArns(
            kms_key=a.kms_key_arn,
            model_package_group=sagemaker("model-package-group", a.model_package_group_name),
            model_package_versions=sagemaker("model-package", a.model_package_group_name, "/*"),
            feature_groups=[sagemaker("feature-group", n) for n in a.feature_group_names],
            feature_bucket=a.feature_bucket_arn,
            model_store_bucket=a.model_store_bucket_arn,
            pipeline=a.pipeline_arn,
            batch_pipelines=list(a.batch_pipeline_arns),
            endpoints=[sagemaker("endpoint", n) for n in a.endpoint_names],
            endpoint_configs=sagemaker("endpoint-config", prefix, "*") if a.endpoint_names else None,
            endpoint_log_groups=[
                arn("logs", concat("log-group:/aws/sagemaker/Endpoints/", n, ":*"), invoke) for n in a.endpoint_names
            ],
            alarms=list(a.alarm_arns),
            dashboard=arn("cloudwatch", concat("dashboard/", a.dashboard_name), invoke, region="")
            if a.dashboard_name is not None
            else None,
            budget=arn("budgets", concat("budget/", a.budget_name), invoke, region="")
            if a.budget_name is not None
            else None,
        )
