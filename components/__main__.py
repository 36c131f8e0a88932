"""Entry point of the components plugin: serve every component over Pulumi's provider protocol.

Pulumi runs it (PulumiPlugin.yaml, runtime python) with the engine address; it prints its port.
"""

from mlops_infra_components import COMPONENTS
from mlops_infra_components.convert import PACKAGE
from mlops_infra_components.schema import package_version
from pulumi.provider.experimental import component_provider_host

if __name__ == "__main__":
    component_provider_host(list(COMPONENTS), name=PACKAGE, version=package_version())
