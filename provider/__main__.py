"""lepton-infra's provider plugin: the entry point the Python language host runs for PulumiPlugin.yaml.

The host runs ``python <this directory> <engine address> [flags]``; it prints its port and serves Construct,
GetSchema and GetPluginInfo for every component of ``lepton_infra.package``.
"""

import sys

from lepton_infra.package.host import serve

if __name__ == "__main__":
    serve(sys.argv[1:])
