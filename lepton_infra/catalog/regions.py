"""The regions each cloud has, so a misspelt or invented region is refused at validate time, not by the
cloud's API minutes into `pulumi up`.

Sources (looked up 2026-12):
- AWS: pulumi-aws 7.51.1's own ``Region`` enum (``pulumi_aws/_enums.py``), the commercial, China and
  GovCloud partitions; the ISO and European Sovereign Cloud partitions are left out (none of the catalog's
  GPU types is listed there). A test checks every name against the installed SDK's enum.
- Azure: ``az account list-locations`` (physical regions; the recommended ones as listed in
  labdocx/beta-scripts azure-cli/list-of-azure-regions.md, the others from Microsoft's "Azure geographies"
  page) and the sovereign clouds' locations (Azure China: chinaeast*, chinanorth*; Azure Government:
  usgov*, usdod*). No SDK enum exists to check them against.
- Alibaba Cloud: the region IDs of the ECS and ACS/ACK "Regions" documentation (help.aliyun.com "Region
  IDs", "Supported regions" of Container Compute Service, CloudMonitor 2.0 "Supported regions"), less the
  regions Alibaba closed (ap-southeast-2 Sydney, ap-south-1 Mumbai).

A region opened after these dates is one line added here.
"""

from __future__ import annotations

from lepton_infra.catalog.types import Cloud

AWS_REGIONS = frozenset(
    {
        "af-south-1",
        "ap-east-1",
        "ap-east-2",
        "ap-northeast-1",
        "ap-northeast-2",
        "ap-northeast-3",
        "ap-south-1",
        "ap-south-2",
        "ap-southeast-1",
        "ap-southeast-2",
        "ap-southeast-3",
        "ap-southeast-4",
        "ap-southeast-5",
        "ap-southeast-6",
        "ap-southeast-7",
        "ca-central-1",
        "ca-west-1",
        "eu-central-1",
        "eu-central-2",
        "eu-north-1",
        "eu-south-1",
        "eu-south-2",
        "eu-west-1",
        "eu-west-2",
        "eu-west-3",
        "il-central-1",
        "me-central-1",
        "me-south-1",
        "mx-central-1",
        "sa-east-1",
        "us-east-1",
        "us-east-2",
        "us-west-1",
        "us-west-2",
        "cn-north-1",
        "cn-northwest-1",
        "us-gov-east-1",
        "us-gov-west-1",
    }
)

AZURE_REGIONS = frozenset(
    {
        # Recommended regions (az account list-locations, regionCategory Recommended)
        "eastus", "eastus2", "southcentralus", "westus2", "westus3", "australiaeast", "southeastasia",
        "northeurope", "swedencentral", "uksouth", "westeurope", "centralus", "southafricanorth",
        "centralindia", "eastasia", "japaneast", "koreacentral", "canadacentral", "francecentral",
        "germanywestcentral", "italynorth", "norwayeast", "polandcentral", "spaincentral",
        "switzerlandnorth", "mexicocentral", "uaenorth", "brazilsouth", "israelcentral", "qatarcentral",
        "newzealandnorth", "indonesiacentral", "malaysiawest", "chilecentral",
        # Other physical regions
        "northcentralus", "westus", "westcentralus", "japanwest", "koreasouth", "southindia", "westindia",
        "jioindiawest", "jioindiacentral", "canadaeast", "francesouth", "germanynorth", "norwaywest",
        "switzerlandwest", "ukwest", "uaecentral", "brazilsoutheast", "southafricawest",
        "australiacentral", "australiacentral2", "australiasoutheast", "swedensouth",
        # Azure operated by 21Vianet (China) and Azure Government
        "chinaeast", "chinaeast2", "chinaeast3", "chinanorth", "chinanorth2", "chinanorth3",
        "usgovvirginia", "usgovarizona", "usgovtexas", "usdodeast", "usdodcentral",
    }
)  # fmt: skip

ALICLOUD_REGIONS = frozenset(
    {
        "cn-qingdao", "cn-beijing", "cn-zhangjiakou", "cn-huhehaote", "cn-wulanchabu", "cn-hangzhou",
        "cn-shanghai", "cn-shenzhen", "cn-heyuan", "cn-guangzhou", "cn-chengdu", "cn-hongkong",
        "ap-northeast-1", "ap-northeast-2", "ap-southeast-1", "ap-southeast-3", "ap-southeast-5",
        "ap-southeast-6", "ap-southeast-7", "ap-southeast-8", "us-east-1", "us-west-1", "us-southeast-1",
        "eu-central-1", "eu-west-1", "me-east-1", "me-central-1", "na-south-1",
    }
)  # fmt: skip

REGIONS: dict[Cloud, frozenset[str]] = {
    Cloud.AWS: AWS_REGIONS,
    Cloud.AZURE: AZURE_REGIONS,
    Cloud.ALICLOUD: ALICLOUD_REGIONS,
}


def region_problem(cloud: Cloud, region: str) -> str | None:
    """Why ``region`` is no region of ``cloud`` (None: it is one), with the closest names it has."""
    known = REGIONS[cloud]
    if region in known:
        return None
    import difflib

    close = difflib.get_close_matches(region, sorted(known), n=3, cutoff=0.6)
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    return f"{region!r} is not a {cloud.value} region{hint}"
