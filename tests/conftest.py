import warnings

from mlops_infra.protobuf_status import share_google_rpc_status

# As the components plugin does: pulumi.provider (tests/components) and kfp (tests/gcp) in one run.
share_google_rpc_status()

pytest_plugins = ["mlops_infra.testing.plugin"]

warnings.filterwarnings("ignore", category=DeprecationWarning)
