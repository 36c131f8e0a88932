"""The engine's cheap stack capture gives the SDK's own source position."""

from __future__ import annotations

from typing import Any

from pulumi.runtime import resource as sdk_resource

from mlops_infra.engine.source_position import cheap_source_positions, first_user_frame

SDK_STACK_TRACE = sdk_resource._get_stack_trace


class _Base:
    def __init__(self) -> None:
        self.sdk: Any = SDK_STACK_TRACE()
        self.ours: Any = first_user_frame()


class _Middle(_Base):
    def __init__(self) -> None:
        super().__init__()


class _Concrete(_Middle):
    def __init__(self) -> None:
        super().__init__()


def _declare() -> _Concrete:
    return _Concrete()  # the line both must report


def test_first_user_frame_is_the_sdks_source_position() -> None:
    made = _declare()
    sdk = sdk_resource._get_source_position(made.sdk)
    ours = sdk_resource._get_source_position(made.ours)
    assert sdk is not None and sdk.uri.endswith("test_source_position.py")
    assert (ours.uri, ours.line) == (sdk.uri, sdk.line)
    assert len(made.ours.frames) == 1


def test_the_sdk_function_is_restored() -> None:
    with cheap_source_positions():
        assert sdk_resource._get_stack_trace is first_user_frame
    assert sdk_resource._get_stack_trace is SDK_STACK_TRACE
