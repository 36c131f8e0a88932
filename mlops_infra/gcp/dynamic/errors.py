"""Turn Vertex API failures into one-line errors that say what was being done and to what."""

# ruff: noqa: PLC0415 - google.cloud imports take seconds; they run only when a provider method does.

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

T = TypeVar("T")


class VertexError(RuntimeError):
    """A Vertex AI call failed; the message names the action, the resource and the API's reason."""


@contextmanager
def vertex_call(action: str, resource: str) -> Iterator[None]:
    """Re-raise ``google.api_core`` errors as :class:`VertexError` ("<action> <resource>: <code> <message>")."""
    from google.api_core import exceptions

    try:
        yield
    except exceptions.GoogleAPICallError as exc:
        code = getattr(exc, "code", None)
        reason = getattr(code, "name", None) or str(code or "")
        raise VertexError(f"{action} {resource} failed: {reason} {exc.message}".strip()) from exc
    except exceptions.RetryError as exc:
        raise VertexError(f"{action} {resource} timed out: {exc}") from exc


def wait(operation: Any, action: str, resource: str, timeout: float) -> Any:
    """Block on a long-running operation; failures and timeouts become :class:`VertexError`."""
    import concurrent.futures

    with vertex_call(action, resource):
        try:
            return operation.result(timeout=timeout)
        except concurrent.futures.TimeoutError as exc:
            raise VertexError(f"{action} {resource} did not finish within {timeout:.0f} s") from exc


def is_not_found(call: Callable[..., T], **kwargs: Any) -> tuple[bool, T | None]:
    """``(True, None)`` when ``call(**kwargs)`` raises NotFound, else ``(False, result)``."""
    from google.api_core import exceptions

    try:
        return False, call(**kwargs)
    except exceptions.NotFound:
        return True, None
