import sys
from pathlib import Path

# The operability tests share the security pack's fixture machinery (tests/policies/policy_fixtures.py).
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "policies"))
