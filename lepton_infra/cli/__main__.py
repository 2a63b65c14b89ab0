"""``python -m lepton_infra.cli``: the same command as the ``lepton-infra`` entry point."""

import sys

from lepton_infra.cli import main

sys.exit(main())
