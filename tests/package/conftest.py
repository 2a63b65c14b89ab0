"""The package schema, inferred once per session as the provider infers it; the engine and provider plugin
a module's Construct tests talk to."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from provider_harness import FakeEngine

from lepton_infra.package.host import package_schema


@pytest.fixture(scope="session")
def schema() -> dict[str, Any]:
    return package_schema()


@pytest.fixture(scope="module")
def engine() -> Iterator[FakeEngine]:
    """A fake engine and the provider plugin it started, for one test module."""
    fake = FakeEngine()
    yield fake
    fake.close()
