"""``VertexModel``: a model version in the Vertex AI Model Registry (pulumi-gcp has no upload resource).

Create uploads a version (artifact URI, pinned serving image, labels, CMEK) and sets its version
aliases; aliases are the approval mechanism (``challenger`` -> ``champion``). Changing the
artifact or serving container uploads a new version under the same model and moves the aliases
to it; changing only aliases calls ``mergeVersionAliases``; labels and display name are patched.
Delete removes the model (or only the version when it was added to an external ``parent_model``),
but never a version this resource did not upload: when the training pipeline registered versions
under the model, delete removes only this resource's versions (not the default one) and keeps the
model with a warning.

Only the model's identity replaces it: ``project``, ``region`` or ``model_id`` (its resource
name), always create-before-delete (the names differ), and the delete keeps registered versions.
``api_endpoint`` is only the host the calls go to: scheme and trailing slash are normalized, and
another host is an in-place update. ``parent_model`` cannot change on an existing resource: check
refuses it with the way to migrate.
"""

# ruff: noqa: PLC0415 - google.cloud imports take seconds; they run only when a provider method does.

from __future__ import annotations

from typing import Any

import pulumi
import pulumi.dynamic as dyn

from mlops_infra.gcp.dynamic import clients
from mlops_infra.gcp.dynamic.errors import VertexError, is_not_found, vertex_call, wait
from mlops_infra.gcp.dynamic.props import DEFAULT_OPERATION_TIMEOUT_SECONDS, timeout_of, without_provider
from mlops_infra.outputs import concat

# Inputs that define a model version's content: changing one uploads a new version.
VERSION_FIELDS = ("artifact_uri", "serving_image_uri", "predict_route", "health_route", "ports", "kms_key_name")
PATCH_FIELDS = ("display_name", "description", "labels")
# The model's resource name: a change is a different model (created first, then the old one deleted).
REPLACE_FIELDS = ("project", "region", "model_id")
REQUIRED_FIELDS = ("project", "region", "model_id", "display_name", "artifact_uri", "serving_image_uri", "kms_key_name")


def normalize_api_endpoint(api_endpoint: Any) -> str:
    """``https://host/`` and ``host`` are the same API endpoint (scheme and trailing slash dropped)."""
    return str(api_endpoint or "").strip().rstrip("/").removeprefix("https://").lower()


def _parent(props: dict[str, Any]) -> str:
    return str(props.get("parent_model") or "").rstrip("/")


def parent_change_message(olds: dict[str, Any], news: dict[str, Any]) -> str:
    return (
        f"parent_model cannot change on an existing VertexModel ({_parent(olds) or 'its own model'} -> "
        f"{_parent(news) or 'its own model'}): that would move the version to another model, and deleting "
        "the old one could delete versions the pipeline registered. To migrate, declare a new model entry "
        "(another resource name) with the new parent_model, move the aliases or the endpoint to it, then "
        "remove the old entry (its delete keeps registered versions)."
    )


def _model_name(props: dict[str, Any]) -> str:
    return f"projects/{props['project']}/locations/{props['region']}/models/{props['model_id']}"


def _model_message(props: dict[str, Any]) -> Any:
    from google.cloud.aiplatform_v1 import types

    container = types.ModelContainerSpec(
        image_uri=props["serving_image_uri"],
        predict_route=props.get("predict_route") or "",
        health_route=props.get("health_route") or "",
        ports=[types.Port(container_port=int(p)) for p in props.get("ports") or []],
    )
    return types.Model(
        display_name=props["display_name"],
        description=props.get("description") or "",
        artifact_uri=props["artifact_uri"],
        container_spec=container,
        labels=dict(props.get("labels") or {}),
        encryption_spec=types.EncryptionSpec(kms_key_name=props["kms_key_name"]),
        version_description=props.get("version_description") or "",
    )


class VertexModelProvider(dyn.ResourceProvider):
    """CRUD for one Vertex AI model version and its aliases."""

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> dyn.CheckResult:
        failures = [dyn.CheckFailure(f, f"{f} is required") for f in REQUIRED_FIELDS if not news.get(f)]
        if olds and "parent_model" in olds and _parent(olds) != _parent(news):
            failures.append(dyn.CheckFailure("parent_model", parent_change_message(olds, news)))
        if news.get("api_endpoint"):
            try:
                clients.check_api_endpoint(str(news["api_endpoint"]))
            except ValueError as exc:
                failures.append(dyn.CheckFailure("api_endpoint", str(exc)))
        if "default" in (news.get("version_aliases") or []):
            failures.append(dyn.CheckFailure("version_aliases", "'default' is managed by Vertex AI"))
        return dyn.CheckResult(news, failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> dyn.DiffResult:
        watched = (*REPLACE_FIELDS, *VERSION_FIELDS, *PATCH_FIELDS, "version_aliases", "version_description")
        changed = [f for f in watched if olds.get(f) != news.get(f)]
        if normalize_api_endpoint(olds.get("api_endpoint")) != normalize_api_endpoint(news.get("api_endpoint")):
            changed.append("api_endpoint")  # another host for the same model: an update, no API call
        if _parent(olds) != _parent(news):
            changed.append("parent_model")  # refused by check and update, never a replacement
        replaces = [f for f in changed if f in REPLACE_FIELDS]
        # A replacement has a new resource name, so the new model is created before the old one is
        # deleted, and that delete keeps the versions the pipeline registered.
        return dyn.DiffResult(
            changes=bool(changed),
            replaces=replaces,
            stables=["name"] if not replaces else [],
            delete_before_replace=False,
        )

    def create(self, props: dict[str, Any]) -> dyn.CreateResult:
        props = without_provider(props)
        client = clients.model_service(props["api_endpoint"])
        owns_model = not props.get("parent_model")
        target = _model_name(props) if owns_model else str(props["parent_model"])
        # Idempotent: when the model already exists (a retried create), add a version to it.
        with vertex_call("reading model", target):
            missing, _ = is_not_found(client.get_model, name=target)
        version = self._upload(client, props, parent_model=None if missing and owns_model else target)
        self._set_aliases(client, target, version, props.get("version_aliases") or [], [])
        outs = {**props, "name": target, "version_id": version, "version_name": f"{target}@{version}"}
        outs["owns_model"] = owns_model
        outs["managed_version_ids"] = [version]
        return dyn.CreateResult(id_=target if owns_model else f"{target}@{version}", outs=outs)

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> dyn.UpdateResult:
        news = without_provider(news)
        if "parent_model" in olds and _parent(olds) != _parent(news):
            raise VertexError(parent_change_message(olds, news))
        client = clients.model_service(news["api_endpoint"])
        name = str(olds["name"])
        version = str(olds["version_id"])
        managed = [str(v) for v in olds.get("managed_version_ids") or [version]]
        previous_aliases = list(olds.get("version_aliases") or [])
        if any(olds.get(f) != news.get(f) for f in (*VERSION_FIELDS, "version_description")):
            new_version = self._upload(client, news, parent_model=name)
            managed.append(new_version)
            # Aliases are unique within a model: free them on the old version, then set them on the new one.
            self._set_aliases(client, name, version, [], previous_aliases)
            version, previous_aliases = new_version, []
        elif any(olds.get(f) != news.get(f) for f in PATCH_FIELDS):
            self._patch(client, f"{name}@{version}", news)
        self._set_aliases(client, name, version, news.get("version_aliases") or [], previous_aliases)
        outs = {**news, "name": name, "version_id": version, "version_name": f"{name}@{version}"}
        outs["owns_model"] = olds.get("owns_model", True)
        outs["managed_version_ids"] = managed
        return dyn.UpdateResult(outs=outs)

    def read(self, id_: str, props: dict[str, Any]) -> dyn.ReadResult:
        client = clients.model_service(props["api_endpoint"])
        name = str(props.get("name") or id_.split("@", maxsplit=1)[0])
        version = props.get("version_id")
        with vertex_call("reading model", name):
            missing, model = is_not_found(client.get_model, name=f"{name}@{version}" if version else name)
        if missing or model is None:
            return dyn.ReadResult(None, {})  # gone: Pulumi plans a create
        aliases = [a for a in model.version_aliases if a != "default"]
        live = {
            **props,
            "display_name": model.display_name,
            "artifact_uri": model.artifact_uri,
            "serving_image_uri": model.container_spec.image_uri,
            "labels": dict(model.labels),
            "kms_key_name": model.encryption_spec.kms_key_name,
            "version_id": model.version_id,
            "version_name": f"{name}@{model.version_id}",
            "version_aliases": aliases,
        }
        return dyn.ReadResult(id_, live)

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        client = clients.model_service(props["api_endpoint"])
        name = str(props["name"])
        timeout = timeout_of(props)
        if not props.get("owns_model", True):
            self._delete_version(client, f"{name}@{props['version_id']}", timeout)
            return
        with vertex_call("listing the versions of model", name):
            missing, listed = is_not_found(client.list_model_versions, name=name)
        if missing or listed is None:
            return
        managed = {str(v) for v in props.get("managed_version_ids") or [props.get("version_id")]}
        versions = {str(v.version_id): v for v in listed}
        foreign = sorted(set(versions) - managed, key=lambda v: (len(v), v))
        if not foreign:
            with vertex_call("deleting model", name):
                missing, operation = is_not_found(client.delete_model, name=name)
            if not missing:
                wait(operation, "deleting model", name, timeout)
            return
        # Versions registered by the pipeline (or by hand) are not this resource's to delete.
        kept = []
        for version_id in sorted(managed & set(versions)):
            if "default" in versions[version_id].version_aliases:
                kept.append(version_id)  # Vertex never deletes a model's default version
            else:
                self._delete_version(client, f"{name}@{version_id}", timeout)
        pulumi.log.warn(
            f"kept model {name}: it holds versions {foreign} that this resource did not upload (registered by "
            f"the training pipeline or by hand){f' and its default version {kept}' if kept else ''}; "
            "delete the model by hand once they are no longer needed"
        )

    # -- helpers ---------------------------------------------------------------------------

    @staticmethod
    def _delete_version(client: Any, version_name: str, timeout: float) -> None:
        with vertex_call("deleting model version", version_name):
            missing, operation = is_not_found(client.delete_model_version, name=version_name)
        if not missing:
            wait(operation, "deleting model version", version_name, timeout)

    @staticmethod
    def _upload(client: Any, props: dict[str, Any], parent_model: str | None) -> str:
        from google.cloud.aiplatform_v1 import types

        parent = f"projects/{props['project']}/locations/{props['region']}"
        request = types.UploadModelRequest(
            parent=parent,
            model=_model_message(props),
            model_id="" if parent_model else str(props["model_id"]),
            parent_model=parent_model or "",
        )
        timeout = timeout_of(props)
        with vertex_call("uploading model", parent_model or _model_name(props)):
            operation = client.upload_model(request=request)
        response = wait(operation, "uploading model", parent_model or _model_name(props), timeout)
        return str(response.model_version_id)

    @staticmethod
    def _patch(client: Any, version_name: str, props: dict[str, Any]) -> None:
        from google.cloud.aiplatform_v1 import types

        model = types.Model(
            name=version_name,
            display_name=props["display_name"],
            description=props.get("description") or "",
            labels=dict(props.get("labels") or {}),
        )
        mask = {"paths": ["display_name", "description", "labels"]}
        with vertex_call("updating model", version_name):
            client.update_model(model=model, update_mask=mask)

    @staticmethod
    def _set_aliases(client: Any, name: str, version: str, wanted: list[str], current: list[str]) -> None:
        """Make ``wanted`` exactly the managed aliases of ``name@version`` (an alias moves between versions)."""
        removed = [f"-{a}" for a in current if a not in wanted]
        if not wanted and not removed:
            return
        version_name = f"{name}@{version}"
        for alias in wanted:
            # Vertex refuses an alias another version holds: take it from that version first.
            with vertex_call("reading model version", f"{name}@{alias}"):
                _, holder = is_not_found(client.get_model, name=f"{name}@{alias}")
            if holder is not None and str(holder.version_id) != version:
                with vertex_call(f"moving alias {alias} from", f"{name}@{holder.version_id}"):
                    client.merge_version_aliases(name=f"{name}@{holder.version_id}", version_aliases=[f"-{alias}"])
        with vertex_call("setting version aliases on", version_name):
            client.merge_version_aliases(name=version_name, version_aliases=[*wanted, *removed])


class VertexModel(dyn.Resource, module="vertex", name="VertexModel"):
    """A Vertex AI Model Registry version, managed through google-cloud-aiplatform."""

    name: pulumi.Output[str]
    version_id: pulumi.Output[str]
    version_name: pulumi.Output[str]
    version_aliases: pulumi.Output[list[str]]

    def __init__(
        self,
        resource_name: str,
        *,
        project: pulumi.Input[str],
        region: str,
        api_endpoint: str,
        model_id: str,
        display_name: str,
        artifact_uri: pulumi.Input[str],
        serving_image_uri: str,
        kms_key_name: pulumi.Input[str],
        labels: dict[str, str],
        version_aliases: list[str],
        description: str = "",
        version_description: str = "",
        predict_route: str | None = None,
        health_route: str | None = None,
        ports: list[int] | None = None,
        parent_model: str | None = None,
        timeout_seconds: int = DEFAULT_OPERATION_TIMEOUT_SECONDS,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        name = parent_model or concat("projects/", project, f"/locations/{region}/models/{model_id}")
        props: dict[str, Any] = {
            "project": project,
            "region": region,
            "api_endpoint": api_endpoint,
            "model_id": model_id,
            "display_name": display_name,
            "description": description,
            "artifact_uri": artifact_uri,
            "serving_image_uri": serving_image_uri,
            "predict_route": predict_route,
            "health_route": health_route,
            "ports": ports or [],
            "kms_key_name": kms_key_name,
            "labels": labels,
            "version_aliases": version_aliases,
            "version_description": version_description,
            "parent_model": parent_model,
            "timeout_seconds": timeout_seconds,
            "name": name,
            "version_id": None,
            "version_name": None,
        }
        super().__init__(VertexModelProvider(), resource_name, props, opts)
