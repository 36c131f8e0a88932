"""Pinned container images: a tag other than ``latest``, or an ``@sha256:`` digest.

An unpinned image makes a rollout irreproducible (the same manifest can run different code)
and lets a compromised registry tag reach production unnoticed.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator

_DIGEST = re.compile(r"@sha256:[0-9a-f]{64}$")
_REFERENCE = re.compile(r"^[a-z0-9]+([._/:-][a-zA-Z0-9]+)*(@sha256:[0-9a-f]{64})?$")
_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")


def image_tag(image: str) -> str | None:
    """The tag of ``image`` (``None`` when it has none); a registry port is not a tag."""
    last = image.rsplit("@", 1)[0].rsplit("/", 1)[-1]
    return last.rsplit(":", 1)[1] if ":" in last else None


def pinned_image(image: str) -> str:
    """Validator: ``image`` unchanged if pinned by digest or by a tag other than ``latest``."""
    if not image or not _REFERENCE.match(image):
        raise ValueError(f"{image!r} is not an image reference (registry/repository:tag or @sha256:digest)")
    if _DIGEST.search(image):
        return image
    tag = image_tag(image)
    if tag is None:
        raise ValueError(f"image {image!r} has no tag: pin it with a version tag or an @sha256 digest")
    if tag.lower() == "latest" or not _TAG.match(tag):
        raise ValueError(f"image {image!r} uses the tag {tag!r}: pin it with a version tag or an @sha256 digest")
    return image


PinnedImage = Annotated[str, AfterValidator(pinned_image)]
