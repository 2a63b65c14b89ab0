"""The package schema, inferred once per session as the provider infers it."""

from __future__ import annotations

from typing import Any

import pytest

from lepton_infra.package.host import package_schema


@pytest.fixture(scope="session")
def schema() -> dict[str, Any]:
    return package_schema()
