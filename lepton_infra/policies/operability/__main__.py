"""The operability pack the Pulumi CLI runs:
``pulumi preview --policy-pack lepton_infra/policies/operability``.

Its config comes from the same file as the security pack's (``LEPTON_POLICY_CONFIG``, or
``--policy-pack-config`` given to the CLI): enforcement and exemptions are per policy name, and the two
packs' names never collide.
"""

from __future__ import annotations

from lepton_infra.policies.operability.registry import PACK_NAME, all_policies
from lepton_infra.policies.pack import serve_pack
from lepton_infra.policies.registry import all_policies as security_policies


def main() -> None:
    rules = all_policies()
    serve_pack(
        PACK_NAME,
        rules,
        (*rules, *security_policies()),
        "lepton-infra: will the platform run? scheduling, capacity, cluster services, deployability",
    )


if __name__ == "__main__":
    main()
