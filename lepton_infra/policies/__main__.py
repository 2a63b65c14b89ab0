"""The policy pack the Pulumi CLI runs: ``pulumi preview --policy-pack lepton_infra/policies``.

Optional pack config for the settings our policies read (allowlists, exemptions, enforcement) comes from
the file named by ``LEPTON_POLICY_CONFIG``, the same file ``lepton-infra check --policy-config`` reads;
``--policy-pack-config`` given to the CLI still overrides it.
"""

from __future__ import annotations

import os
from pathlib import Path

from pulumi_policy import PolicyPack

from lepton_infra.policies.config import load_config
from lepton_infra.policies.operability.registry import all_policies as operability_policies
from lepton_infra.policies.pack import PACK_NAME, to_pulumi_policies
from lepton_infra.policies.registry import all_policies


def main() -> None:
    config_file = os.environ.get("LEPTON_POLICY_CONFIG")
    config = load_config(Path(config_file)) if config_file else None
    specs = all_policies()
    if config is not None:  # one file configures both packs
        config.check_names((*specs, *operability_policies()), source=config_file or "policy config")
    PolicyPack(
        name=PACK_NAME,
        policies=to_pulumi_policies(specs),
        initial_config=(
            config.to_pulumi_config(specs, validate=False) if config else None  # type: ignore[arg-type]
        ),
        description="lepton-infra: cloud security, Kubernetes workload, GPU and governance policies",
    )


if __name__ == "__main__":
    main()
