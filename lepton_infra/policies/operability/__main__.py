"""The operability pack the Pulumi CLI runs:
``pulumi preview --policy-pack lepton_infra/policies/operability``.

Its config comes from the same file as the security pack's (``LEPTON_POLICY_CONFIG``, or
``--policy-pack-config`` given to the CLI): enforcement and exemptions are per policy name, and the two
packs' names never collide.
"""

from __future__ import annotations

import os
from pathlib import Path

from pulumi_policy import PolicyPack

from lepton_infra.policies.config import load_config
from lepton_infra.policies.operability.registry import PACK_NAME, all_policies
from lepton_infra.policies.pack import to_pulumi_policies
from lepton_infra.policies.registry import all_policies as security_policies


def main() -> None:
    config_file = os.environ.get("LEPTON_POLICY_CONFIG")
    config = load_config(Path(config_file)) if config_file else None
    rules = all_policies()
    if config is not None:  # one file configures both packs
        config.check_names((*rules, *security_policies()), source=config_file or "policy config")
    PolicyPack(
        name=PACK_NAME,
        policies=to_pulumi_policies(rules),
        initial_config=(
            config.to_pulumi_config(rules, validate=False) if config else None  # type: ignore[arg-type]
        ),
        description=(
            "lepton-infra: will the platform run? scheduling, capacity, cluster services, deployability"
        ),
    )


if __name__ == "__main__":
    main()
