"""Errors the offline engine reports as a one-paragraph message (CLI exit code 2)."""

from __future__ import annotations


class ProgramError(Exception):
    """A program or configuration error a user must fix; ``str()`` is the whole message.

    ``registered`` lists the URNs the program had registered before it failed, so tests can
    assert that validation stopped it before any resource was created.
    """

    def __init__(self, message: str, registered: list[str] | None = None) -> None:
        super().__init__(message)
        self.registered: list[str] = list(registered or [])


# What pydantic puts before the message of an error raised in a validator (ValueError, AssertionError).
_PYDANTIC_PREFIXES = ("Value error, ", "Assertion failed, ")


def validation_message(message: str) -> str:
    """A pydantic error message as the user should read it: without ``Value error, `` and the like."""
    for prefix in _PYDANTIC_PREFIXES:
        if message.startswith(prefix):
            return message.removeprefix(prefix)
    return message
