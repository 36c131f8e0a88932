"""A Pulumi mock monitor that records every registration the way the engine sees it."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pulumi
from pulumi.output import Unknown
from pulumi.runtime import rpc
from pulumi.runtime._depends_on import _resolve_depends_on_urns
from pulumi.runtime.mocks import MockCallArgs, MockMonitor, MockResourceArgs, Mocks
from pulumi.runtime.proto import resource_pb2
from pulumi.runtime.settings import get_project, get_stack
from pulumi.runtime.sync_await import _ensure_event_loop, _sync_await

from mlops_infra.engine.callbacks import InProcessCallbacks, Transform
from mlops_infra.engine.captured import CapturedResource, SourcePosition
from mlops_infra.engine.errors import ProgramError
from mlops_infra.engine.fake_state import fake_invoke_result, fake_resource_state
from mlops_infra.engine.providers import PROVIDER_PREFIX, Placement, placement_of, provider_name
from mlops_infra.engine.secret_value import MaskedSecret

SECRET_PLACEHOLDER = "[secret]"


class DeterministicMocks(Mocks):
    """Answers resource registrations and invokes with state derived from type and name."""

    def __init__(self, aws_region: str, gcp_project: str, gcp_region: str, *, preview: bool = False) -> None:
        self.aws_region = aws_region
        # Preview (``pulumi preview`` of new resources): no id, outputs are the inputs, computed ones unknown.
        self.preview = preview
        self.gcp_project = gcp_project
        self.gcp_region = gcp_region
        # Explicit provider resources' inputs by reference (``urn::id``): their region wins over config's.
        self.providers: dict[str, dict[str, Any]] = {}

    def _where(self, provider: str | None) -> dict[str, str]:
        """Region and project for a resource or invoke of ``provider`` (the stack's default when none)."""
        inputs = self.providers.get(provider or "", {})
        region, project = inputs.get("region"), inputs.get("project")
        zone = inputs.get("zone")
        if not region and isinstance(zone, str) and zone:
            region = zone.rsplit("-", 1)[0]
        return {
            "aws_region": region if isinstance(region, str) and region else self.aws_region,
            "gcp_project": project if isinstance(project, str) and project else self.gcp_project,
            "gcp_region": region if isinstance(region, str) and region else self.gcp_region,
        }

    def new_resource(self, args: MockResourceArgs) -> tuple[str, dict[str, Any]]:
        if self.preview:
            return "", dict(args.inputs)
        try:
            return fake_resource_state(args.typ, args.name, args.inputs, **self._where(args.provider))
        except Exception as exc:  # any failure here is the engine's: reported with the resource
            raise ProgramError(
                f"the offline engine could not fake the state of {args.typ} {args.name!r} "
                f"(inputs {', '.join(sorted(args.inputs)) or 'none'}): {type(exc).__name__}: {exc}. "
                "This is a bug in mlops-infra's offline engine; please report it with the resource type."
            ) from exc

    def call(self, args: MockCallArgs) -> tuple[dict[Any, Any], list[tuple[str, str]] | None]:
        result = fake_invoke_result(args.token, args.args, **self._where(args.provider))
        return result, []


def plain_value(value: Any) -> Any:
    """Wire value -> JSON value: secrets masked, integral floats back to ints, resources to URNs.

    A value unknown at preview becomes the engine's unknown placeholder string, as a policy pack sees it.
    """
    if isinstance(value, Unknown):
        return rpc.UNKNOWN
    if rpc.is_rpc_secret(value):
        return MaskedSecret(plain_value(rpc.unwrap_rpc_secret(value)))  # reads "[secret]"; keeps only the shape
    if isinstance(value, dict):
        return {k: plain_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain_value(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, pulumi.Resource):
        return _sync_await(value.urn.future())
    if isinstance(value, (pulumi.Asset, pulumi.Archive)):
        return {"asset": type(value).__name__, "path": getattr(value, "path", None) or getattr(value, "uri", None)}
    return value


def serialized(props: dict[str, Any]) -> Any:
    """``props`` in wire form (a Struct), as ``rpc.serialize_properties(props, {})`` gives it.

    Plain values (what mocks answer and transforms return) serialize without waiting on anything,
    so the coroutine is driven to its end here instead of spinning an event loop per registration;
    a value that must be awaited (an Output or a resource a transform put in) takes the loop.
    """
    coroutine = rpc.serialize_properties(props, {})
    try:
        coroutine.send(None)
    except StopIteration as done:
        return done.value
    coroutine.close()
    return _sync_await(rpc.serialize_properties(props, {}))


def _transformed_inputs(received: dict[str, Any], transformed: dict[str, Any]) -> dict[str, Any]:
    """The inputs after a transform, in the form a full serialize/deserialize round trip gives them.

    Transforms return new values for what they change (pulumi's contract: props are not mutated in
    place), so a property whose value is the same object is unchanged and kept as received; only
    the replaced ones make the round trip (tuples become lists, Outputs their values, a value that
    serializes to nothing is dropped).
    """
    changed = {key: value for key, value in transformed.items() if received.get(key, _MISSING) is not value}
    wire = rpc.deserialize_properties(serialized(changed)) if changed else {}
    return {
        key: (wire[key] if key in changed else value)
        for key, value in transformed.items()
        if key not in changed or key in wire
    }


_MISSING = object()


def _options_from_request(request: Any) -> pulumi.ResourceOptions:
    return pulumi.ResourceOptions(
        protect=request.protect,
        retain_on_delete=request.retainOnDelete,
        delete_before_replace=request.deleteBeforeReplace if request.deleteBeforeReplaceDefined else None,
        ignore_changes=list(request.ignoreChanges) or None,
        replace_on_changes=list(request.replaceOnChanges) or None,
        additional_secret_outputs=list(request.additionalSecretOutputs) or None,
    )


def _is_stack_urn(urn: str) -> bool:
    """True for the root stack's URN (or none): the plan shows such parents as null."""
    return not urn or urn.split("::")[2:3] == ["pulumi:pulumi:Stack"]


def _describe_alias(alias: Any) -> str:
    """A readable form of an alias: its URN, or ``type::name`` of its spec."""
    if alias.urn:
        return str(alias.urn)
    spec = alias.spec
    return f"{spec.type or '<same type>'}::{spec.name or '<same name>'}"


class CaptureMonitor(MockMonitor):
    """Runs the stack's resource transforms (as the engine does) and records each resource."""

    def __init__(self, mocks: Mocks, config: dict[str, str] | None = None) -> None:
        super().__init__(mocks)
        self.config = dict(config or {})  # the stack's config: the default providers' region and project
        self.captured: list[CapturedResource] = []
        self._urns: set[str] = set()
        # Each resource's own and inherited transforms, which the engine also runs on its children.
        self._inherited_transforms: dict[str, list[Transform]] = {}
        self.duplicates: list[str] = []  # warnings: URNs registered more than once
        self.callbacks = InProcessCallbacks(self._stack_transforms.append)
        # Event loops the SDK creates on its executor threads; closed in close().
        self._thread_loops: set[asyncio.AbstractEventLoop] = set()
        # depends_on a transform added, resolved to URNs once the program has finished (see resolve_added_dependencies).
        self._added_dependencies: list[tuple[CapturedResource, Any]] = []

    def make_urn(self, parent: str, type_: str, name: str) -> str:
        """URNs exactly as the Pulumi engine builds them: the parent's full qualified type chain, minus the stack."""
        if parent and not _is_stack_urn(parent):
            type_ = parent.split("::")[2] + "$" + type_
        return "urn:pulumi:" + "::".join([get_stack(), get_project(), type_, name])

    def _track_thread_loop(self) -> None:
        """Give an executor thread a live loop (replacing one a previous run closed) and remember it."""
        if threading.current_thread() is threading.main_thread():
            return
        loop = _ensure_event_loop()
        if loop.is_closed():
            loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)
        self._thread_loops.add(loop)

    def resolve_added_dependencies(self) -> None:
        """Record the URNs of what transforms added to ``depends_on`` (the request's own options carry none).

        Called once the program has finished, on its (no longer running) loop: every URN is known then.
        Resolving them during registration would block an executor thread on resources that may still
        be waiting for a thread (the SDK's pool is small), which can stall the plan.
        """
        for resource, depends_on in self._added_dependencies:
            urns = _sync_await(_resolve_depends_on_urns(depends_on))
            resource.dependencies = sorted(set(resource.dependencies) | urns)
        self._added_dependencies.clear()

    def close(self) -> None:
        """Close the worker-thread event loops, so none is left for the garbage collector."""
        for loop in self._thread_loops:
            if not loop.is_running() and not loop.is_closed():
                loop.close()
        self._thread_loops.clear()

    def Invoke(self, request: Any) -> Any:  # noqa: N802 - gRPC method name
        self._track_thread_loop()
        return super().Invoke(request)

    def _apply_transforms(
        self, transforms: list[Transform], request: Any, props: dict[str, Any]
    ) -> tuple[dict[str, Any], pulumi.ResourceOptions]:
        opts = _options_from_request(request)
        for transform in transforms:
            result = transform(
                pulumi.ResourceTransformArgs(
                    custom=request.custom, type_=request.type, name=request.name, props=props, opts=opts
                )
            )
            if hasattr(result, "__await__"):
                result = _sync_await(result)
            if result is not None:
                props = result.props
                opts = result.opts if result.opts is not None else opts
        return props, opts

    def _placement(self, request: Any) -> Placement | None:
        """The cloud, region and account/project/cluster of a custom resource's provider."""
        package = request.type.split(":")[0]
        explicit = self.mocks.providers.get(request.provider) if isinstance(self.mocks, DeterministicMocks) else None
        name = provider_name(request.provider) if request.provider else None
        return placement_of(package, name, explicit, self.config)

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 - gRPC method name
        """What ``MockMonitor.RegisterResource`` does, after the transforms, deserializing the request once."""
        self._track_thread_loop()
        urn = self.make_urn(request.parent, request.type, request.name)
        if request.type == "pulumi:pulumi:Stack":
            return resource_pb2.RegisterResourceResponse(urn=urn)
        received = rpc.deserialize_properties(request.object)
        own_transforms = self.callbacks.resolve(request.transforms)
        # As the engine does: the resource's own transforms, then its ancestors' (nearest first), then the stack's.
        inherited = own_transforms + self._inherited_transforms.get(request.parent, [])
        transforms = inherited + list(self._stack_transforms)
        inputs, opts = self._apply_transforms(transforms, request, received)
        if inputs is not received:
            inputs = _transformed_inputs(received, inputs)
        resource_id, state = self.mocks.new_resource(
            MockResourceArgs(
                typ=request.type,
                name=request.name,
                inputs=inputs,
                provider=request.provider,
                resource_id=request.importId,
                custom=request.custom or False,
                transforms=own_transforms,
            )
        )
        # Stored as the SDK's mock monitor stores it (no id at preview); on the wire an absent id is "".
        self.resources[urn] = MockMonitor.ResourceRegistration(urn, resource_id, state)  # type: ignore[arg-type]
        response = resource_pb2.RegisterResourceResponse(urn=urn, id=resource_id or "", object=serialized(state))
        if response.urn in self._urns:
            # The Pulumi engine refuses a second registration of one URN (`pulumi up` fails); reported
            # as a warning so the rest of the plan stays visible.
            self.duplicates.append(
                f"warning: duplicate resource URN {response.urn}: two resources of type {request.type} are named "
                f"{request.name!r} under the same parent, which `pulumi up` refuses. Give one of them another name."
            )
        self._urns.add(response.urn)
        if inherited:
            self._inherited_transforms[response.urn] = inherited
        if request.type.startswith(PROVIDER_PREFIX) and isinstance(self.mocks, DeterministicMocks):
            self.mocks.providers[f"{response.urn}::{response.id}"] = dict(inputs)
        source = None
        if request.HasField("sourcePosition") and request.sourcePosition.uri:
            source = SourcePosition(
                path=request.sourcePosition.uri.removeprefix("file://"), line=request.sourcePosition.line
            )
        captured = CapturedResource(
            urn=response.urn,
            type=request.type,
            name=request.name,
            parent=None if _is_stack_urn(request.parent) else request.parent,
            custom=bool(request.custom),
            inputs=plain_value(inputs),
            protect=bool(opts.protect),
            retain_on_delete=bool(opts.retain_on_delete),
            dependencies=sorted(set(request.dependencies)),
            provider=request.provider or None,
            placement=self._placement(request) if request.custom else None,
            aliases=[_describe_alias(a) for a in request.aliases] + list(request.aliasURNs),
            source=source,
        )
        self.captured.append(captured)
        if opts.depends_on:
            self._added_dependencies.append((captured, opts._depends_on_list()))
        return response
