"""After a failed run, asyncio's reports about what the run left unread are dropped.

When a registration or an ``apply`` fails, the SDK sets the exception on every future that waits
on it (a resource's URN, id and each output), and further registrations may fail with errors of
their own. The run stops at the first one and the engine raises it as a
:class:`~mlops_infra.engine.errors.ProgramError`; the other futures keep their exceptions unread,
and tasks still waiting stay pending, until they are freed. They are freed when the next run
resets the SDK's state, by the garbage collector at whatever point it next runs, and asyncio then
reports "Future exception was never retrieved" (or "Task was destroyed but it is pending!") with
a formatted traceback for each. Those reports follow an error already raised, and in Python 3.11
formatting one inside another ``ast.parse`` (the collector can run anywhere) breaks that parse.

A successful run leaves no such futures: the SDK fails the run when an Output it tracks failed.
So once a run on a loop has failed, :func:`drop_leftover_reports` makes the loop drop these two
reports; every other report goes to the handler the loop had. The loop is the one the SDK's
``_sync_await`` runs on: the SDK keeps state bound to it across runs, so a run cannot have its own.
"""

from __future__ import annotations

import asyncio
from typing import Any

_LEFTOVER_MESSAGES = ("exception was never retrieved", "Task was destroyed but it is pending")
_MARK = "_mlops_infra_drops_leftovers"


def drop_leftover_reports(loop: asyncio.AbstractEventLoop) -> None:
    """Make ``loop`` drop the reports a failed run's leftovers cause (once per loop)."""
    previous = loop.get_exception_handler()
    if getattr(previous, _MARK, False):
        return

    def handle(handled_loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        if any(text in str(context.get("message", "")) for text in _LEFTOVER_MESSAGES):
            return
        if previous is None:
            handled_loop.default_exception_handler(context)
        else:
            previous(handled_loop, context)

    setattr(handle, _MARK, True)
    loop.set_exception_handler(handle)
