"""least-privilege-iam: no wildcard actions or resources, no admin or primitive roles.

AWS: every Allow statement names explicit actions (no ``*``, ``s3:*`` or ``s3:Get*``) and scoped
resources. ``"Resource": "*"`` is accepted only for actions AWS cannot scope
(``mlops_infra.policy.facts.aws_iam.UNSCOPABLE_ACTIONS``) and in KMS key policies, where ``*`` means the key
itself. GCP: no owner/editor/viewer, no project-, folder- or organization-wide service admin or editor role
(``roles/aiplatform.admin``, ``roles/storage.admin``, ``roles/*.editor``) for people or services, no
project-wide service-account impersonation.
Kubernetes: no ``*`` verbs, resources or API groups (``pods/*`` included), no escalate/bind/impersonate,
no cluster-admin, and no role bound to a namespace's ``default`` ServiceAccount (every pod that names
no account runs as it, so its rights reach workloads nobody reviewed).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from mlops_infra.policy.context import RuleContext
from mlops_infra.policy.facts.aws_iam import UNSCOPABLE_ACTIONS, Statement, principal_is_everyone, statements
from mlops_infra.policy.model import Finding, ResourceView
from mlops_infra.policy.rules.common import Handler, covered_types, subject
from mlops_infra.policy.spec import PolicySpec
from mlops_infra.policy.values import as_document, get, items, known

ID = "least-privilege-iam"
UNSCOPABLE = frozenset(a.lower() for a in UNSCOPABLE_ACTIONS)
ADMIN_POLICY = re.compile(
    r"^arn:aws[\w-]*:iam::aws:policy/(?:[\w-]+/)*(AdministratorAccess|PowerUserAccess|\w*FullAccess)$"
)
PRIMITIVE_ROLES = ("roles/owner", "roles/editor", "roles/viewer")
IMPERSONATION_ROLES = ("roles/iam.serviceAccountUser", "roles/iam.serviceAccountTokenCreator")
HIERARCHY_MODULES = ("projects", "folder", "organizations")
# Predefined roles that administer a whole service (roles/aiplatform.admin, roles/storage.admin,
# roles/resourcemanager.projectIamAdmin) or edit all of it (roles/dataflow.editor).
SERVICE_ADMIN_ROLE = re.compile(r"^roles/[A-Za-z0-9]+\.(?:admin|editor|[A-Za-z]*Admin)$")
ESCALATING_VERBS = ("escalate", "bind", "impersonate")
PUBLIC_K8S_SUBJECTS = ("system:anonymous", "system:unauthenticated")


# --- AWS ------------------------------------------------------------------------------------------------


def _statement_findings(view: ResourceView, where: str, statement: Statement, key_policy: bool) -> Iterator[Finding]:
    if not statement.allows:
        return
    label = f"{where} {statement.label}"
    if statement.not_actions:
        yield Finding(
            f"{subject(view)}: {label} uses NotAction with Allow, which grants every other action. "
            "List the allowed actions in Action instead."
        )
    wildcards = [a for a in statement.actions if "*" in a]
    if wildcards:
        yield Finding(
            f"{subject(view)}: {label} allows wildcard actions {', '.join(wildcards)}. List the exact "
            "actions the workload calls (for example s3:GetObject, s3:PutObject)."
        )
    if statement.not_resources:
        yield Finding(
            f"{subject(view)}: {label} uses NotResource with Allow, which grants every other resource. "
            "List the resources in Resource instead."
        )
    if "*" in statement.resources and not key_policy:
        scopable = [a for a in statement.actions if a.lower() not in UNSCOPABLE]
        if scopable or not statement.actions:
            yield Finding(
                f'{subject(view)}: {label} grants {", ".join(scopable) or "its actions"} on Resource "*". '
                "Scope Resource to the ARNs the workload uses; only actions AWS cannot scope "
                f'({", ".join(sorted(UNSCOPABLE_ACTIONS))}) may use "*".'
            )


def _document(view: ResourceView, value: Any, where: str, key_policy: bool = False) -> Iterator[Finding]:
    for statement in statements(value, where):
        yield from _statement_findings(view, where, statement, key_policy)


def _policy_prop(view: ResourceView, ctx: RuleContext) -> Iterator[Finding]:
    yield from _document(view, view.props.get("policy"), "policy")


def _key_policy(view: ResourceView, ctx: RuleContext) -> Iterator[Finding]:
    if view.props.get("policy") is not None:
        yield from _document(view, view.props.get("policy"), "policy", key_policy=True)


def _trust(view: ResourceView, value: Any) -> Iterator[Finding]:
    for statement in statements(value, "assumeRolePolicy"):
        if statement.allows and principal_is_everyone(statement.principal) and not statement.condition:
            yield Finding(
                f"{subject(view)}: assumeRolePolicy {statement.label} lets any AWS principal assume the role. "
                "Name the service or account in Principal, or add a Condition (aws:SourceAccount)."
            )


def _admin_arns(view: ResourceView, arns: list[Any], prop: str) -> Iterator[Finding]:
    for arn in arns:
        match = ADMIN_POLICY.match(str(known(arn, prop)))
        if match:
            yield Finding(
                f"{subject(view)}: {prop} attaches the AWS-managed {match.group(1)} policy, which grants far "
                "more than a workload needs. Attach a policy with the exact actions and resources instead."
            )


def _role(view: ResourceView, ctx: RuleContext) -> Iterator[Finding]:
    for index, inline in enumerate(items(view.props.get("inlinePolicies"), "inlinePolicies")):
        if isinstance(inline, Mapping) and inline.get("policy") is not None:
            yield from _document(view, inline.get("policy"), f"inlinePolicies[{index}].policy")
    if view.props.get("assumeRolePolicy") is not None:
        yield from _trust(view, view.props.get("assumeRolePolicy"))
    yield from _admin_arns(view, items(view.props.get("managedPolicyArns"), "managedPolicyArns"), "managedPolicyArns")


def _attachment(view: ResourceView, ctx: RuleContext) -> Iterator[Finding]:
    yield from _admin_arns(view, [view.props.get("policyArn")], "policyArn")


def _notebook(view: ResourceView, ctx: RuleContext) -> Iterator[Finding]:
    access = known(view.props.get("rootAccess"), "rootAccess")
    if access != "Disabled":
        yield Finding(
            f"{subject(view)}: users get root on the notebook (rootAccess is {access or 'Enabled by default'}). "
            "Set rootAccess: Disabled."
        )


# --- GCP ------------------------------------------------------------------------------------------------


def _gcp_role_findings(view: ResourceView, role: str, where: str) -> Iterator[Finding]:
    if role in PRIMITIVE_ROLES:
        yield Finding(
            f"{subject(view)}: {where} grants the primitive role {role}, which covers nearly every service. "
            "Grant predefined roles for what the member does (roles/aiplatform.user, roles/storage.objectViewer)."
        )
    module = view.type.split(":")[1].split("/")[0]
    if SERVICE_ADMIN_ROLE.match(role) and module in HIERARCHY_MODULES:
        level = {"projects": "project", "folder": "folder", "organizations": "organization"}[module]
        yield Finding(
            f"{subject(view)}: {where} grants {role} on the whole {level}: every resource of the service, for "
            "people and service accounts alike. Grant a narrow role (roles/aiplatform.user, a custom role) or the "
            "admin role on the one resource (bucket, dataset, service account)."
        )
    if role in IMPERSONATION_ROLES and module in HIERARCHY_MODULES:
        yield Finding(
            f"{subject(view)}: {where} grants {role} on the whole {module.rstrip('s')}, so the member can act "
            "as every service account in it. Grant it on the one service account (gcp.serviceaccount.IAMMember)."
        )


def _gcp_grant(view: ResourceView, ctx: RuleContext) -> Iterator[Finding]:
    role = known(view.props.get("role"), "role")
    if isinstance(role, str):
        yield from _gcp_role_findings(view, role, "role")


def _gcp_policy(view: ResourceView, ctx: RuleContext) -> Iterator[Finding]:
    document = as_document(view.props.get("policyData"), "policyData")
    bindings = document.get("bindings") if isinstance(document, Mapping) else None
    for index, binding in enumerate(bindings or []):
        if isinstance(binding, Mapping) and isinstance(binding.get("role"), str):
            yield from _gcp_role_findings(view, binding["role"], f"policyData.bindings[{index}]")


# --- Kubernetes --------------------------------------------------------------------------------------------


def _k8s_role(view: ResourceView, ctx: RuleContext) -> Iterator[Finding]:
    for index, rule in enumerate(items(view.props.get("rules"), "rules")):
        if not isinstance(rule, Mapping):
            continue
        for field in ("verbs", "resources", "apiGroups"):
            wildcards = [str(v) for v in items(rule.get(field), f"rules[{index}].{field}") if "*" in str(v)]
            if wildcards:
                yield Finding(
                    f"{subject(view)}: rules[{index}].{field} contains {', '.join(repr(w) for w in wildcards)}. "
                    f"List the exact {field} the workload needs."
                )
        risky = sorted({str(v) for v in items(rule.get("verbs"), f"rules[{index}].verbs")} & set(ESCALATING_VERBS))
        if risky:
            yield Finding(
                f"{subject(view)}: rules[{index}].verbs has {', '.join(risky)}, which lets the holder grant "
                "itself more rights. Remove them."
            )


def _k8s_binding(view: ResourceView, ctx: RuleContext) -> Iterator[Finding]:
    if known(get(view.props, "roleRef.name"), "roleRef.name") == "cluster-admin":
        yield Finding(
            f"{subject(view)}: binds the cluster-admin ClusterRole. Bind a Role with the verbs and resources "
            "the subjects need."
        )
    for index, subject_ in enumerate(items(view.props.get("subjects"), "subjects")):
        if isinstance(subject_, Mapping) and subject_.get("name") in PUBLIC_K8S_SUBJECTS:
            yield Finding(
                f"{subject(view)}: subjects[{index}] is {subject_.get('name')}, i.e. unauthenticated callers. "
                "Remove it."
            )
        if (
            isinstance(subject_, Mapping)
            and known(subject_.get("kind"), f"subjects[{index}].kind") == "ServiceAccount"
            and known(subject_.get("name"), f"subjects[{index}].name") == "default"
        ):
            namespace = subject_.get("namespace") or get(view.props, "metadata.namespace") or "(unnamed)"
            yield Finding(
                f"{subject(view)}: subjects[{index}] is the default ServiceAccount of namespace {namespace}, which "
                "every pod without a serviceAccountName runs as. Create a ServiceAccount for the workload and bind "
                "that instead."
            )


HANDLERS: dict[str, Handler] = {
    "aws:iam/policy:Policy": _policy_prop,
    "aws:iam/rolePolicy:RolePolicy": _policy_prop,
    "aws:iam/userPolicy:UserPolicy": _policy_prop,
    "aws:iam/groupPolicy:GroupPolicy": _policy_prop,
    "aws:iam/role:Role": _role,
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": _attachment,
    "aws:iam/userPolicyAttachment:UserPolicyAttachment": _attachment,
    "aws:iam/groupPolicyAttachment:GroupPolicyAttachment": _attachment,
    "aws:iam/policyAttachment:PolicyAttachment": _attachment,
    "aws:kms/key:Key": _key_policy,
    "aws:sagemaker/notebookInstance:NotebookInstance": _notebook,
    "gcp:projects/iAMPolicy:IAMPolicy": _gcp_policy,
    "gcp:organizations/iAMPolicy:IAMPolicy": _gcp_policy,
    "gcp:folder/iAMPolicy:IAMPolicy": _gcp_policy,
    "kubernetes:rbac.authorization.k8s.io/v1:Role": _k8s_role,
    "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole": _k8s_role,
    "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding": _k8s_binding,
    "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding": _k8s_binding,
}


def _is_gcp_grant(type_token: str) -> bool:
    return type_token.startswith("gcp:") and type_token.rsplit(":", 1)[-1].lower().endswith(("iammember", "iambinding"))


def check(view: ResourceView, ctx: RuleContext) -> Iterator[Finding]:
    handler = HANDLERS.get(view.type) or (_gcp_grant if _is_gcp_grant(view.type) else None)
    if handler is not None:
        with ctx.unknowns():
            yield from handler(view, ctx)


SPEC = PolicySpec(
    id=ID,
    title="No wildcard actions or resources, no admin or primitive roles",
    description=(
        "AWS IAM policies (managed, inline, role, user, group, KMS key policies) allow explicit actions on scoped "
        'resources: no "*" in actions, no NotAction/NotResource with Allow, Resource "*" only for '
        "UNSCOPABLE_ACTIONS (and in key policies, where it means the key); no AdministratorAccess, PowerUserAccess "
        "or *FullAccess attachments; trust policies name their principals; notebooks disable root access. GCP "
        "grants no roles/owner, roles/editor or roles/viewer, no project/folder/organization-wide service admin or "
        "editor role (roles/aiplatform.admin, roles/storage.admin, roles/*.editor, roles/*.*Admin) to anyone, and "
        "no project-wide serviceAccountUser/TokenCreator. "
        'Kubernetes Roles and ClusterRoles have no "*" verbs, resources or API groups and no escalate/bind/'
        "impersonate, and no binding gives cluster-admin, binds unauthenticated users or binds a namespace's "
        "default ServiceAccount."
    ),
    remediation="Build documents with mlops_infra.aws.iam.statement(actions, resources); grant narrow predefined or "
    "custom GCP roles, admin roles only on the one resource (bucket, dataset); "
    "list Kubernetes verbs and resources explicitly.",
    resource_types={
        **covered_types(HANDLERS),
        "gcp": (*covered_types(HANDLERS)["gcp"], "gcp:*/…IAMMember and …IAMBinding (every IAM grant)"),
    },
    checkov_ids=("CKV_AWS_307", "CKV2_AWS_68", "CKV_K8S_42", "CKV_K8S_49"),
    resource_check=check,
)
