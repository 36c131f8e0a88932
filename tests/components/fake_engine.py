"""A minimal Pulumi engine on 127.0.0.1 for a provider's Construct: the Engine and ResourceMonitor services.

It records every registration and answers as the engine would for a preview: a URN built from the
parent's type chain, the inputs echoed as outputs, no real cloud. Stack transforms are applied as the
engine applies them: each registration's properties and options go to the registering process's
callback server (``Callbacks.Invoke`` with a ``TransformRequest``) and the answer replaces them.
"""

from concurrent import futures
from dataclasses import dataclass
from typing import Any

import grpc
from google.protobuf import empty_pb2, json_format, struct_pb2
from pulumi.runtime.proto import (
    callback_pb2,
    callback_pb2_grpc,
    engine_pb2,
    engine_pb2_grpc,
    resource_pb2,
    resource_pb2_grpc,
)


@dataclass
class Registered:
    """A registration after the stack transforms: what the engine would plan."""

    urn: str
    type: str
    name: str
    parent: str
    custom: bool
    inputs: dict[str, Any]
    protect: bool


class FakeEngine(engine_pb2_grpc.EngineServicer, resource_pb2_grpc.ResourceMonitorServicer):
    """Records logs, registrations and registered outputs."""

    def __init__(self, project: str, stack: str) -> None:
        self.project = project
        self.stack = stack
        self.logs: list[str] = []
        self.registrations: list[Registered] = []
        self.outputs: dict[str, struct_pb2.Struct] = {}
        self.transforms: list[Any] = []
        self.types: dict[str, str] = {}  # urn -> type chain

    @property
    def stack_urn(self) -> str:
        return f"urn:pulumi:{self.stack}::{self.project}::pulumi:pulumi:Stack::{self.project}-{self.stack}"

    # Engine
    def Log(self, request, context):
        self.logs.append(request.message)
        return empty_pb2.Empty()

    def GetRootResource(self, request, context):
        return engine_pb2.GetRootResourceResponse(urn=self.stack_urn)

    def SetRootResource(self, request, context):
        return engine_pb2.SetRootResourceResponse()

    # ResourceMonitor
    def SupportsFeature(self, request, context):
        return resource_pb2.SupportsFeatureResponse(hasSupport=True)

    def RegisterResource(self, request, context):
        properties, protect = self._transformed(request)
        chain = request.type
        if request.parent and request.parent in self.types:
            chain = f"{self.types[request.parent]}${request.type}"
        urn = f"urn:pulumi:{self.stack}::{self.project}::{chain}::{request.name}"
        self.types[urn] = chain
        inputs = json_format.MessageToDict(properties)
        self.registrations.append(
            Registered(urn, request.type, request.name, request.parent, request.custom, inputs, protect)
        )
        return resource_pb2.RegisterResourceResponse(
            urn=urn, id=f"{request.name}-id" if request.custom else "", object=properties
        )

    def _transformed(self, request) -> tuple[struct_pb2.Struct, bool]:
        properties, protect = request.object, request.protect
        for callback in list(self.transforms):
            transform = resource_pb2.TransformRequest(
                type=request.type,
                name=request.name,
                custom=request.custom,
                parent=request.parent,
                properties=properties,
                options=resource_pb2.TransformResourceOptions(protect=protect),
            )
            with grpc.insecure_channel(callback.target) as channel:
                answer = callback_pb2_grpc.CallbacksStub(channel).Invoke(
                    callback_pb2.CallbackInvokeRequest(token=callback.token, request=transform.SerializeToString()),
                    timeout=60,
                )
            response = resource_pb2.TransformResponse.FromString(answer.response)
            if response.HasField("properties"):
                properties = response.properties
            if response.HasField("options"):
                protect = response.options.protect
        return properties, protect

    def RegisterResourceOutputs(self, request, context):
        self.outputs[request.urn] = request.outputs
        return empty_pb2.Empty()

    def RegisterStackTransform(self, request, context):
        self.transforms.append(request)
        return empty_pb2.Empty()

    def GetDeploymentInfo(self, request, context):
        return resource_pb2.DeploymentInfo(
            project=self.project,
            stack=self.stack,
            dryRun=True,
            supportedFeatures=resource_pb2.ResourceMonitorFeature.values(),
        )

    def Invoke(self, request, context):
        return resource_pb2.InvokeResponse(**{"return": struct_pb2.Struct()})

    def SignalAndWaitForShutdown(self, request, context):
        return empty_pb2.Empty()


def serve(engine: FakeEngine) -> tuple[grpc.Server, str]:
    """Start the services on 127.0.0.1 and return the server and its address (stop it when done)."""
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=32))
    engine_pb2_grpc.add_EngineServicer_to_server(engine, server)
    resource_pb2_grpc.add_ResourceMonitorServicer_to_server(engine, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    return server, f"127.0.0.1:{port}"
