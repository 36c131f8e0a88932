"""Monitor calls answered on the program's own thread while the offline engine runs it.

The SDK sends every registration, invoke and ``register_outputs`` to the resource monitor with
``loop.run_in_executor(None, call)``: under ``pulumi up`` the call is a blocking gRPC request, so a
worker thread waits for it. Offline, the monitor is Python in this process and answers at once, so
each call only moves to a worker thread and back: a hand-off through the executor's queue, the
loop's wake-up pipe and the GIL on every registration. Where resources wait on each other's
outputs (``role.arn`` into the model), those hand-offs sit on the path from one registration to
the next.

:func:`inline_monitor_calls` answers such calls on the loop's thread instead, returning a
completed future, as the thread would have. One nesting level only: a monitor call that itself
pumps the loop (``_sync_await`` on a value still pending) sends any call made meanwhile to the
worker threads as before, so the stack stays bounded. Only this loop object is changed, and only
while the block runs; calls with an explicit executor keep it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterator
from typing import Any


class _InlineCalls:
    """``loop.run_in_executor`` replacement: the default executor's calls run here, now."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.threaded = type(loop).run_in_executor.__get__(loop)  # the class's own method, bound
        self.depth = 0

    def __call__(self, executor: Any, func: Callable[..., Any], *args: Any) -> asyncio.Future[Any]:
        if executor is not None or self.depth:
            threaded: asyncio.Future[Any] = self.threaded(executor, func, *args)
            return threaded
        future: asyncio.Future[Any] = self.loop.create_future()
        self.depth += 1
        try:
            result = func(*args)
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as exc:  # noqa: BLE001 - as a worker thread: the failure travels in the future
            future.set_exception(exc if not isinstance(exc, StopIteration) else RuntimeError(repr(exc)))
        else:
            future.set_result(result)
        finally:
            self.depth -= 1
        return future


@contextlib.contextmanager
def inline_monitor_calls(loop: asyncio.AbstractEventLoop) -> Iterator[None]:
    """Answer ``loop``'s default-executor calls on its own thread while the block runs."""
    loop.run_in_executor = _InlineCalls(loop)  # type: ignore[method-assign,assignment]
    try:
        yield
    finally:
        del loop.run_in_executor  # the class's method again
