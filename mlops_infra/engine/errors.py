"""Errors the offline engine reports as a one-paragraph message (CLI exit code 2)."""

from __future__ import annotations


class ProgramError(Exception):
    """A program or configuration error a user must fix; ``str()`` is the whole message."""
