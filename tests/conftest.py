import warnings

pytest_plugins = ["mlops_infra.testing.plugin"]

warnings.filterwarnings("ignore", category=DeprecationWarning)
