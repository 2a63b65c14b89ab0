"""The policy pack the Pulumi CLI runs: ``pulumi preview --policy-pack lepton_infra/policies``.

Optional pack config for the settings our policies read (allowlists, exemptions, enforcement) comes from
the file named by ``LEPTON_POLICY_CONFIG``, the same file ``lepton-infra check --policy-config`` reads;
``--policy-pack-config`` given to the CLI still overrides it.
"""

from __future__ import annotations

from lepton_infra.policies.operability.registry import all_policies as operability_policies
from lepton_infra.policies.pack import serve_pack
from lepton_infra.policies.registry import PACK_NAME, all_policies


def main() -> None:
    rules = all_policies()
    serve_pack(
        PACK_NAME,
        rules,
        (*rules, *operability_policies()),
        "lepton-infra: cloud security, Kubernetes workload, GPU and governance policies",
    )


if __name__ == "__main__":
    main()
