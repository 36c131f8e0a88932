"""Where SageMaker Model Monitor's prebuilt analyzer image lives in each commercial and China region.

Facts from the sagemaker SDK's image registry (``image_uri_config/model-monitor.json``), copied
so the core package does not need the SDK; a test cross-checks them when the extra is installed.
"""

from __future__ import annotations

import pulumi

from mlops_infra.aws.account import configured_region, has_own_provider, region_name

ANALYZER_REPOSITORY = "sagemaker-model-monitor-analyzer"

# AWS account that hosts the analyzer image, per region (the commercial and China partitions; the
# SDK knows no GovCloud account, so GovCloud stacks pass ``analyzer_image_uri``).
ANALYZER_REGISTRY_ACCOUNTS: dict[str, str] = {
    "af-south-1": "875698925577",
    "ap-east-1": "001633400207",
    "ap-northeast-1": "574779866223",
    "ap-northeast-2": "709848358524",
    "ap-northeast-3": "990339680094",
    "ap-south-1": "126357580389",
    "ap-southeast-1": "245545462676",
    "ap-southeast-2": "563025443158",
    "ap-southeast-3": "669540362728",
    "ca-central-1": "536280801234",
    "cn-north-1": "453000072557",
    "cn-northwest-1": "453252182341",
    "eu-central-1": "048819808253",
    "eu-central-2": "590183933784",
    "eu-north-1": "895015795356",
    "eu-south-1": "933208885752",
    "eu-south-2": "437450045455",
    "eu-west-1": "468650794304",
    "eu-west-2": "749857270468",
    "eu-west-3": "680080141114",
    "il-central-1": "843974653677",
    "me-central-1": "588750061953",
    "me-south-1": "607024016150",
    "sa-east-1": "539772159869",
    "us-east-1": "156813124566",
    "us-east-2": "777275614652",
    "us-west-1": "890145073186",
    "us-west-2": "159807026194",
}


def analyzer_image_uri(region: str) -> str | None:
    """The Model Monitor analyzer image for ``region``, or None when no image is known there."""
    account = ANALYZER_REGISTRY_ACCOUNTS.get(region)
    if account is None:
        return None
    domain = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"  # ECR's host in China
    # AWS publishes and patches this image; SageMaker resolves it untagged, as the SDK does.
    return f"{account}.dkr.ecr.{region}.{domain}/{ANALYZER_REPOSITORY}"


def _image_for_region(region: str, field: str) -> str:
    image = analyzer_image_uri(region)
    if image is None:
        raise ValueError(
            f"{field}: no Model Monitor image is known for region {region!r}; "
            f"pass {field} (the image in your region's ECR), "
            "or set aws:region to a region SageMaker publishes it in"
        )
    return image


def region_without_image(explicit: str | None, opts: pulumi.ResourceOptions | None) -> str | None:
    """The stack's region when a component there would find no analyzer image; checked before anything registers.

    None when an image is named, when the component has a provider of its own (its region is checked
    when it runs, :func:`analyzer_image`), when the stack names no region, or when the region has one.
    """
    if explicit or has_own_provider(opts):
        return None
    region = configured_region()
    return region if region is not None and analyzer_image_uri(region) is None else None


def check_analyzer_region(
    explicit: str | None, opts: pulumi.ResourceOptions | None, field: str = "analyzer_image_uri"
) -> None:
    """Before anything registers: no image named, the stack's provider in a region without one, is a config error.

    See :func:`region_without_image`.
    """
    region = region_without_image(explicit, opts)
    if region is not None:
        _image_for_region(region, field)


def analyzer_image(
    explicit: str | None, invoke: pulumi.InvokeOutputOptions, field: str = "analyzer_image_uri"
) -> pulumi.Input[str]:
    """The analyzer image a component runs: ``explicit``, else the one in its provider's region."""
    if explicit:
        return explicit
    return region_name(invoke).apply(lambda region: _image_for_region(region, field))
