"""The lepton-infra Pulumi program: read the stack's platform config, validate it, build the Platform."""

from lepton_infra.program import main

main()
