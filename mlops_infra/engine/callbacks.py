"""A socket-free stand-in for the Pulumi SDK's callback server.

Under real ``pulumi up`` the SDK serves transforms over gRPC and the engine calls them.
Under mocks nobody calls them, so the offline engine keeps them here and runs them itself
in :class:`~mlops_infra.engine.monitor.CaptureMonitor`, as the engine would.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

from pulumi.runtime.proto import callback_pb2

Transform = Callable[[Any], Any]


class InProcessCallbacks:
    """Implements the subset of ``_CallbackServicer`` that resource registration uses."""

    target = "in-process"

    def __init__(self, on_stack_transform: Callable[[Transform], None]) -> None:
        self._on_stack_transform = on_stack_transform
        self._tokens: dict[Any, str] = {}
        self.functions: dict[str, Any] = {}
        self._counter = itertools.count()

    def _register(self, fn: Any) -> callback_pb2.Callback:
        token = self._tokens.get(fn)
        if token is None:
            token = f"offline-callback-{next(self._counter)}"
            self._tokens[fn] = token
            self.functions[token] = fn
        return callback_pb2.Callback(token=token, target=self.target)

    # Names below mirror pulumi.runtime._callbacks._CallbackServicer.
    def register_transform(self, transform: Transform) -> callback_pb2.Callback:
        return self._register(transform)

    def register_stack_transform(self, transform: Transform) -> None:
        self._register(transform)
        self._on_stack_transform(transform)

    def do_register_invoke_transform(self, transform: Any) -> callback_pb2.Callback:
        return self._register(transform)

    def register_invoke_transform(self, transform: Any) -> None:
        self._register(transform)

    def register_state_migration(self, migration: Any) -> callback_pb2.Callback:
        return self._register(migration)

    def register_resource_hook(self, hook: Any) -> callback_pb2.Callback:
        return self._register(hook)

    def register_error_hook(self, hook: Any) -> callback_pb2.Callback:
        return self._register(hook)

    def resolve(self, callbacks: Any) -> list[Any]:
        return [self.functions[c.token] for c in callbacks if c.token in self.functions]
