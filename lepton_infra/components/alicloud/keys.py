"""AlicloudKmsKey: the site's customer master key, for ACK secrets, node disks and OSS artifacts."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_alicloud as alicloud

from lepton_infra.components.args import refuse_args
from lepton_infra.validation import alicloud_kms_alias, at, matches, within

# Days KMS may wait before deleting a key whose deletion is scheduled (KMS ScheduleKeyDeletion).
PENDING_WINDOW_DAYS = (7, 366)


@dataclass(frozen=True)
class AlicloudKmsKeyArgs:
    """The inputs of an AlicloudKmsKey."""

    description: str
    """What the key protects, as the KMS console shows it."""
    alias: str
    """The key's alias without the ``alias/`` prefix (added here): 1 to 255 letters, digits, ``_``, ``-`` and
    ``/``."""
    kms_instance_id: str | None = None
    """The KMS instance (``kst-...``) to create the key in. None creates the region's default key, of which an
    account has one per region: a second site (or stack) in the same region needs an instance."""
    pending_window_days: int = 30
    """Days a scheduled deletion waits, 7 to 366, before the key and everything encrypted with it is gone."""
    protect: bool = True
    """Protect the key from deletion by Pulumi, and turn on KMS's own deletion protection, which refuses to
    schedule its deletion by any means."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags on the key."""

    def __post_init__(self) -> None:
        refuse_args(
            self,
            [
                *at("alias", alicloud_kms_alias(self.alias)),
                *at(
                    "kms_instance_id",
                    matches(self.kms_instance_id, r"kst-\w+", "a KMS instance ID (kst-...)"),
                ),
                *at("pending_window_days", within(self.pending_window_days, *PENDING_WINDOW_DAYS, "days")),
            ],
        )


class AlicloudKmsKey(pulumi.ComponentResource):
    """A symmetric AES-256 KMS key with yearly automatic rotation, a pending-deletion window, KMS deletion
    protection (when ``protect``) and an ``alias/...`` alias.

    Two kinds of key exist (KMS, "Manage keys": https://www.alibabacloud.com/help/en/kms/user-guide/manage-keys-2):
    without ``kms_instance_id`` this is the region's *default key* of the CMK type, free, one per region and
    account ("If you need to create multiple keys, we recommend that you purchase a KMS instance"), which
    takes no key policy: RAM policies alone decide who uses it; with one it is an *instance key* in that KMS
    instance, as many as the instance allows. ACK, ECS and OSS use it through their service roles
    (AliyunCSManagedSecurityRole, AliyunECSDiskEncryptDefaultRole), which an account authorizes once.
    """

    key_id: pulumi.Output[str]
    """ID of the key: what ACK (secrets), node disks and OSS (SSE-KMS) are given."""
    arn: pulumi.Output[str]
    """ARN of the key (``acs:kms:<region>:<account>:key/<id>``): what a RAM policy names."""
    alias_name: pulumi.Output[str]
    """The key's alias, ``alias/<alias>``."""

    def __init__(
        self, name: str, args: AlicloudKmsKeyArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("lepton:alicloud:KmsKey", name, None, opts)
        key = alicloud.kms.Key(
            f"{name}-key",
            alicloud.kms.KeyArgs(
                description=args.description,
                dkms_instance_id=args.kms_instance_id,
                key_spec="Aliyun_AES_256",
                key_usage="ENCRYPT/DECRYPT",
                origin="Aliyun_KMS",
                automatic_rotation="Enabled",
                # Default keys rotate only on a fixed 365-day period; instance keys keep the same.
                rotation_interval="365d",
                pending_window_in_days=args.pending_window_days,
                deletion_protection="Enabled" if args.protect else "Disabled",
                tags=dict(args.tags),
            ),
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect),
        )
        alias = alicloud.kms.Alias(
            f"{name}-alias",
            alicloud.kms.AliasArgs(alias_name=f"alias/{args.alias}", key_id=key.id),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.key_id = key.id
        self.arn = key.arn
        self.alias_name = alias.alias_name
        self.register_outputs({"key_id": self.key_id, "arn": self.arn, "alias_name": self.alias_name})
