"""The script the off-hours CronJobs run: set ``spec.predictor.minReplicas`` of named InferenceServices.

Standard library only. It reads the pod's projected API token and the cluster CA, and sends one JSON
merge patch per InferenceService named in ``TARGETS`` (``{"name": replicas}``), in ``NAMESPACE``.
"""

from __future__ import annotations

import json
import os
import ssl
import urllib.request

SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"
API = "https://kubernetes.default.svc"


def patch_body(replicas: int) -> bytes:
    """The merge patch that sets the predictor's floor to ``replicas``."""
    return json.dumps({"spec": {"predictor": {"minReplicas": replicas}}}).encode()


def main() -> None:
    """Patch every target; fail (non-zero exit) on the first refusal so the Job reports it."""
    namespace = os.environ["NAMESPACE"]
    targets: dict[str, int] = json.loads(os.environ["TARGETS"])
    with open(f"{SERVICE_ACCOUNT_DIR}/token", encoding="utf-8") as handle:
        token = handle.read().strip()
    context = ssl.create_default_context(cafile=f"{SERVICE_ACCOUNT_DIR}/ca.crt")
    for name, replicas in sorted(targets.items()):
        request = urllib.request.Request(  # noqa: S310 - the in-cluster API server over TLS
            f"{API}/apis/serving.kserve.io/v1beta1/namespaces/{namespace}/inferenceservices/{name}",
            data=patch_body(replicas),
            method="PATCH",
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/merge-patch+json"},
        )
        with urllib.request.urlopen(request, context=context, timeout=30) as response:  # noqa: S310
            print(f"{name}: minReplicas={replicas} ({response.status})")


if __name__ == "__main__":
    main()
