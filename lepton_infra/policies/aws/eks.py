"""Amazon EKS control plane: private API, secrets encrypted with our KMS key, audit logging."""

from __future__ import annotations

from collections.abc import Iterator

from lepton_infra.policies.joins import Owners
from lepton_infra.policies.networks import CIDR_SETTINGS, api_allowlist_problems, version_check
from lepton_infra.policies.rule import Outcome, Subject, checkov, cis_eks, resource_policy, view_policy
from lepton_infra.policies.settings import PolicySettings
from lepton_infra.policies.values import as_list, get, is_set, is_true, is_unknown, read
from lepton_infra.policies.view import Finding, Resource, Stack

CLUSTER = "aws:eks/cluster:Cluster"
KMS_KEY = "aws:kms/key:Key"


@resource_policy(
    name="aws-eks-cluster-disallow-public-endpoint",
    types=(CLUSTER,),
    severity="high",
    description="The EKS API endpoint must be private, or public only to an allowlist of CIDRs.",
    remediation=(
        "Set `vpcConfig.endpointPublicAccess: false` and `endpointPrivateAccess: true`, or list the "
        "admin networks in `vpcConfig.publicAccessCidrs`."
    ),
    controls=(*cis_eks("5.4.1"), *cis_eks("5.4.2"), *checkov("CKV_AWS_39", "CKV_AWS_38")),
    config=("allowedApiCidrs", *CIDR_SETTINGS),
)
def disallow_public_endpoint(r: Subject, settings: PolicySettings) -> Iterator[Outcome]:
    vpc = get(r.props, "vpcConfig", default={})
    if get(vpc, "endpointPrivateAccess") is not True:
        yield "private endpoint access is off: nodes reach the API over the internet"
    # EKS turns the public endpoint on when the input is absent.
    if get(vpc, "endpointPublicAccess", default=True) is not False:
        yield from api_allowlist_problems(
            as_list(get(vpc, "publicAccessCidrs")), settings.allowed_api_cidrs, settings
        )


@resource_policy(
    name="aws-eks-cluster-secrets-encrypted",
    types=(CLUSTER,),
    severity="high",
    description="EKS must envelope-encrypt Kubernetes secrets with a customer-managed KMS key.",
    remediation="Set `encryptionConfig: {resources: [secrets], provider: {keyArn: <your KMS key ARN>}}`.",
    controls=(*cis_eks("5.3.1"), *checkov("CKV_AWS_58")),
)
def secrets_encrypted(r: Subject, settings: PolicySettings) -> Iterator[Outcome]:
    config = get(r.props, "encryptionConfig")
    if config is None:
        yield "secrets are not envelope-encrypted (no encryptionConfig)"
        return
    if "secrets" not in [str(x) for x in as_list(get(config, "resources"))]:
        yield "encryptionConfig does not cover the `secrets` resource"
    if not is_set(config, "provider", "keyArn"):
        yield "encryptionConfig names no KMS key"


@resource_policy(
    name="aws-eks-cluster-control-plane-logging",
    types=(CLUSTER,),
    severity="medium",
    description="EKS must send its control-plane logs (audit included) to CloudWatch.",
    remediation="Set `enabledClusterLogTypes` to api, audit, authenticator, controllerManager and scheduler.",
    controls=(*cis_eks("2.1.1"), *checkov("CKV_AWS_37")),
    config=("requiredEksLogTypes",),
)
def control_plane_logging(r: Subject, settings: PolicySettings) -> Iterator[Outcome]:
    enabled = {str(t) for t in as_list(get(r.props, "enabledClusterLogTypes"))}
    missing = [t for t in settings.required_eks_log_types if t not in enabled]
    if missing:
        yield f"control-plane log types not enabled: {', '.join(missing)}"


def _key_arn(cluster: Resource) -> str | None:
    value = read(cluster.props, "encryptionConfig", "provider", "keyArn")
    return str(value) if value is not None and not is_unknown(value) else None


@view_policy(
    name="aws-eks-cluster-secrets-key-customer-managed",
    severity="high",
    description=(
        "The KMS key that encrypts an EKS cluster's secrets must be a customer-managed key of this "
        "stack that rotates."
    ),
    remediation=(
        "Create an `aws.kms.Key` with `enableKeyRotation: true` next to the cluster and pass its ARN "
        "as `encryptionConfig.provider.keyArn`."
    ),
    controls=(*cis_eks("5.3.1"),),
)
def secrets_key_customer_managed(stack: Stack, _settings: PolicySettings) -> Iterator[Finding]:
    keys = Owners(stack.of_type(KMS_KEY), keys=("arn", "keyId", "id"))
    for cluster in stack.of_type(CLUSTER):
        if get(cluster.props, "encryptionConfig") is None:
            continue
        key = keys.referenced(cluster, "encryptionConfig", path=("provider", "keyArn"))
        arn = _key_arn(cluster)
        if key is None:
            if arn is not None and ":alias/aws/" in arn:
                yield Finding(
                    f"secrets are encrypted with the AWS-managed key {arn}, not a customer key", cluster.urn
                )
            continue
        rotation = read(key.props, "enableKeyRotation")
        if is_unknown(rotation):  # computed, or a secret the plan does not show: not "off"
            note = f"whether KMS key {key.name} rotates can't be read from the plan"
            yield Finding(note, cluster.urn, undecided=True)
        elif not is_true(rotation):
            yield Finding(f"the cluster's KMS key {key.name} does not rotate", cluster.urn)


supported_version = resource_policy(
    name="aws-eks-cluster-supported-version",
    types=(CLUSTER,),
    severity="high",
    description="EKS clusters must run a Kubernetes version the cloud still supports.",
    remediation=(
        "Upgrade the site's `kubernetes_version` one minor at a time "
        "(https://docs.aws.amazon.com/eks/latest/userguide/kubernetes-versions.html)."
    ),
    controls=checkov("CKV_AWS_339"),
    config=("minKubernetesVersion",),
)(version_check("version"))


@resource_policy(
    name="aws-eks-cluster-access-entries",
    types=(CLUSTER,),
    severity="high",
    description=(
        "EKS clusters must grant access through access entries (authenticationMode API), not the "
        "aws-auth ConfigMap."
    ),
    remediation=(
        "Set `accessConfig.authenticationMode: API` and grant each principal an `aws.eks.AccessEntry` "
        "with the narrowest access policy "
        "(https://docs.aws.amazon.com/eks/latest/userguide/grant-k8s-access.html)."
    ),
)
def access_entries(r: Subject, _: PolicySettings) -> Iterator[Outcome]:
    # Without accessConfig, EKS keeps the aws-auth ConfigMap (CONFIG_MAP) as the only way in.
    mode = get(r.props, "accessConfig", "authenticationMode", default="CONFIG_MAP")
    if mode != "API":
        yield f"authenticationMode is {mode}: the aws-auth ConfigMap grants cluster access outside IAM's view"


POLICIES = (
    disallow_public_endpoint,
    secrets_encrypted,
    control_plane_logging,
    secrets_key_customer_managed,
    supported_version,
    access_entries,
)
