"""A failed run leaves no "exception was never retrieved" report behind; other reports still arrive."""

from __future__ import annotations

import asyncio
import gc
import logging
from typing import Any

import pulumi_aws as aws
import pytest

from mlops_infra.engine import monitor as engine_monitor
from mlops_infra.engine import run_function
from mlops_infra.engine.echoed_failures import drop_leftover_reports
from mlops_infra.engine.errors import ProgramError


def _never_retrieved(records: list[logging.LogRecord]) -> list[str]:
    return [r.getMessage() for r in records if "never retrieved" in r.getMessage()]


def test_a_failed_run_leaves_no_unread_exception_report(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def refusing(self: engine_monitor.DeterministicMocks, args: object) -> None:
        raise ProgramError("the mocks refused the queue")

    def invoking() -> None:
        aws.sqs.Queue("queue", name=f"q-{aws.get_caller_identity().account_id}")

    # After a run whose program invoked synchronously (it pumps the loop itself), a failed run
    # leaves futures holding its error unread until they are freed (found in this suite).
    run_function(invoking)
    with monkeypatch.context() as patched:
        patched.setattr(engine_monitor.DeterministicMocks, "new_resource", refusing)
        with pytest.raises(ProgramError, match="the mocks refused the queue"):
            run_function(lambda: [aws.sqs.Queue(f"queue-{i}") for i in range(5)])
    with caplog.at_level(logging.ERROR, logger="asyncio"):
        # The next run resets the SDK's state: the failed run's futures become garbage.
        stack = run_function(lambda: aws.sqs.Queue("queue"))
        gc.collect()
    assert _never_retrieved(caplog.records) == []
    assert [r.name for r in stack.resources if r.type == "aws:sqs/queue:Queue"] == ["queue"]


def test_only_leftover_reports_are_dropped_and_the_handler_is_installed_once() -> None:
    loop = asyncio.new_event_loop()
    try:
        reports: list[dict[str, Any]] = []
        loop.set_exception_handler(lambda _loop, context: reports.append(context))
        drop_leftover_reports(loop)
        installed = loop.get_exception_handler()
        drop_leftover_reports(loop)
        assert loop.get_exception_handler() is installed  # not wrapped twice
        future = loop.create_future()
        future.set_exception(ValueError("left unread by a failed run"))
        del future
        gc.collect()
        loop.call_exception_handler({"message": "Task was destroyed but it is pending!"})
        loop.call_exception_handler({"message": "something else", "exception": KeyError("k")})
    finally:
        loop.close()
    assert [c["message"] for c in reports] == ["something else"]
