"""Monitor calls are answered on the program's thread offline; nested ones and failures behave as threaded ones."""

from __future__ import annotations

import asyncio
import threading

import pulumi_aws as aws
import pytest

from mlops_infra.engine import monitor as engine_monitor
from mlops_infra.engine import run_function
from mlops_infra.engine.errors import ProgramError
from mlops_infra.engine.inline_calls import inline_monitor_calls


def test_registrations_are_answered_on_the_programs_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    threads: list[threading.Thread] = []
    register = engine_monitor.CaptureMonitor.RegisterResource

    def recording(self: engine_monitor.CaptureMonitor, request: object) -> object:
        threads.append(threading.current_thread())
        return register(self, request)

    monkeypatch.setattr(engine_monitor.CaptureMonitor, "RegisterResource", recording)

    def program() -> None:
        key = aws.kms.Key("key")
        aws.sqs.Queue("queue", kms_master_key_id=key.arn)  # waits on the key's output

    stack = run_function(program)
    assert len(stack.custom_resources()) == 2
    assert threads and set(threads) == {threading.main_thread()}
    queue = next(r for r in stack.resources if r.name == "queue")
    assert queue.inputs["kmsMasterKeyId"].startswith("arn:aws:kms:")


def test_a_call_made_while_another_is_answered_goes_to_a_worker_thread_and_the_loop_is_restored() -> None:
    loop = asyncio.new_event_loop()
    seen: list[str] = []

    def inner() -> str:
        seen.append(threading.current_thread().name)
        return "inner"

    async def outer_call() -> list[str]:
        def outer() -> asyncio.Future[str]:
            seen.append(threading.current_thread().name)
            return loop.run_in_executor(None, inner)  # nested: must not run inline

        nested = await loop.run_in_executor(None, outer)
        return [await nested]

    def failing() -> None:
        raise ValueError("monitor said no")

    async def failure() -> None:
        await loop.run_in_executor(None, failing)

    try:
        with inline_monitor_calls(loop):
            assert loop.run_until_complete(outer_call()) == ["inner"]
            with pytest.raises(ValueError, match="monitor said no"):
                loop.run_until_complete(failure())
        assert seen[0] == threading.main_thread().name and seen[1] != seen[0]
        assert "run_in_executor" not in vars(loop)
    finally:
        loop.run_until_complete(loop.shutdown_default_executor())
        loop.close()


def test_a_program_that_invokes_synchronously_plans_with_the_answer() -> None:
    # A blocking invoke (not the *_output form) pumps the loop from inside the program: the monitor's
    # answer and the registrations made meanwhile must still arrive.
    def program() -> None:
        identity = aws.get_caller_identity()
        region = aws.get_region()
        aws.sqs.Queue("queue", name=f"q-{identity.account_id}-{region.region}")

    stack = run_function(program, config={"aws:region": "eu-west-1"})
    queue = next(r for r in stack.resources if r.name == "queue")
    assert queue.inputs["name"] == "q-123456789012-eu-west-1"


def test_a_failure_in_the_mocks_fails_the_plan_with_its_message(monkeypatch: pytest.MonkeyPatch) -> None:
    def refusing(self: engine_monitor.DeterministicMocks, args: object) -> None:
        raise ProgramError("the mocks refused the queue")

    monkeypatch.setattr(engine_monitor.DeterministicMocks, "new_resource", refusing)
    with pytest.raises(ProgramError, match="the mocks refused the queue"):
        run_function(lambda: aws.sqs.Queue("queue"))
