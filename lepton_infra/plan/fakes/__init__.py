"""Realistic outputs for resources and invokes under mocks, per cloud, so that a plan reads like a deploy.

Each cloud module registers functions by type token (resources) or function token (invokes).
Outputs are derived from a hash of the resource's name, so the same program gives the same plan.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

ACCOUNT_ID = "123456789012"


@dataclass(frozen=True)
class FakeContext:
    type: str
    name: str
    inputs: dict[str, Any]
    region: str

    def hex(self, length: int = 17) -> str:
        return hashlib.sha256(f"{self.type}::{self.name}".encode()).hexdigest()[:length]


ResourceFaker = Callable[[FakeContext], tuple[str, dict[str, Any]]]
InvokeFaker = Callable[[dict[str, Any], str], dict[str, Any]]

RESOURCE_FAKERS: dict[str, ResourceFaker] = {}
INVOKE_FAKERS: dict[str, InvokeFaker] = {}
# Per provider package prefix ("aws:"), the faker for types without their own entry.
DEFAULT_FAKERS: dict[str, ResourceFaker] = {}
# Provider type ("pulumi:providers:aws") → the input naming its region or location.
REGION_INPUTS: dict[str, str] = {}


def resource(*types: str) -> Callable[[ResourceFaker], ResourceFaker]:
    def register(faker: ResourceFaker) -> ResourceFaker:
        for token in types:
            RESOURCE_FAKERS[token] = faker
        return faker

    return register


def invoke(*tokens: str) -> Callable[[InvokeFaker], InvokeFaker]:
    def register(faker: InvokeFaker) -> InvokeFaker:
        for token in tokens:
            INVOKE_FAKERS[token] = faker
        return faker

    return register
