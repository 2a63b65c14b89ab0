"""Alibaba Cloud: IDs, ARNs and endpoints shaped as Alibaba Cloud returns them."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from lepton_infra.plan.fakes import DEFAULT_FAKERS, REGION_INPUTS, FakeContext, invoke, resource

REGION_INPUTS["pulumi:providers:alicloud"] = "region"

# Alibaba Cloud account IDs (UIDs) have 16 digits; AWS's 12-digit fake would not pass for one.
ALICLOUD_ACCOUNT_ID = "5123456789012345"
# Resource IDs: a type prefix, then a short region code and lowercase alphanumerics (vpc-bp1...).
_REGION_CODES = {"cn-hangzhou": "bp1", "cn-shanghai": "uf6", "cn-beijing": "2ze", "ap-southeast-1": "t4n"}


def _rid(prefix: str, ctx: FakeContext) -> str:
    return f"{prefix}-{_REGION_CODES.get(ctx.region, 'gw8')}{ctx.hex(18)}"


def _default(ctx: FakeContext) -> tuple[str, dict[str, Any]]:
    kind = ctx.type.rsplit(":", 1)[-1].lower()
    return f"{kind[:6]}-{ctx.hex(16)}", {}


DEFAULT_FAKERS["alicloud:"] = _default


@resource("alicloud:vpc/network:Network")
def _vpc(ctx: FakeContext) -> tuple[str, dict[str, Any]]:
    identifier = _rid("vpc", ctx)
    return identifier, {
        "id": identifier,
        "routeTableId": _rid("vtb", ctx),
        "routerId": _rid("vrt", ctx),
        "status": "Available",
    }


@resource("alicloud:vpc/switch:Switch")
def _vswitch(ctx: FakeContext) -> tuple[str, dict[str, Any]]:
    identifier = _rid("vsw", ctx)
    return identifier, {"id": identifier, "status": "Available"}


@resource("alicloud:vpc/natGateway:NatGateway")
def _nat_gateway(ctx: FakeContext) -> tuple[str, dict[str, Any]]:
    identifier = _rid("ngw", ctx)
    tables = {"snatTableIds": _rid("stb", ctx), "forwardTableIds": _rid("ftb", ctx)}
    return identifier, {"id": identifier, **tables, "status": "Available"}


@resource("alicloud:ecs/eipAddress:EipAddress")
def _eip(ctx: FakeContext) -> tuple[str, dict[str, Any]]:
    # 203.0.113.0/24 is TEST-NET-3, a documentation range.
    identifier = _rid("eip", ctx)
    return identifier, {
        "id": identifier,
        "ipAddress": f"203.0.113.{int(ctx.hex(2), 16) % 250 + 1}",
        "status": "InUse",
    }


@resource("alicloud:ecs/eipAssociation:EipAssociation")
def _eip_association(ctx: FakeContext) -> tuple[str, dict[str, Any]]:
    return f"{ctx.inputs.get('allocationId', '')}:{ctx.inputs.get('instanceId', '')}", {}


@resource("alicloud:vpc/snatEntry:SnatEntry")
def _snat_entry(ctx: FakeContext) -> tuple[str, dict[str, Any]]:
    entry = f"snat-{ctx.hex(20)}"
    return f"{ctx.inputs.get('snatTableId', '')}:{entry}", {"snatEntryId": entry, "status": "Available"}


@resource("alicloud:kms/key:Key")
def _kms_key(ctx: FakeContext) -> tuple[str, dict[str, Any]]:
    h = ctx.hex(32)
    key_id = f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"
    return key_id, {
        "id": key_id,
        "arn": f"acs:kms:{ctx.region}:{ALICLOUD_ACCOUNT_ID}:key/{key_id}",
        "keyState": "Enabled",
        "primaryKeyVersion": ctx.hex(8),
    }


@resource("alicloud:kms/alias:Alias")
def _kms_alias(ctx: FakeContext) -> tuple[str, dict[str, Any]]:
    return str(ctx.inputs.get("aliasName", f"alias/{ctx.name}")), {}


@resource("alicloud:log/project:Project")
def _log_project(ctx: FakeContext) -> tuple[str, dict[str, Any]]:
    return str(ctx.inputs.get("projectName", ctx.name)), {"status": "Normal"}


def cluster_id(name: str) -> str:
    """ACK cluster IDs: ``c`` and 32 hex digits."""
    return "c" + hashlib.sha256(f"ack::{name}".encode()).hexdigest()[:32]


def _api_server_ip(identifier: str) -> str:
    return f"10.0.{int(identifier[1:3], 16) % 16}.{int(identifier[3:5], 16) % 250 + 2}"


@resource("alicloud:cs/managedKubernetes:ManagedKubernetes")
def _ack_cluster(ctx: FakeContext) -> tuple[str, dict[str, Any]]:
    identifier = cluster_id(str(ctx.inputs.get("name", ctx.name)))
    issuer = f"https://oidc-ack-{ctx.region}.oss-{ctx.region}.aliyuncs.com/{identifier}"
    return identifier, {
        "id": identifier,
        "rrsaMetadata": {
            "enabled": bool(ctx.inputs.get("enableRrsa")),
            "ramOidcProviderArn": f"acs:ram::{ALICLOUD_ACCOUNT_ID}:oidc-provider/ack-rrsa-{identifier}",
            "ramOidcProviderName": f"ack-rrsa-{identifier}",
            "rrsaOidcIssuerUrl": issuer,
        },
        "connections": [
            {
                "apiServerIntranet": f"https://{_api_server_ip(identifier)}:6443",
                "serviceDomain": f"*.{identifier}.{ctx.region}.alicontainer.com",
            }
        ],
        "slbId": _rid("lb", ctx),
        "slbIntranet": _api_server_ip(identifier),
        "securityGroupId": _rid("sg", ctx),
        "workerRamRoleName": f"KubernetesWorkerRole-{ctx.hex(8)}-{ctx.hex(4)}",
        "clusterSpec": ctx.inputs.get("clusterSpec", "ack.pro.small"),
    }


@resource("alicloud:cs/nodePool:NodePool")
def _node_pool(ctx: FakeContext) -> tuple[str, dict[str, Any]]:
    pool = f"np{ctx.hex(32)}"
    return f"{ctx.inputs.get('clusterId', '')}:{pool}", {
        "nodePoolId": pool,
        "scalingGroupId": _rid("asg", ctx),
    }


@resource("alicloud:cr/registryEnterpriseInstance:RegistryEnterpriseInstance")
def _registry(ctx: FakeContext) -> tuple[str, dict[str, Any]]:
    identifier = f"cri-{ctx.hex(16)}"
    return identifier, {"id": identifier, "regionId": ctx.region, "status": "RUNNING"}


@resource("alicloud:cs/registryEnterpriseNamespace:RegistryEnterpriseNamespace")
def _registry_namespace(ctx: FakeContext) -> tuple[str, dict[str, Any]]:
    return f"{ctx.inputs.get('instanceId', '')}:{ctx.inputs.get('name', ctx.name)}", {}


@resource("alicloud:cs/registryEnterpriseRepo:RegistryEnterpriseRepo")
def _registry_repo(ctx: FakeContext) -> tuple[str, dict[str, Any]]:
    instance, namespace = ctx.inputs.get("instanceId", ""), ctx.inputs.get("namespace", "")
    return f"{instance}:{namespace}:{ctx.inputs.get('name', ctx.name)}", {"repoId": f"crr-{ctx.hex(16)}"}


@resource("alicloud:cr/scanRule:ScanRule")
def _scan_rule(ctx: FakeContext) -> tuple[str, dict[str, Any]]:
    rule = f"crscnr-{ctx.hex(16)}"
    return f"{ctx.inputs.get('instanceId', '')}:{rule}", {"scanRuleId": rule}


@resource("alicloud:oss/bucket:Bucket")
def _oss_bucket(ctx: FakeContext) -> tuple[str, dict[str, Any]]:
    name = str(ctx.inputs.get("bucket") or f"{ctx.name}-{ctx.hex(8)}")
    return name, {
        "bucket": name,
        "location": f"oss-{ctx.region}",
        "extranetEndpoint": f"oss-{ctx.region}.aliyuncs.com",
        "intranetEndpoint": f"oss-{ctx.region}-internal.aliyuncs.com",
    }


@resource("alicloud:ram/role:Role")
def _ram_role(ctx: FakeContext) -> tuple[str, dict[str, Any]]:
    name = str(ctx.inputs.get("roleName") or ctx.name)
    # RAM writes role names in lowercase inside ARNs.
    return name, {
        "roleName": name,
        "arn": f"acs:ram::{ALICLOUD_ACCOUNT_ID}:role/{name.lower()}",
        "roleId": str(int(ctx.hex(15), 16))[:19],
    }


@resource("alicloud:ram/policy:Policy")
def _ram_policy(ctx: FakeContext) -> tuple[str, dict[str, Any]]:
    name = str(ctx.inputs.get("policyName") or ctx.name)
    return name, {"policyName": name, "type": "Custom", "defaultVersion": "v1"}


@resource("alicloud:ram/rolePolicyAttachment:RolePolicyAttachment")
def _role_policy_attachment(ctx: FakeContext) -> tuple[str, dict[str, Any]]:
    inputs = ctx.inputs
    return f"role:{inputs.get('policyName')}:{inputs.get('policyType')}:{inputs.get('roleName')}", {}


@invoke("alicloud:index/getAccount:getAccount")
def _account(_: dict[str, Any], region: str) -> dict[str, Any]:
    return {"id": ALICLOUD_ACCOUNT_ID}


@invoke("alicloud:index/getZones:getZones")
def _zones(_: dict[str, Any], region: str) -> dict[str, Any]:
    # Mainland zones add a dash and a letter (cn-hangzhou-h); others append the letter (ap-southeast-1a).
    ids = [f"{region}-{x}" for x in "hijk"] if region.startswith("cn-") else [f"{region}{x}" for x in "abc"]
    return {
        "ids": ids,
        "id": region,
        "zones": [
            {"id": z, "localName": z, "availableResourceCreations": ["VSwitch", "Instance", "Disk"]}
            for z in ids
        ],
    }


@invoke("alicloud:cs/getClusterCredential:getClusterCredential")
def _cluster_credential(args: dict[str, Any], region: str) -> dict[str, Any]:
    identifier = str(args.get("clusterId", ""))
    server = f"https://{_api_server_ip(identifier)}:6443" if identifier else "https://10.0.0.2:6443"
    kubeconfig = json.dumps(
        {
            "apiVersion": "v1",
            "kind": "Config",
            "current-context": identifier,
            "clusters": [
                {"name": identifier, "cluster": {"server": server, "certificate-authority-data": "TU9DSw=="}}
            ],
            "contexts": [{"name": identifier, "context": {"cluster": identifier, "user": identifier}}],
            "users": [
                {
                    "name": identifier,
                    "user": {"client-certificate-data": "TU9DSw==", "client-key-data": "TU9DSw=="},
                }
            ],
        }
    )
    return {
        "clusterId": identifier,
        "clusterName": identifier,
        "id": identifier,
        "kubeConfig": kubeconfig,
        "expiration": "2099-01-01T00:00:00Z",
        "certificateAuthorities": [
            {"clusterCert": "TU9DSw==", "clientCert": "TU9DSw==", "clientKey": "TU9DSw=="}
        ],
    }
