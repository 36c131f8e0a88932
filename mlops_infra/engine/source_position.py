"""Where a resource was declared, found without the Pulumi SDK's full stack capture.

For every registration the SDK (``pulumi.runtime.resource._get_stack_trace``) extracts the whole
Python stack with ``traceback.extract_stack`` (reading each frame's source line) and converts every
frame to a file URI, although the engine reads only the first user frame: ``sourcePosition``. The
SDK has no switch for this, so while the offline engine runs a program it replaces that function
with :func:`first_user_frame`, which walks the live frames with the same rule (the caller of the
third ``__init__`` up the stack) and returns only that frame. ``sourcePosition`` is unchanged; the
request's ``stackTrace`` then holds that one frame, which nothing offline reads.
"""

from __future__ import annotations

import contextlib
import pathlib
import sys
from collections.abc import Iterator
from types import FrameType
from typing import Any

from pulumi.runtime import resource as sdk_resource
from pulumi.runtime.proto import source_pb2

CONSTRUCTOR_DEPTH = 3  # Resource, CustomResource/ComponentResource, the concrete class (as the SDK counts)


def _position(frame: FrameType) -> Any:
    filename = frame.f_code.co_filename
    if not filename or frame.f_lineno is None:
        return None
    try:
        uri = pathlib.Path(filename).as_uri()
    except BaseException:  # noqa: BLE001 - as the SDK: no position rather than a failed registration
        return None
    return source_pb2.SourcePosition(uri=uri, line=frame.f_lineno)


def first_user_frame() -> Any:
    """The SDK's stack trace reduced to its first frame: the code that called the resource's constructor."""
    frame: FrameType | None = sys._getframe(1)
    seen = 0
    while frame is not None:
        if frame.f_code.co_name == "__init__":
            seen += 1
            if seen == CONSTRUCTOR_DEPTH:
                break
        frame = frame.f_back
    caller = frame.f_back if frame is not None else None
    if caller is None:
        return source_pb2.StackTrace()
    return source_pb2.StackTrace(frames=[source_pb2.StackFrame(pc=_position(caller))])


@contextlib.contextmanager
def cheap_source_positions() -> Iterator[None]:
    """Use :func:`first_user_frame` for the SDK's stack capture while the block runs."""
    original = sdk_resource._get_stack_trace
    sdk_resource._get_stack_trace = first_user_frame
    try:
        yield
    finally:
        sdk_resource._get_stack_trace = original
