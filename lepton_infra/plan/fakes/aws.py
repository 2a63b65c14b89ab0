"""AWS: ARNs, IDs and endpoints shaped as AWS returns them."""

from __future__ import annotations

import base64
from typing import Any

from lepton_infra.plan.fakes import (
    ACCOUNT_ID,
    DEFAULT_FAKERS,
    REGION_INPUTS,
    FakeContext,
    invoke,
    resource,
)

REGION_INPUTS["pulumi:providers:aws"] = "region"


def _service_and_kind(type_token: str) -> tuple[str, str]:
    # "aws:ec2/subnet:Subnet" → ("ec2", "subnet")
    module = type_token.split(":")[1]
    service, _, kind = module.partition("/")
    return service, kind.lower()


def _default(ctx: FakeContext) -> tuple[str, dict[str, Any]]:
    service, kind = _service_and_kind(ctx.type)
    identifier = f"{kind[:4]}-{ctx.hex()}"
    arn = f"arn:aws:{service}:{ctx.region}:{ACCOUNT_ID}:{kind}/{identifier}"
    return identifier, {"arn": arn, "id": identifier, "tagsAll": ctx.inputs.get("tags", {})}


DEFAULT_FAKERS["aws:"] = _default


@resource(
    "aws:ec2/vpc:Vpc",
    "aws:ec2/subnet:Subnet",
    "aws:ec2/internetGateway:InternetGateway",
    "aws:ec2/natGateway:NatGateway",
    "aws:ec2/routeTable:RouteTable",
    "aws:ec2/eip:Eip",
    "aws:ec2/securityGroup:SecurityGroup",
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup",
)
def _ec2(ctx: FakeContext) -> tuple[str, dict[str, Any]]:
    prefixes = {
        "vpc": "vpc",
        "subnet": "subnet",
        "internetgateway": "igw",
        "natgateway": "nat",
        "routetable": "rtb",
        "eip": "eipalloc",
        "securitygroup": "sg",
        "defaultsecuritygroup": "sg",
    }
    _, kind = _service_and_kind(ctx.type)
    identifier = f"{prefixes[kind]}-{ctx.hex()}"
    outputs: dict[str, Any] = {
        "id": identifier,
        "arn": f"arn:aws:ec2:{ctx.region}:{ACCOUNT_ID}:{kind}/{identifier}",
    }
    if kind == "eip":
        outputs["publicIp"] = "198.51.100.10"  # TEST-NET-2, documentation range
    return identifier, outputs


@resource("aws:ec2/placementGroup:PlacementGroup")
def _placement_group(ctx: FakeContext) -> tuple[str, dict[str, Any]]:
    name = str(ctx.inputs.get("name") or f"{ctx.name}-{ctx.hex(7)}")
    group_id = f"pg-{ctx.hex()}"
    return name, {
        "name": name,
        "placementGroupId": group_id,
        "arn": f"arn:aws:ec2:{ctx.region}:{ACCOUNT_ID}:placement-group/{name}",
    }


@resource("aws:sqs/queue:Queue")
def _sqs_queue(ctx: FakeContext) -> tuple[str, dict[str, Any]]:
    name = str(ctx.inputs.get("name") or f"{ctx.name}-{ctx.hex(7)}")
    url = f"https://sqs.{ctx.region}.amazonaws.com/{ACCOUNT_ID}/{name}"
    return url, {"name": name, "url": url, "arn": f"arn:aws:sqs:{ctx.region}:{ACCOUNT_ID}:{name}"}


@resource("aws:cloudwatch/eventRule:EventRule")
def _event_rule(ctx: FakeContext) -> tuple[str, dict[str, Any]]:
    name = str(ctx.inputs.get("name") or f"{ctx.name}-{ctx.hex(7)}")
    return name, {"name": name, "arn": f"arn:aws:events:{ctx.region}:{ACCOUNT_ID}:rule/{name}"}


@resource("aws:iam/serviceLinkedRole:ServiceLinkedRole")
def _service_linked_role(ctx: FakeContext) -> tuple[str, dict[str, Any]]:
    service = str(ctx.inputs.get("awsServiceName", "example.amazonaws.com"))
    # AWS's names: AWSServiceRoleForAutoScaling, AWSServiceRoleForEC2Spot ...
    known = {"autoscaling.amazonaws.com": "AutoScaling", "spot.amazonaws.com": "EC2Spot"}
    name = f"AWSServiceRoleFor{known.get(service, service.split('.', maxsplit=1)[0].title())}"
    arn = f"arn:aws:iam::{ACCOUNT_ID}:role/aws-service-role/{service}/{name}"
    return arn, {"arn": arn, "name": name, "path": f"/aws-service-role/{service}/"}


@resource("aws:ec2/launchTemplate:LaunchTemplate")
def _launch_template(ctx: FakeContext) -> tuple[str, dict[str, Any]]:
    identifier = f"lt-{ctx.hex()}"
    return identifier, {
        "latestVersion": 1,
        "defaultVersion": 1,
        "arn": f"arn:aws:ec2:{ctx.region}:{ACCOUNT_ID}:launch-template/{identifier}",
    }


@resource("aws:kms/key:Key")
def _kms_key(ctx: FakeContext) -> tuple[str, dict[str, Any]]:
    h = ctx.hex(32)
    key_id = f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"
    return key_id, {"keyId": key_id, "arn": f"arn:aws:kms:{ctx.region}:{ACCOUNT_ID}:key/{key_id}"}


@resource("aws:kms/alias:Alias")
def _kms_alias(ctx: FakeContext) -> tuple[str, dict[str, Any]]:
    name = str(ctx.inputs.get("name", f"alias/{ctx.name}"))
    return name, {"arn": f"arn:aws:kms:{ctx.region}:{ACCOUNT_ID}:{name}"}


@resource("aws:cloudwatch/logGroup:LogGroup")
def _log_group(ctx: FakeContext) -> tuple[str, dict[str, Any]]:
    name = str(ctx.inputs.get("name") or f"{ctx.name}-{ctx.hex(7)}")
    return name, {"name": name, "arn": f"arn:aws:logs:{ctx.region}:{ACCOUNT_ID}:log-group:{name}"}


@resource("aws:iam/role:Role")
def _iam_role(ctx: FakeContext) -> tuple[str, dict[str, Any]]:
    name = str(ctx.inputs.get("name") or f"{ctx.name[:56]}-{ctx.hex(7)}")
    return name, {
        "name": name,
        "arn": f"arn:aws:iam::{ACCOUNT_ID}:role/{name}",
        "uniqueId": f"AROA{ctx.hex(17).upper()}",
    }


@resource("aws:iam/openIdConnectProvider:OpenIdConnectProvider")
def _oidc_provider(ctx: FakeContext) -> tuple[str, dict[str, Any]]:
    host = str(ctx.inputs.get("url", "")).removeprefix("https://")
    arn = f"arn:aws:iam::{ACCOUNT_ID}:oidc-provider/{host}"
    return arn, {"arn": arn}


@resource("aws:ecr/repository:Repository")
def _ecr_repository(ctx: FakeContext) -> tuple[str, dict[str, Any]]:
    name = str(ctx.inputs.get("name", ctx.name))
    return name, {
        "name": name,
        "arn": f"arn:aws:ecr:{ctx.region}:{ACCOUNT_ID}:repository/{name}",
        "registryId": ACCOUNT_ID,
        "repositoryUrl": f"{ACCOUNT_ID}.dkr.ecr.{ctx.region}.amazonaws.com/{name}",
    }


@resource("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2")
def _s3_bucket(ctx: FakeContext) -> tuple[str, dict[str, Any]]:
    name = str(ctx.inputs.get("bucket") or f"{ctx.inputs.get('bucketPrefix', ctx.name)}{ctx.hex(12)}")
    return name, {
        "bucket": name,
        "arn": f"arn:aws:s3:::{name}",
        "region": ctx.region,
        "bucketRegionalDomainName": f"{name}.s3.{ctx.region}.amazonaws.com",
    }


@resource("aws:eks/cluster:Cluster")
def _eks_cluster(ctx: FakeContext) -> tuple[str, dict[str, Any]]:
    name = str(ctx.inputs.get("name", ctx.name))
    oidc_id = ctx.hex(32).upper()
    certificate = base64.b64encode(b"-----BEGIN CERTIFICATE-----\nMOCK\n-----END CERTIFICATE-----\n").decode()
    return name, {
        "name": name,
        "arn": f"arn:aws:eks:{ctx.region}:{ACCOUNT_ID}:cluster/{name}",
        "endpoint": f"https://{oidc_id}.gr7.{ctx.region}.eks.amazonaws.com",
        "certificateAuthority": {"data": certificate},
        "identities": [{"oidcs": [{"issuer": f"https://oidc.eks.{ctx.region}.amazonaws.com/id/{oidc_id}"}]}],
        "platformVersion": "eks.1",
        "status": "ACTIVE",
        "vpcConfig": {**ctx.inputs.get("vpcConfig", {}), "clusterSecurityGroupId": f"sg-{ctx.hex()}"},
    }


@resource("aws:eks/nodeGroup:NodeGroup")
def _eks_node_group(ctx: FakeContext) -> tuple[str, dict[str, Any]]:
    name = f"{ctx.name}-{ctx.hex(8)}"
    cluster = ctx.inputs.get("clusterName", "cluster")
    return f"{cluster}:{name}", {
        "nodeGroupName": name,
        "status": "ACTIVE",
        "arn": f"arn:aws:eks:{ctx.region}:{ACCOUNT_ID}:nodegroup/{cluster}/{name}",
    }


@invoke("aws:eks/getAddonVersion:getAddonVersion")
def _addon_version(args: dict[str, Any], region: str) -> dict[str, Any]:
    # Offline there is no EKS to ask: a version that says so, rather than a plausible invented one.
    version = f"offline-default-for-{args.get('kubernetesVersion', 'unknown')}"
    return {"addonName": args.get("addonName"), "version": version, "id": str(args.get("addonName"))}


@invoke("aws:index/getCallerIdentity:getCallerIdentity")
def _caller_identity(_: dict[str, Any], region: str) -> dict[str, Any]:
    return {
        "accountId": ACCOUNT_ID,
        "arn": f"arn:aws:iam::{ACCOUNT_ID}:user/offline-plan",
        "userId": "AIDAOFFLINE",
        "id": ACCOUNT_ID,
    }


@invoke("aws:index/getPartition:getPartition")
def _partition(_: dict[str, Any], region: str) -> dict[str, Any]:
    return {
        "partition": "aws",
        "dnsSuffix": "amazonaws.com",
        "reverseDnsPrefix": "com.amazonaws",
        "id": "aws",
    }


@invoke("aws:index/getRegion:getRegion")
def _region(_: dict[str, Any], region: str) -> dict[str, Any]:
    return {
        "name": region,
        "region": region,
        "id": region,
        "endpoint": f"ec2.{region}.amazonaws.com",
        "description": region,
    }


@invoke("aws:index/getAvailabilityZones:getAvailabilityZones")
def _zones(_: dict[str, Any], region: str) -> dict[str, Any]:
    letters = "abc"
    return {
        "names": [f"{region}{x}" for x in letters],
        "zoneIds": [f"{region}-az{i + 1}" for i in range(3)],
        "groupNames": [region],
        "id": region,
    }
