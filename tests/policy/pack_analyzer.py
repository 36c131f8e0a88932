"""The policy pack as a separate process, driven over the Analyzer gRPC protocol the way the Pulumi CLI drives it.

Launch: the CLI's ``pulumi-analyzer-policy-python`` runs ``python -u -m pulumi.policy <engine> .`` with
the pack directory as working directory and the stack's config in ``PULUMI_CONFIG`` (plus
``PULUMI_PROJECT``, ``PULUMI_STACK``, ``PULUMI_DRY_RUN``); the pack prints the port it serves on
(127.0.0.1) as its first line of stdout. The engine address is only parsed: a pack never calls it.

Protocol: GetAnalyzerInfo, then Configure with every policy's level and properties (the CLI's
reconciliation: schema defaults, the pack's initialConfig, then ``--policy-pack-config``, validated
against each policy's published JSON schema), Analyze per resource (props as protobuf Structs, unknown
values as the engine's unknown string), then AnalyzeStack.
"""

from __future__ import annotations

import json
import os
import selectors
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import jsonschema
from google.protobuf import empty_pb2, json_format, struct_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc, plugin_pb2

from mlops_infra.engine.captured import CapturedResource, CapturedStack

PACK_DIR = Path(__file__).resolve().parents[2] / "policies" / "mlops-guardrails"
START_TIMEOUT_S = 60.0
LEVELS = {"advisory": 0, "mandatory": 1, "disabled": 2, "remediate": 3}
LEVEL_NAMES = {v: k for k, v in LEVELS.items()}


class PackConfigRefused(ValueError):
    """The CLI would stop before running the pack: a property fails the policy's published schema."""


@dataclass(frozen=True)
class Diagnostic:
    policy: str
    level: str
    urn: str
    message: str
    note: bool


def _struct(value: Mapping[str, Any]) -> struct_pb2.Struct:
    out = struct_pb2.Struct()
    out.update(json.loads(json.dumps(dict(value), default=str)))
    return out


class PackProcess:
    """One pack process for one stack config (levels are fixed when the pack starts, as in the CLI)."""

    def __init__(self, project: str, stack: str, config: Mapping[str, str]) -> None:
        env = {k: v for k, v in os.environ.items() if k != "MLOPS_INFRA_POLICY_CONFIG"}
        env.update(
            PULUMI_CONFIG=json.dumps(dict(config)),
            PULUMI_CONFIG_SECRET_KEYS="[]",
            PULUMI_PROJECT=project,
            PULUMI_STACK=stack,
            PULUMI_DRY_RUN="true",
        )
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the process
        self.process = subprocess.Popen(
            [sys.executable, "-u", "-m", "pulumi.policy", "127.0.0.1:1", "."],
            cwd=PACK_DIR,
            env=env,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
        )
        self._stub: analyzer_pb2_grpc.AnalyzerStub | None = None
        self._channel: grpc.Channel | None = None

    def _stderr_text(self) -> str:
        self._stderr.seek(0)
        return self._stderr.read().decode(errors="replace")[-4000:]

    @property
    def stub(self) -> analyzer_pb2_grpc.AnalyzerStub:
        """The gRPC stub, once the pack printed its port."""
        if self._stub is None:
            assert self.process.stdout is not None
            selector = selectors.DefaultSelector()
            selector.register(self.process.stdout, selectors.EVENT_READ)
            if not selector.select(START_TIMEOUT_S):
                raise RuntimeError(f"the pack printed no port in {START_TIMEOUT_S} s:\n{self._stderr_text()}")
            line = self.process.stdout.readline().decode().strip()
            if not line.isdigit():
                raise RuntimeError(f"the pack did not print a port (got {line!r}):\n{self._stderr_text()}")
            self._channel = grpc.insecure_channel(f"127.0.0.1:{line}")
            self._stub = analyzer_pb2_grpc.AnalyzerStub(self._channel)
        return self._stub

    def close(self) -> None:
        if self._channel is not None:
            self._channel.close()
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()
        self._stderr.close()

    # --- protocol ---------------------------------------------------------------------------------

    def info(self) -> analyzer_pb2.AnalyzerInfo:
        return self.stub.GetAnalyzerInfo(empty_pb2.Empty())

    def plugin_version(self) -> str:
        response: plugin_pb2.PluginInfo = self.stub.GetPluginInfo(empty_pb2.Empty())
        return str(response.version)

    def configure(self, pack_config: Mapping[str, Any] | None) -> dict[str, tuple[str, dict[str, Any]]]:
        """Reconcile like the CLI and send Configure; returns policy -> (level, properties)."""
        info = self.info()
        result: dict[str, tuple[str, dict[str, Any]]] = {}
        schemas: dict[str, dict[str, Any]] = {}
        for policy in info.policies:
            properties = json_format.MessageToDict(policy.configSchema.properties)
            schemas[policy.name] = {"type": "object", "properties": properties}
            defaults = {k: v["default"] for k, v in properties.items() if "default" in v}
            result[policy.name] = (LEVEL_NAMES[policy.enforcementLevel], defaults)
        initial = {
            name: {
                **json_format.MessageToDict(value.properties),
                "enforcementLevel": LEVEL_NAMES[value.enforcementLevel],
            }
            for name, value in info.initialConfig.items()
        }
        for source in (initial, dict(pack_config or {})):
            _apply(result, source)
        for name, (_, properties) in result.items():
            for error in jsonschema.Draft7Validator(schemas[name]).iter_errors(properties):
                path = ".".join(str(p) for p in error.absolute_path)
                raise PackConfigRefused(f"{name}.{path}: {error.message}")
        request = analyzer_pb2.ConfigureAnalyzerRequest()
        for name, (level, properties) in result.items():
            request.policyConfig[name].CopyFrom(
                analyzer_pb2.PolicyConfig(enforcementLevel=LEVELS[level], properties=_struct(properties))
            )
        self.stub.Configure(request)
        return result

    def analyze(self, stack: CapturedStack) -> list[Diagnostic]:
        """Analyze on every resource (providers and components included), then AnalyzeStack."""
        by_urn = stack.by_urn()
        out: list[Diagnostic] = []
        for resource in stack.resources:
            request = analyzer_pb2.AnalyzeRequest(
                type=resource.type,
                properties=_struct(resource.inputs),
                urn=resource.urn,
                name=resource.name,
                options=_options(resource),
            )
            provider = _provider(by_urn, resource)
            if provider is not None:
                request.provider.CopyFrom(provider)
            out += _diagnostics(self.stub.Analyze(request), resource.urn)
        stack_request = analyzer_pb2.AnalyzeStackRequest()
        for resource in stack.resources:
            entry = analyzer_pb2.AnalyzerResource(
                type=resource.type,
                properties=_struct(resource.inputs),
                urn=resource.urn,
                name=resource.name,
                options=_options(resource),
                parent=resource.parent or "",
                dependencies=list(resource.dependencies),
            )
            provider = _provider(by_urn, resource)
            if provider is not None:
                entry.provider.CopyFrom(provider)
            stack_request.resources.append(entry)
        out += _diagnostics(self.stub.AnalyzeStack(stack_request), "")
        return out


def _apply(result: dict[str, tuple[str, dict[str, Any]]], config: Mapping[str, Any]) -> None:
    """One layer of policy config: ``all`` sets every level first, then each named policy."""
    ordered = sorted(config.items(), key=lambda kv: kv[0] != "all")
    for name, value in ordered:
        targets = list(result) if name == "all" else [name]
        if name != "all" and name not in result:
            raise PackConfigRefused(f"{name}: no such policy in the pack")
        for target in targets:
            level, properties = result[target]
            if isinstance(value, str):
                result[target] = (value, properties)
                continue
            props = {k: v for k, v in value.items() if k != "enforcementLevel"}
            result[target] = (value.get("enforcementLevel", level), {**properties, **({} if name == "all" else props)})


def _options(resource: CapturedResource) -> analyzer_pb2.AnalyzerResourceOptions:
    return analyzer_pb2.AnalyzerResourceOptions(
        protect=resource.protect, aliases=list(resource.aliases), parent=resource.parent or ""
    )


def _provider(
    by_urn: Mapping[str, CapturedResource], resource: CapturedResource
) -> analyzer_pb2.AnalyzerProviderResource | None:
    if not resource.provider:
        return None
    provider = by_urn.get(resource.provider.rsplit("::", 1)[0])
    if provider is None:
        return None
    return analyzer_pb2.AnalyzerProviderResource(
        type=provider.type, properties=_struct(provider.inputs), urn=provider.urn, name=provider.name
    )


def _diagnostics(response: analyzer_pb2.AnalyzeResponse, default_urn: str) -> list[Diagnostic]:
    out = []
    for d in response.diagnostics:
        note = d.message.startswith(f"can't run policy '{d.policyName}'")
        message = d.message
        if not note and d.description and message.startswith(d.description):
            message = message[len(d.description) :].removeprefix("\n")
        out.append(Diagnostic(d.policyName, LEVEL_NAMES[d.enforcementLevel], d.urn or default_urn, message, note))
    return out
