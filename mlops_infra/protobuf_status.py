"""One ``google.rpc.Status`` for Pulumi's provider server and the Google SDKs in one process.

pulumi's ``pulumi/runtime/proto/status_pb2.py`` registers the message ``google.rpc.Status`` in
protobuf's default descriptor pool under the file name ``google/protobuf/status.proto``;
googleapis-common-protos registers the same message as ``google/rpc/status.proto`` (kfp's
pipeline spec and google-cloud-aiplatform import it). Whichever loads second fails with
"duplicate symbol 'google.rpc.Status'", so the components plugin could not construct a GCP
pipeline (kfp) after serving the provider protocol.

:func:`share_google_rpc_status` loads googleapis' module first and lets pulumi's name point at it.
pulumi's provider server only builds ``status_pb2.Status(...)`` and serializes it; the two
messages have the same fields and numbers, so the bytes on the wire are the same.
Call it before anything imports ``pulumi.provider``.
"""

from __future__ import annotations

import sys

PULUMI_STATUS_MODULE = "pulumi.runtime.proto.status_pb2"


def share_google_rpc_status() -> bool:
    """Alias pulumi's status module to googleapis' one; False when googleapis-common-protos is absent
    or pulumi's copy already loaded (then nothing can be done and nothing is changed)."""
    if PULUMI_STATUS_MODULE in sys.modules:
        return sys.modules[PULUMI_STATUS_MODULE].__name__ == "google.rpc.status_pb2"
    try:
        from google.rpc import status_pb2  # type: ignore[import-untyped]  # noqa: PLC0415 (optional, on demand)
    except ImportError:
        return False
    sys.modules[PULUMI_STATUS_MODULE] = status_pb2
    return True
